"""Logins between the redirection to PSC and the callback, kept server-side in MongoDB.

The state, nonce and PKCE verifier never leave the server. A login is bound to the browser that
started it by a random cookie whose digest is stored with it (an attacker cannot make a victim's
browser complete the attacker's login), lives ``LOGIN_TTL`` and is taken once (``find_one_and_delete``),
so a replayed callback finds nothing. Several server processes share the collection.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from facades.psc import PendingLogin
from resources.search.date import now_utc
from server.access.collections import SESSIONS as WORKBENCH_SESSIONS

COLLECTION = "psc_logins"
SESSIONS = "psc_sessions"
LOGIN_TTL = timedelta(minutes=10)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


async def keep(db: AsyncDatabase[Any], pending: PendingLogin, browser: str) -> None:
    now = now_utc()
    await db[COLLECTION].delete_many({"expires": {"$lt": now}})
    await db[COLLECTION].insert_one({"_id": digest(pending.state), "nonce": pending.nonce,
                                     "verifier": pending.code_verifier, "browser": digest(browser),
                                     "created": now, "expires": now + LOGIN_TTL})


async def take(db: AsyncDatabase[Any], state: str, browser: str | None) -> PendingLogin | None:
    """The login of ``state`` if this browser started it and it has not expired; it is consumed."""
    if not state:
        return None
    doc = await db[COLLECTION].find_one_and_delete({"_id": digest(state)})
    if doc is None or doc["expires"] < now_utc() or not browser or doc["browser"] != digest(browser):
        return None
    return PendingLogin(state, doc["nonce"], doc["verifier"], "", doc["created"].timestamp())


async def remember_id_token(db: AsyncDatabase[Any], csrf: str, user: str, id_token: str,
                            professional: dict[str, str], lifetime: timedelta) -> None:
    """The ID token (for the logout's ``id_token_hint``) and the professional as PSC described them (for the
    VIHF of INSi calls, SGL.INS.48), keyed by the session's CSRF token digest, for the session's lifetime."""
    now = now_utc()
    await db[SESSIONS].insert_one({"_id": digest(csrf), "user": user, "id_token": id_token,
                                   "professional": professional, "created": now, "expires": now + lifetime})


async def professional_of(db: AsyncDatabase[Any], user: str) -> dict[str, str] | None:
    """The professional of the user's PSC login, when the user's most recent live workbench session was opened
    through PSC (None after a password login: that session proves nothing about PSC). Calls are not tied to one
    session (the caller carries none), hence "most recent"."""
    now = now_utc()
    live = {"user": user, "expires": {"$gt": now}}
    async for latest in db[WORKBENCH_SESSIONS].find(live).sort("created", -1).limit(1):
        if latest.get("method") != "psc":
            return None
    async for doc in db[SESSIONS].find(live).sort("created", -1).limit(1):
        found: dict[str, str] = doc.get("professional") or {}
        return found or None
    return None


async def forget_id_token(db: AsyncDatabase[Any], csrf: str | None) -> str | None:
    if not csrf:
        return None
    doc = await db[SESSIONS].find_one_and_delete({"_id": digest(csrf)})
    return str(doc["id_token"]) if doc else None
