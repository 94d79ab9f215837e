"""The MongoDB collections of access control (not FHIR resources: the generic FHIR routes never
reach them, an unknown resource type answers 404) and their indexes."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

USERS = "access_users"
CLIENTS = "access_clients"
TOKENS = "access_tokens"
SESSIONS = "access_sessions"
LOGIN_FAILURES = "access_login_failures"


async def ensure_access_indexes(db: AsyncDatabase[Any]) -> None:
    await db[USERS].create_index("rpps", sparse=True)
    await db[TOKENS].create_index("subject")
    await db[TOKENS].create_index("refresh_hash", sparse=True)
    await db[SESSIONS].create_index("user")
