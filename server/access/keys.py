"""The key that signs access tokens (ES256): from ``SGL_JWT_KEY_FILE`` if set (several servers on
one MongoDB share it), else generated at first start in ``<data dir>/access/jwt-signing-key.json``,
mode 0600, created atomically so a CLI command and the server never make two."""

from __future__ import annotations

import contextlib
import json
import os
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
        with contextlib.suppress(FileExistsError):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(key.as_dict(private=True), out)
    return ECKey.import_key(json.loads(path.read_text(encoding="utf-8")))
