"""Who sent this HTTP request: a bearer access token (API clients, users' tokens) or a workbench
session cookie (with its CSRF token on state-changing requests). The subject is re-read on every
request, so disabling a client or a user, or revoking a token, takes effect at once."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pymongo.asynchronous.database import AsyncDatabase

from resources.errors import Forbidden
from server.access.accounts import User, find_user
from server.access.caller import Caller
from server.access.clients import ApiClient, find_client
from server.access.errors import Unauthenticated
from server.access.sessions import CsrfMissing, session_user
from server.access.tokens import InvalidToken, check_recorded, decode


def user_caller(user: User, address: str | None) -> Caller:
    return Caller(f"user:{user.username}", user.role, "user", user.practitioner, address, user.name or user.username)


def client_caller(client: ApiClient, address: str | None) -> Caller:
    return Caller(f"client:{client.client_id}", client.role, "client", client.practitioner, address, client.name)


async def _bearer(db: AsyncDatabase[Any], request: Request, token: str, address: str | None) -> Caller:
    try:
        claims = decode(request.app.state.signing_key, token)
        await check_recorded(db, claims)
    except InvalidToken as exc:
        raise Unauthenticated(str(exc), error="invalid_token") from exc
    kind, _, sid = str(claims["sub"]).partition(":")
    if kind == "client":
        client = await find_client(db, sid)
        if client and client.active:
            return client_caller(client, address)
    elif kind == "user":
        user = await find_user(db, sid)
        if user and user.active:
            return user_caller(user, address)
    raise Unauthenticated("the token's client or user is disabled", error="invalid_token")


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
        username = await session_user(request)
    except CsrfMissing as exc:
        raise Forbidden("the session's CSRF token is missing or wrong (send it in X-CSRF-Token)",
                        expression="X-CSRF-Token") from exc
    if username:
        user = await find_user(db, username)
        if user and user.active:
            return user_caller(user, address)
    raise Unauthenticated("authentication required: a bearer token (see /fhir/.well-known/smart-configuration) "
                          "or a workbench session")
