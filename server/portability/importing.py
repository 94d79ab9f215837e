"""``sgl import``: an export (``manifest.json`` + ``<Type>.ndjson``) read back into an empty store.

Two passes over the files, one line at a time: the first checks every line (JSON, the manifest's type,
an id) and refuses the whole import with the file and line number of the first bad one; the second
writes, in bulk, each resource under its own id (version 1 in the new store; the content is the same,
which ``content_hash`` compares). A store that already holds resources of an exported type is refused:
an import never mixes with or overwrites existing data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from resources.errors import InvalidInput
from resources.fhirjson import DOCUMENT_MAX_ITEMS, loads
from resources.search.params import RESOURCE_TYPES
from resources.store.mongo import MongoFhirStore

BATCH = 500


def _outputs(directory: Path) -> list[tuple[str, Path]]:
    manifest_path = directory / "manifest.json"
    if not manifest_path.exists():
        raise InvalidInput(f"{manifest_path}: no manifest.json (not an export directory)")
    manifest = orjson.loads(manifest_path.read_bytes())
    out = []
    for item in manifest.get("output", []):
        rtype, name = item.get("type"), str(item.get("url", "")).rsplit("/", 1)[-1]
        if rtype not in RESOURCE_TYPES:
            raise InvalidInput(f"manifest.json: type {rtype!r} is not a resource type of this server")
        out.append((rtype, directory / name))
    return out


def _lines(rtype: str, path: Path) -> Iterator[dict[str, Any]]:
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:  # exact decimals kept, a repeated key refused, as for a body posted to the API
                resource = loads(line, max_items=DOCUMENT_MAX_ITEMS)
            except InvalidInput as exc:
                raise InvalidInput(f"{path.name} line {number}: {exc}",
                                   expression=exc.expression or None) from exc
            if not isinstance(resource, dict) or resource.get("resourceType") != rtype or not resource.get("id"):
                raise InvalidInput(f"{path.name} line {number}: not a {rtype} with an id")
            yield resource


async def import_export(store: MongoFhirStore, directory: Path, *,
                        progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Check, then write; return the count per type."""
    outputs = _outputs(directory)
    for rtype, path in outputs:
        for _ in _lines(rtype, path):
            pass
        if await store.db[rtype].estimated_document_count():
            raise InvalidInput(f"the store already holds {rtype} resources: import into an empty store")
    counts: dict[str, int] = {}
    for rtype, path in outputs:
        batch: list[tuple[dict[str, Any], str | None]] = []
        for resource in _lines(rtype, path):
            batch.append((resource, resource["id"]))
            if len(batch) >= BATCH:
                await store.create_many(batch)
                counts[rtype] = counts.get(rtype, 0) + len(batch)
                batch = []
                if progress:
                    progress(rtype, counts[rtype])
        if batch:
            await store.create_many(batch)
            counts[rtype] = counts.get(rtype, 0) + len(batch)
        if progress:
            progress(rtype, counts.get(rtype, 0))
    return counts
