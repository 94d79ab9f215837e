"""Sessions of the web workbench: an opaque id in a Secure, HttpOnly, SameSite=Strict cookie,
stored as a SHA-256 digest with the user and a CSRF token. A state-changing request carried by the
cookie must repeat the CSRF token in ``X-CSRF-Token`` (double submit: the token is also in the
readable ``sgl_csrf`` cookie and in the login answer); a form posted from elsewhere has neither.

Pro Santé Connect login ends in :func:`start_session` too, with the local user matched by RPPS.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import Request, Response
from pymongo.asynchronous.database import AsyncDatabase

from resources.search.date import now_utc
from server.access import recent
from server.access.accounts import User
from server.access.collections import SESSIONS

SESSION_COOKIE = "sgl_session"
CSRF_COOKIE = "sgl_csrf"
CSRF_HEADER = "X-CSRF-Token"
SESSION_LIFETIME = timedelta(hours=8)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _db(request: Request) -> AsyncDatabase[Any]:
    db: AsyncDatabase[Any] = request.app.state.database.db
    return db


async def start_session(request: Request, response: Response, user: User, *, method: str = "password") -> str:
    """Open a session for ``user`` and set its cookies on ``response``; returns the CSRF token."""
    return (await _open(request, response, user, method))[1]


async def renew_session(request: Request, response: Response, user: User) -> str | None:
    """A new session (new id and CSRF token, same way of login) for the request's session, its cookies set on
    ``response``; the stored key of the new one (the old one is left to the caller to end), None without a
    session. After a password change: a copy of the old cookie taken before it no longer opens anything."""
    method = await session_method(request)
    if method is None:
        return None
    sid, _ = await _open(request, response, user, method)
    return _digest(sid)


async def _open(request: Request, response: Response, user: User, method: str) -> tuple[str, str]:
    sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = now_utc()
    await _db(request)[SESSIONS].insert_one({"_id": _digest(sid), "user": user.username, "csrf": csrf,
                                             "method": method, "created": now,
                                             "expires": now + SESSION_LIFETIME})
    secure = request.app.state.settings.cookie_secure
    age = int(SESSION_LIFETIME.total_seconds())
    response.set_cookie(SESSION_COOKIE, sid, max_age=age, httponly=True, secure=secure, samesite="strict", path="/")
    response.set_cookie(CSRF_COOKIE, csrf, max_age=age, httponly=False, secure=secure, samesite="strict", path="/")
    return sid, csrf


async def end_session(request: Request, response: Response) -> bool:
    """Close the session the request carries (if any) and clear the cookies."""
    sid = request.cookies.get(SESSION_COOKIE)
    found = False
    if sid:
        found = (await _db(request)[SESSIONS].delete_one({"_id": _digest(sid)})).deleted_count == 1
        recent.forget_all()
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return found


class CsrfMissing(Exception):
    pass


@dataclass(frozen=True)
class SessionRecord:
    user: str
    csrf: str
    expires: datetime


def session_key(request: Request) -> str | None:
    """The stored id (digest) of the request's session cookie, None without one."""
    sid = request.cookies.get(SESSION_COOKIE)
    return _digest(sid) if sid else None


async def read_session(request: Request, key: str) -> SessionRecord | None:
    """The live session stored under ``key``, or None (unknown, closed or past its end)."""
    doc = await _db(request)[SESSIONS].find_one({"_id": key})
    if doc is None or doc["expires"] < now_utc():
        return None
    return SessionRecord(str(doc["user"]), str(doc["csrf"]), doc["expires"])


def check_csrf(request: Request, csrf: str) -> None:
    """CsrfMissing for an unsafe request that does not repeat the session's CSRF token."""
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not hmac.compare_digest(sent, csrf):
            raise CsrfMissing()


async def session_method(request: Request) -> str | None:
    """How the request's session was opened (``password`` or ``psc``), None without a session cookie: the
    workbench logs a PSC user out through PSC too."""
    sid = request.cookies.get(SESSION_COOKIE)
    doc = await _db(request)[SESSIONS].find_one({"_id": _digest(sid)}, {"method": 1}) if sid else None
    return str(doc["method"]) if doc else None
