"""Who sent this HTTP request: a bearer access token (API clients, users' tokens) or a workbench
session cookie (with its CSRF token on state-changing requests). A bearer token's record or a session's, and
its client or user, are re-read at most ``recent.TTL_S`` seconds apart (a revocation, disabling or logout made
by this process empties that memory at once, one made by another process waits at most that long)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import Request
from pymongo.asynchronous.database import AsyncDatabase

from resources.errors import Forbidden
from resources.search.date import now_utc
from server.access import recent
from server.access.accounts import User, find_user
from server.access.caller import Caller
from server.access.clients import ApiClient, find_client
from server.access.errors import Unauthenticated
from server.access.sessions import CsrfMissing, check_csrf, read_session, session_key
from server.access.tokens import InvalidToken, check_recorded, decode


def user_caller(user: User, address: str | None) -> Caller:
    return Caller(f"user:{user.username}", user.role, "user", user.practitioner, address, user.name or user.username)


def client_caller(client: ApiClient, address: str | None) -> Caller:
    return Caller(f"client:{client.client_id}", client.role, "client", client.practitioner, address, client.name)


async def _bearer(db: AsyncDatabase[Any], request: Request, token: str, address: str | None) -> Caller:
    """The token's caller: signature and expiry checked every time, the database's word on revocation and on
    the client or user reused for ``recent.TTL_S`` seconds (see ``recent.py`` for the bound)."""
    try:
        claims = decode(request.app.state.signing_key, token)
    except InvalidToken as exc:
        raise Unauthenticated(str(exc), error="invalid_token") from exc
    key = str(claims["jti"])
    known = recent.CHECKS.get(key)
    if known is not None:
        return replace(known.caller, address=address)
    generation = recent.CHECKS.generation
    caller = await _recorded_caller(db, claims)
    recent.CHECKS.put(key, recent.Checked(caller), generation)
    return replace(caller, address=address)


async def _recorded_caller(db: AsyncDatabase[Any], claims: dict[str, Any]) -> Caller:
    """The caller of a token that is recorded, not revoked, and whose client or user is active; else 401."""
    try:
        await check_recorded(db, claims)
    except InvalidToken as exc:
        raise Unauthenticated(str(exc), error="invalid_token") from exc
    kind, _, sid = str(claims["sub"]).partition(":")
    if kind == "client":
        client = await find_client(db, sid)
        if client and client.active:
            return client_caller(client, None)
    elif kind == "user":
        user = await find_user(db, sid)
        if user and user.active:
            return user_caller(user, None)
    raise Unauthenticated("the token's client or user is disabled", error="invalid_token")


async def _session(db: AsyncDatabase[Any], request: Request) -> Caller | None:
    """The user of the request's live session (None without one), its end and CSRF token checked every time,
    its record and its user's reused for ``recent.TTL_S`` seconds; CsrfMissing as ``check_csrf``."""
    key = session_key(request)
    if key is None:
        return None
    known = recent.CHECKS.get(("session", key))
    if known is None:
        generation = recent.CHECKS.generation
        record = await read_session(request, key)
        if record is None:
            return None
        check_csrf(request, record.csrf)
        user = await find_user(db, record.user)
        if not (user and user.active):
            return None
        known = recent.Checked(user_caller(user, None), record.csrf, record.expires)
        recent.CHECKS.put(("session", key), known, generation)
    if known.expires is None or known.csrf is None or known.expires < now_utc():
        return None
    check_csrf(request, known.csrf)
    return known.caller


async def authenticate(request: Request) -> Caller:
    """The caller, or 401 (no credentials, bad token) / 403 (session without its CSRF token)."""
    db: AsyncDatabase[Any] = request.app.state.database.db
    address = request.client.host if request.client else None
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthenticated("use an OAuth 2.0 bearer token (Authorization: Bearer ...)", error="invalid_request")
        return await _bearer(db, request, value.strip(), address)
    try:
        caller = await _session(db, request)
    except CsrfMissing as exc:
        raise Forbidden("the session's CSRF token is missing or wrong (send it in X-CSRF-Token)",
                        expression="X-CSRF-Token") from exc
    if caller:
        return replace(caller, address=address)
    raise Unauthenticated("authentication required: a bearer token (see /fhir/.well-known/smart-configuration) "
                          "or a workbench session")
