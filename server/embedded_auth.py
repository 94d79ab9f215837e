"""Credentials of the embedded SecantusDB: generated at the first start of a data dir, kept 0600 beside it.

The database runs with ``--auth`` so that another local account reaching its loopback port cannot read
patient data. The user is created by a one-off run without ``--auth`` (the only way SecantusDB
provisions users), before the data dir's database is started for real; the credentials file is
written only once the user exists, so a start interrupted half-way simply provisions again (with a
new random user) next time. The password is never logged, and never put in a URI (URIs get logged).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pymongo import MongoClient

log = logging.getLogger(__name__)
CREDENTIALS_FILE = "secantus-credentials.json"
AUTH_SOURCE = "admin"
AUTH_MECHANISM = "SCRAM-SHA-256"
ROLES = ("root",)


@dataclass(frozen=True)
class Credentials:
    user: str
    password: str

    def __repr__(self) -> str:  # a stray log of the object must not show the password
        return f"Credentials(user={self.user!r}, password=***)"

    def client_options(self) -> dict[str, Any]:
        """PyMongo keyword arguments that authenticate with these credentials."""
        return {"username": self.user, "password": self.password, "authSource": AUTH_SOURCE,
                "authMechanism": AUTH_MECHANISM}


def read_credentials(data_dir: Path) -> Credentials | None:
    """The data dir's credentials, or None if it has none yet (new, or made by an older version)."""
    try:
        info = json.loads((data_dir / CREDENTIALS_FILE).read_text())
    except FileNotFoundError:
        return None
    return Credentials(str(info["user"]), str(info["password"]))


def _write_credentials(data_dir: Path, credentials: Credentials) -> None:
    """Create the file 0600 from its first byte (O_EXCL: never over an existing one)."""
    fd = os.open(data_dir / CREDENTIALS_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump({"user": credentials.user, "password": credentials.password}, out)
        out.flush()
        os.fsync(out.fileno())


def provision_if_needed(data_dir: Path, unauthenticated_run: Callable[[Path], AbstractContextManager[int]]) -> None:
    """Give the data dir a database user if it has none. Call with the data dir lock held and its database
    stopped; ``unauthenticated_run`` starts it without ``--auth`` and yields its port."""
    if read_credentials(data_dir) is not None:
        return
    credentials = Credentials(f"sgl-{secrets.token_hex(4)}", secrets.token_urlsafe(32))
    log.info("provisioning the embedded SecantusDB of %s with database user %s", data_dir, credentials.user)
    with unauthenticated_run(data_dir) as port:
        client: MongoClient[dict[str, Any]] = MongoClient(host="127.0.0.1", port=port, directConnection=True,
                                                         serverSelectionTimeoutMS=10_000)
        with contextlib.closing(client):
            client.admin.command("createUser", credentials.user, pwd=credentials.password,
                                 roles=list(ROLES))
    _write_credentials(data_dir, credentials)
