"""``install_kit``: copy the ANS kit files the validator needs into place, each one checked against the
pinned manifest (SHA-256 and size) before anything is written.

Sources, all read the same way (one relative path -> bytes):

- a local directory holding a copy of the kit (``/srv/kits/TestContenuCDA-3-0``);
- an archive of it, local or at a URL: ``.zip``, ``.tar.gz``, ``.tgz`` (GitHub's archive of the pinned
  commit, ``DEFAULT_SOURCE``, has every path under one top folder, which is found automatically);
- a base URL (``http(s)://`` or ``file://``) under which each file is fetched by its relative path
  (``https://raw.githubusercontent.com/ansforge/TestContenuCDA-3-0/<commit>/``).

All or nothing: files are staged in a sibling temporary folder and the folder is swapped in only when
every file matched; a missing or corrupted file refuses the install (``KitInstallError`` listing
them) and leaves the previous kit, if any, untouched.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import quote, unquote, urlparse

import httpx

from facades.cda.conformance.kit_files import Manifest, load_manifest
from facades.cda.errors import KitError

UPSTREAM_COMMIT = "7cd489b39368809df9bcf2cfef5e5d6354438a02"
DEFAULT_SOURCE = f"https://github.com/ansforge/TestContenuCDA-3-0/archive/{UPSTREAM_COMMIT}.tar.gz"
MAX_ARCHIVE_BYTES = 200 * 1024 * 1024
MAX_FILE_BYTES = 20 * 1024 * 1024
TIMEOUT_S = 60.0
Reader = Callable[[str], bytes | None]


class KitInstallError(KitError):
    """The source cannot give every pinned file intact: nothing was installed."""


@dataclass(frozen=True)
class Installed:
    root: Path
    files: int
    size: int
    version: str


def _is_url(source: str) -> bool:
    return urlparse(source).scheme in ("http", "https", "file")


def _is_archive(source: str) -> bool:
    name = urlparse(source).path if _is_url(source) else source
    return name.endswith((".zip", ".tar.gz", ".tgz"))


def _download(url: str, limit: int) -> bytes:
    """The bytes at ``url`` (``file://`` read from disk), refused beyond ``limit``."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        path = Path(unquote(parsed.path))
        if not path.is_file():
            raise FileNotFoundError(str(path))
        if path.stat().st_size > limit:
            raise KitInstallError(f"{url} is larger than {limit} bytes", expression=url)
        return path.read_bytes()
    with httpx.stream("GET", url, timeout=TIMEOUT_S, follow_redirects=True) as answer:
        if answer.status_code == 404:
            raise FileNotFoundError(url)
        answer.raise_for_status()
        out = bytearray()
        for chunk in answer.iter_bytes():
            out += chunk
            if len(out) > limit:
                raise KitInstallError(f"{url} is larger than {limit} bytes", expression=url)
        return bytes(out)


def _prefix(names: set[str], wanted: set[str]) -> str:
    """The single top folder GitHub archives put every path under (``TestContenuCDA-3-0-<commit>/``), if any."""
    if wanted & names:
        return ""
    for top in sorted({PurePosixPath(name).parts[0] for name in names if "/" in name}):
        if wanted & {name.removeprefix(f"{top}/") for name in names}:
            return f"{top}/"
    return ""


def _archive_files(data: bytes, wanted: set[str]) -> dict[str, bytes]:
    """The wanted members of a zip or tar archive, by kit-relative path (each one bounded in size)."""
    out: dict[str, bytes] = {}
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = {i.filename: i for i in archive.infolist() if not i.is_dir()}
            prefix = _prefix(set(infos), wanted)
            for rel in wanted:
                info = infos.get(prefix + rel)
                if info is not None and info.file_size <= MAX_FILE_BYTES:
                    out[rel] = archive.read(info)
        return out
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
        members = {m.name: m for m in tar.getmembers() if m.isfile()}
        prefix = _prefix(set(members), wanted)
        for rel in wanted:
            member = members.get(prefix + rel)
            handle = tar.extractfile(member) if member is not None and member.size <= MAX_FILE_BYTES else None
            if handle is not None:
                out[rel] = handle.read()
    return out


def _reader(source: str, wanted: set[str]) -> Reader:
    if _is_archive(source):
        try:
            data = _download(source, MAX_ARCHIVE_BYTES) if _is_url(source) else Path(source).read_bytes()
        except (OSError, httpx.HTTPError) as exc:
            raise KitInstallError(f"cannot read the kit archive {source}: {exc}", expression=source) from exc
        try:
            files = _archive_files(data, wanted)
        except (zipfile.BadZipFile, tarfile.TarError) as exc:
            raise KitInstallError(f"{source} is not a readable zip or tar archive: {exc}", expression=source) from exc
        return files.get
    if _is_url(source):
        base = source if source.endswith("/") else source + "/"

        def from_url(rel: str) -> bytes | None:
            try:
                return _download(base + quote(rel), MAX_FILE_BYTES)
            except FileNotFoundError:
                return None
        return from_url
    root = Path(source)
    if not root.is_dir():
        raise KitInstallError(f"kit source {source} is neither a folder, an archive nor a URL", expression=source)

    def from_dir(rel: str) -> bytes | None:
        path = root / rel
        return path.read_bytes() if path.is_file() else None
    return from_dir


def install_kit(source: str, dest: Path, manifest: Manifest | None = None) -> Installed:
    """Install the manifest's files from ``source`` into ``dest``; ``KitInstallError`` if one is missing or
    does not match its checksum (nothing written then)."""
    manifest = manifest or load_manifest()
    read = _reader(source, {e.path for e in manifest.entries})
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    missing: list[str] = []
    corrupted: list[str] = []
    try:
        for entry in manifest.entries:
            try:
                data = read(entry.path)
            except (OSError, httpx.HTTPError) as exc:
                raise KitInstallError(f"cannot read {entry.path} from {source}: {exc}", expression=entry.path) from exc
            if data is None:
                missing.append(entry.path)
                continue
            if len(data) != entry.size or hashlib.sha256(data).hexdigest() != entry.sha256:
                corrupted.append(entry.path)
                continue
            target = staging / entry.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        if missing or corrupted:
            problems = ([f"{len(corrupted)} file(s) fail their SHA-256 check: {', '.join(corrupted[:5])}"]
                        if corrupted else []) + ([f"{len(missing)} file(s) missing: {', '.join(missing[:5])}"]
                                                 if missing else [])
            raise KitInstallError(f"kit from {source} refused, nothing installed ({manifest.version} expected): "
                                  + "; ".join(problems), expression=(corrupted or missing)[:5])
        _swap(staging, dest)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return Installed(dest, len(manifest.entries), sum(e.size for e in manifest.entries), manifest.version)


def _swap(staging: Path, dest: Path) -> None:
    """Replace ``dest`` by ``staging`` (the old copy removed only once the new one is in place)."""
    old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
    if dest.exists():
        dest.rename(old)
    staging.rename(dest)
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)
