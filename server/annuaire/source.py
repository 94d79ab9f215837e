"""Where a load reads from: a local file, or a URL downloaded first (streamed to a file under the data
directory, since a zip is read from its end). The ANS server's certificate is issued by the IGC-Santé
"élémentaire" root, which is not in the system CAs: give it with ``SGL_ANNUAIRE_CA``."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from facades.annuaire import ExtractionError

MAX_DOWNLOAD = 4 * 1024**3
TIMEOUT = httpx.Timeout(60.0, read=300.0)


def is_url(source: str) -> bool:
    return bool(re.match(r"^https?://", source))


async def fetch(url: str, directory: Path, *, ca: Path | None = None, chunk: int = 1 << 20) -> Path:
    """Download ``url`` into ``directory`` (replaced atomically when complete) and return the file."""
    directory.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9._-]", "_", url.rstrip("/").rsplit("/", 1)[-1]) or "extraction"
    target, partial = directory / name, directory / (name + ".part")
    verify: str | bool = str(ca) if ca else True
    async with httpx.AsyncClient(timeout=TIMEOUT, verify=verify, follow_redirects=True) as client:
        try:
            async with client.stream("GET", url) as answer:
                if answer.status_code != 200:
                    raise ExtractionError(f"{url}: HTTP {answer.status_code}")
                size = 0
                with partial.open("wb") as out:
                    async for block in answer.aiter_bytes(chunk):
                        size += len(block)
                        if size > MAX_DOWNLOAD:
                            raise ExtractionError(f"{url}: larger than {MAX_DOWNLOAD} bytes")
                        out.write(block)
        except httpx.HTTPError as exc:
            raise ExtractionError(f"{url}: {exc}") from exc
    partial.replace(target)
    return target
