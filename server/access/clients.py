"""API clients (OAuth 2.0 confidential clients, client credentials grant): a name, a role, the
Practitioner they act as, and a secret shown once and stored as an Argon2id hash."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from resources.search.date import now_utc
from server.access import recent
from server.access.accounts import AccountError
from server.access.collections import CLIENTS
from server.access.passwords import hash_secret, new_secret, verify_secret
from server.access.roles import check_role

_PRACTITIONER = re.compile(r"^Practitioner/[A-Za-z0-9\-.]{1,64}$")
_CLIENT_ID = re.compile(r"^sgl-[A-Za-z0-9_-]{16}$")


@dataclass(frozen=True)
class ApiClient:
    client_id: str
    name: str
    role: str
    status: str
    practitioner: str | None = None

    @property
    def active(self) -> bool:
        return self.status == "active"


def _client(doc: dict[str, Any]) -> ApiClient:
    return ApiClient(doc["_id"], doc["name"], doc["role"], doc.get("status", "active"), doc.get("practitioner"))


async def create_client(db: AsyncDatabase[Any], name: str, *, role: str,
                        practitioner: str | None = None) -> tuple[ApiClient, str]:
    """The new client and its secret (the only time the secret exists in clear)."""
    check_role(role)
    if not name or len(name) > 200:
        raise AccountError("a client name has 1-200 characters")
    if practitioner is not None and not _PRACTITIONER.match(practitioner):
        raise AccountError("--practitioner takes Practitioner/<id>")
    client_id, secret = "sgl-" + secrets.token_urlsafe(12), new_secret()
    doc = {"_id": client_id, "name": name, "role": role, "status": "active", "practitioner": practitioner,
           "secret": await hash_secret(secret), "created": now_utc()}
    await db[CLIENTS].insert_one(doc)
    return _client(doc), secret


async def find_client(db: AsyncDatabase[Any], client_id: str) -> ApiClient | None:
    if not isinstance(client_id, str) or not _CLIENT_ID.match(client_id):
        return None
    doc = await db[CLIENTS].find_one({"_id": client_id})
    return _client(doc) if doc else None


async def authenticate_client(db: AsyncDatabase[Any], client_id: str, secret: str) -> ApiClient | None:
    """The active client these credentials name, else None."""
    if not isinstance(client_id, str) or not _CLIENT_ID.match(client_id) or not secret:
        return None
    doc = await db[CLIENTS].find_one({"_id": client_id})
    if not doc or doc.get("status") != "active" or not await verify_secret(secret, doc["secret"]):
        return None
    return _client(doc)


async def list_clients(db: AsyncDatabase[Any]) -> list[ApiClient]:
    return [_client(d) async for d in db[CLIENTS].find({}).sort("created", 1)]


async def disable_client(db: AsyncDatabase[Any], client_id: str) -> bool:
    result = await db[CLIENTS].update_one({"_id": client_id}, {"$set": {"status": "disabled"}})
    recent.forget_all()
    return result.matched_count == 1
