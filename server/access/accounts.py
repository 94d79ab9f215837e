"""Local accounts (the "current login" SGL.PSC.01 keeps): users stored in MongoDB with a role, a
status, an optional RPPS and the Practitioner they are; Argon2id passwords; lockout after repeated
failures, whatever the user name (existing or not, so a name's existence never shows).

Pro Santé Connect (``facades/psc`` + the ``psc`` routes) finds the local user with
:func:`find_user_by_rpps` and opens the same session (``sessions.start_session``).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from resources.search.date import now_utc
from server.access import recent
from server.access.collections import LOGIN_FAILURES, USERS
from server.access.passwords import check_password_strength, hash_secret, verify_secret
from server.access.roles import check_role

MAX_FAILURES = 5
LOCK_DURATION = timedelta(minutes=15)
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_RPPS = re.compile(r"^\d{11}$")
_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2dsLWR1bW15LXNhbHQ$Fh0mQX0m0q0HqvYV9xgWxkX4u3k3b0VbKq6c9mDq0wA"
"""Checked when the user does not exist, so that a wrong name costs the same as a wrong password."""


class AccountError(ValueError):
    """A refused account operation (bad name, duplicate, weak password): the message says which."""


@dataclass(frozen=True)
class User:
    username: str
    role: str
    status: str
    name: str | None = None
    rpps: str | None = None
    practitioner: str | None = None

    @property
    def active(self) -> bool:
        return self.status == "active"


def check_username(username: Any) -> str:
    """A plain lower-case login; anything else (``{"$ne": ""}``, quotes, spaces) is refused before any query."""
    if not isinstance(username, str) or not _USERNAME.match(username):
        raise AccountError("a user name has 1-64 characters: lower-case letters, digits, '.', '_', '-'")
    return username


def _user(doc: dict[str, Any]) -> User:
    return User(doc["_id"], doc["role"], doc.get("status", "active"), doc.get("name"), doc.get("rpps"),
                doc.get("practitioner"))


async def create_user(db: AsyncDatabase[Any], username: str, password: str, *, role: str, name: str | None = None,
                      rpps: str | None = None, practitioner: str | None = None) -> User:
    check_username(username)
    check_role(role)
    check_password_strength(password)
    if rpps is not None and not _RPPS.match(rpps):
        raise AccountError("an RPPS number has 11 digits")
    if practitioner is not None and not re.match(r"^Practitioner/[A-Za-z0-9\-.]{1,64}$", practitioner):
        raise AccountError("--practitioner takes Practitioner/<id>")
    doc = {"_id": username, "role": role, "status": "active", "name": name, "rpps": rpps,
           "practitioner": practitioner, "password": await hash_secret(password), "created": now_utc()}
    try:
        await db[USERS].insert_one(doc)
    except DuplicateKeyError as exc:
        raise AccountError(f"the user {username!r} already exists") from exc
    return _user(doc)


async def find_user(db: AsyncDatabase[Any], username: str) -> User | None:
    try:
        check_username(username)
    except AccountError:
        return None
    doc = await db[USERS].find_one({"_id": username})
    return _user(doc) if doc else None


async def find_user_by_rpps(db: AsyncDatabase[Any], rpps: str) -> User | None:
    """The active local user with this RPPS (Pro Santé Connect account linking, EX PSC 18)."""
    if not isinstance(rpps, str) or not _RPPS.match(rpps):
        return None
    doc = await db[USERS].find_one({"rpps": rpps, "status": "active"})
    return _user(doc) if doc else None


async def list_users(db: AsyncDatabase[Any]) -> list[User]:
    return [_user(d) async for d in db[USERS].find({}).sort("_id", 1)]


async def set_status(db: AsyncDatabase[Any], username: str, status: str) -> bool:
    result = await db[USERS].update_one({"_id": check_username(username)}, {"$set": {"status": status}})
    recent.forget_all()  # the user's bearer tokens are checked again on their next request
    return result.matched_count == 1


async def set_role(db: AsyncDatabase[Any], username: str, role: str) -> bool:
    result = await db[USERS].update_one({"_id": check_username(username)}, {"$set": {"role": check_role(role)}})
    recent.forget_all()
    return result.matched_count == 1


async def count_active(db: AsyncDatabase[Any], role: str) -> int:
    return await db[USERS].count_documents({"role": role, "status": "active"})


async def set_password(db: AsyncDatabase[Any], username: str, password: str) -> bool:
    check_password_strength(password)
    result = await db[USERS].update_one({"_id": check_username(username)},
                                        {"$set": {"password": await hash_secret(password),
                                                  "password_changed": now_utc()}})
    await unlock(db, username)
    return result.matched_count == 1


async def unlock(db: AsyncDatabase[Any], username: str) -> None:
    await db[LOGIN_FAILURES].delete_one({"_id": username})


_SEEN_LOCKED: dict[str, tuple[float, datetime]] = {}
"""Locks this process saw, re-read after LOCK_CACHE_S: a flood of attempts on a locked name costs no
query, and ``sgl users unlock`` still takes effect on a running server within seconds."""
LOCK_CACHE_S = 3.0
_SEEN_MAX = 10_000


async def locked_until(db: AsyncDatabase[Any], username: str) -> datetime | None:
    seen = _SEEN_LOCKED.get(username)
    if seen and time.monotonic() - seen[0] < LOCK_CACHE_S and seen[1] > now_utc():
        return seen[1]
    doc = await db[LOGIN_FAILURES].find_one({"_id": username})
    until: datetime | None = doc.get("locked_until") if doc else None
    if until and until > now_utc():
        if len(_SEEN_LOCKED) >= _SEEN_MAX:
            _SEEN_LOCKED.clear()
        _SEEN_LOCKED[username] = (time.monotonic(), until)
        return until
    _SEEN_LOCKED.pop(username, None)
    return None


async def _failed(db: AsyncDatabase[Any], username: str) -> None:
    doc = await db[LOGIN_FAILURES].find_one_and_update(
        {"_id": username}, {"$inc": {"count": 1}, "$set": {"last": now_utc()}}, upsert=True,
        return_document=ReturnDocument.AFTER)
    if doc and doc.get("count", 0) >= MAX_FAILURES:
        await db[LOGIN_FAILURES].update_one({"_id": username},
                                            {"$set": {"locked_until": now_utc() + LOCK_DURATION, "count": 0}})


class LoginRefused(Exception):
    def __init__(self, reason: str, *, locked: datetime | None = None) -> None:
        super().__init__(reason)
        self.locked = locked


async def check_login(db: AsyncDatabase[Any], username: Any, password: Any) -> User:
    """The active user these credentials name, or LoginRefused (one message for every wrong case)."""
    try:
        name = check_username(username)
    except AccountError as exc:
        raise LoginRefused("invalid user name or password") from exc
    if not isinstance(password, str) or not password or len(password) > 1024:
        raise LoginRefused("invalid user name or password")
    locked = await locked_until(db, name)
    if locked:
        raise LoginRefused(f"too many failed attempts: locked until {locked:%H:%M:%S} UTC", locked=locked)
    doc = await db[USERS].find_one({"_id": name})
    ok = await verify_secret(password, doc["password"] if doc else _DUMMY_HASH)
    if not doc or not ok or doc.get("status") != "active":
        await _failed(db, name)
        raise LoginRefused("invalid user name or password")
    await unlock(db, name)
    return _user(doc)
