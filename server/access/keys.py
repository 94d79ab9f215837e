"""The key that signs access tokens (ES256): from ``SGL_JWT_KEY_FILE`` if set (several servers on
one MongoDB share it), else generated at first start in ``<data dir>/access/jwt-signing-key.json``,
mode 0600, created atomically so a CLI command and the server never make two, and complete before it is visible:
two ``sgl serve`` started at once on one data dir (the multi-process set-up) read the same key, never an empty
file that the other had created and not yet written."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

from joserfc.jwk import ECKey

from server.settings import Settings

KEY_FILE = "jwt-signing-key.json"


def key_path(settings: Settings) -> Path:
    return settings.jwt_key_file or settings.data_dir / "access" / KEY_FILE


def signing_key(settings: Settings) -> ECKey:
    path = key_path(settings)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = ECKey.generate_key("P-256", private=True, auto_kid=True)
        _publish(path, json.dumps(key.as_dict(private=True)))
    return ECKey.import_key(json.loads(path.read_text(encoding="utf-8")))


def _publish(path: Path, text: str) -> None:
    """Write ``text`` to a private temporary file beside ``path``, sync it, then link it as ``path``: the link
    is atomic and fails when ``path`` exists, so the first writer wins and a reader sees a whole file or none."""
    fd, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(partial, path)
    finally:
        os.unlink(partial)
