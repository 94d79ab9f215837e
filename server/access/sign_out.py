"""Ending every way into an account at once: its workbench sessions and its tokens (access and refresh, every
family), for a password change, an administrator's reset and a disabling.

Why: a session cookie or a refresh token stolen before a password change kept working after it (probed on a
real ``sgl serve``: the second of two sessions still answered 200 after the first changed the password, and a
session of a disabled account came back when the account was enabled again). A lab's security officer expects
the change of a password to shut out whoever held the old one.

What stays: the session that changed its own password, under a new id (``sessions.renew_session``: the user
who just proved the current password stays logged in, since ending it would only make them type the new one at
once, while a copy of its old cookie is ended with the others). An administrator's reset or disabling keeps
none.

The bound: sessions and tokens are ended in the database; this process forgets what it remembered of them
(``recent.forget_all``) before it answers, another process refuses them within ``recent.TTL_S``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from server.access import recent, tokens
from server.access.collections import SESSIONS


@dataclass(frozen=True)
class Ended:
    """What was ended: sessions deleted, token records (access and refresh) revoked."""

    sessions: int
    tokens: int

    def __str__(self) -> str:
        return f"{self.sessions} session(s) ended, {self.tokens} token(s) revoked"


async def end_account_access(db: AsyncDatabase[Any], username: str, *, keep_session: str | None = None) -> Ended:
    """End every session of ``username`` but ``keep_session`` (a stored session id, ``sessions.session_key``) and
    revoke every token of ``user:<username>``."""
    query: dict[str, Any] = {"user": username}
    if keep_session is not None:
        query["_id"] = {"$ne": keep_session}
    sessions = (await db[SESSIONS].delete_many(query)).deleted_count
    revoked = await tokens.revoke(db, subject=f"user:{username}")
    recent.forget_all()
    return Ended(sessions, revoked)
