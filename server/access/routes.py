"""Login, logout, password change, the SMART configuration and the OAuth 2.0 token endpoint.

``POST /auth/token`` (client credentials with HTTP Basic client authentication, or a refresh token)
answers as RFC 6749 says (``{"error": ...}`` bodies, ``Cache-Control: no-store``), not with an
OperationOutcome: OAuth clients read those.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pymongo.asynchronous.database import AsyncDatabase

from resources.errors import InvalidInput, Issue, operation_outcome
from resources.fhirjson import loads
from server.access.accounts import AccountError, LoginRefused, check_login, find_user, set_password
from server.access.administration import password_changed
from server.access.authenticate import authenticate, user_caller
from server.access.caller import Caller
from server.access.clients import authenticate_client
from server.access.passwords import HashingBusy
from server.access.permissions import granted
from server.access.sessions import end_session, renew_session, session_method, start_session
from server.access.throttle import FailureThrottle
from server.access.tokens import InvalidToken, Subject, issue, redeem_refresh
from server.responses import fhir_response

router = APIRouter()
SCOPES = ["system/*.read", "system/*.write", "user/*.read", "user/*.write"]


def _db(request: Request) -> AsyncDatabase[Any]:
    db: AsyncDatabase[Any] = request.app.state.database.db
    return db


def _origin(request: Request) -> str:
    configured = request.app.state.settings.public_base_url
    return (configured or str(request.base_url)).rstrip("/")


def smart_configuration(origin: str) -> dict[str, Any]:
    return {"token_endpoint": f"{origin}/auth/token",
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            "grant_types_supported": ["client_credentials", "refresh_token"],
            "scopes_supported": SCOPES,
            "capabilities": ["client-confidential-symmetric"],
            "code_challenge_methods_supported": ["S256"]}


@router.get("/fhir/.well-known/smart-configuration", tags=["Access"])
async def smart_config(request: Request) -> JSONResponse:
    return JSONResponse(smart_configuration(_origin(request)))


def _throttle(request: Request) -> tuple[FailureThrottle, str]:
    """The server's failure count and this request's address (behind a trusted proxy, the forwarded one)."""
    return request.app.state.auth_throttle, request.client.host if request.client else "?"


def _too_many(request: Request) -> int | None:
    """Seconds until this address may try to authenticate again (None: now)."""
    throttle, address = _throttle(request)
    wait = throttle.retry_after(address)
    return None if wait is None else int(wait) + 1


def _failed(request: Request) -> None:
    throttle, address = _throttle(request)
    throttle.failed(address)


TOO_MANY = "too many failed authentications from this address; try again later"
BUSY_RETRY_S = 1
"""Retry-After of a 503 from the full hashing pool: a check takes well under a second once a thread is free."""


def _throttled(wait: int) -> Response:
    """The 429 OperationOutcome of a login or password change from an address past its failure limit."""
    return fhir_response(operation_outcome([Issue(code="throttled", diagnostics=TOO_MANY)]), 429,
                         {"Retry-After": str(wait)})


def _busy(busy: HashingBusy) -> Response:
    """The 503 of a login or password change the hashing pool had no room for (no password checked; logged once
    per burst by the pool, not per request)."""
    return fhir_response(busy.outcome(), 503, {"Retry-After": str(BUSY_RETRY_S)})


def _oauth_error(status: int, error: str, description: str, retry_after: int | None = None) -> JSONResponse:
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="OpenSGL"'
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return JSONResponse({"error": error, "error_description": description}, status_code=status, headers=headers)


def _basic(request: Request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, secret = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (unquote(user), unquote(secret)) if sep else None


@router.post("/auth/token", tags=["Access"])
async def token(request: Request) -> Response:
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return _oauth_error(400, "invalid_request", "the token request is a form (application/x-www-form-urlencoded)")
    form = await request.form()
    grant = str(form.get("grant_type", ""))
    if grant not in ("client_credentials", "refresh_token"):
        return _oauth_error(400, "unsupported_grant_type", "grant_type: client_credentials or refresh_token")
    credentials = _basic(request)
    if credentials is None:
        return _oauth_error(401, "invalid_client", "HTTP Basic client authentication is required")
    if (wait := _too_many(request)) is not None:
        return _oauth_error(429, "invalid_client", TOO_MANY, wait)
    db = _db(request)
    try:
        client = await authenticate_client(db, *credentials)
    except HashingBusy as busy:
        return _oauth_error(503, "temporarily_unavailable", str(busy), BUSY_RETRY_S)
    if client is None:
        _failed(request)
        return _oauth_error(401, "invalid_client", "unknown or disabled client, or wrong secret")
    family = None
    if grant == "refresh_token":
        try:
            redeemed = await redeem_refresh(db, str(form.get("refresh_token", "")), f"client:{client.client_id}")
            family = redeemed["family"]
        except InvalidToken as exc:
            return _oauth_error(400, "invalid_grant", str(exc))
    settings = request.app.state.settings
    issued = await issue(db, request.app.state.signing_key,
                         Subject("client", client.client_id, client.role, client.practitioner),
                         ttl=settings.token_ttl, refresh_ttl=settings.refresh_ttl, family=family)
    return JSONResponse({"access_token": issued.access_token, "token_type": "Bearer", "expires_in": issued.expires_in,
                         "refresh_token": issued.refresh_token, "scope": "system/*.*"},
                        headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


async def _json(request: Request) -> dict[str, Any]:
    """Login and password change take JSON only: a cross-site HTML form cannot send it (login CSRF)."""
    if not request.headers.get("content-type", "").startswith("application/json"):
        raise InvalidInput("send application/json", expression="Content-Type")
    body = loads(await request.body() or b"null")
    if not isinstance(body, dict):
        raise InvalidInput("the body is a JSON object", expression="$")
    return body


@router.post("/auth/login", tags=["Access"])
async def login(request: Request) -> Response:
    """Opens the session; the answer is the CSRF token and what ``GET /auth/session`` would say, so the
    workbench asks for its first screen's data at once rather than after one more round trip."""
    body = await _json(request)
    if (wait := _too_many(request)) is not None:
        return _throttled(wait)
    try:
        user = await check_login(_db(request), body.get("username"), body.get("password"))
    except HashingBusy as busy:
        return _busy(busy)
    except LoginRefused as exc:
        _failed(request)
        status = 429 if exc.locked else 401
        headers = {"Retry-After": "900"} if exc.locked else {}
        return fhir_response(operation_outcome([Issue(code="login", diagnostics=str(exc))]), status, headers)
    response = JSONResponse(None, headers={"Cache-Control": "no-store"})
    csrf = await start_session(request, response, user)
    caller = user_caller(user, request.client.host if request.client else None)
    response.body = response.render({**_described(request, caller, "password"), "csrf": csrf})
    response.headers["content-length"] = str(len(response.body))
    return response


@router.post("/auth/logout", tags=["Access"])
async def logout(request: Request) -> Response:
    response = Response(status_code=204)
    await end_session(request, response)
    return response


def psc_configured(settings: Any) -> bool:
    return bool(settings.psc_discovery_url and settings.psc_client_id)


@router.get("/auth/psc/available", tags=["Access"])
async def psc_available(request: Request) -> JSONResponse:
    """Public: whether Pro Santé Connect login is configured, so the login form offers its button only then."""
    return JSONResponse({"available": psc_configured(request.app.state.settings)})


@router.get("/auth/session", tags=["Access"])
async def session(request: Request) -> JSONResponse:
    """Who the caller is and what their role may do (``Type:interaction`` rows of the permission table), so
    the web workbench offers only that; plus the site settings a screen follows. 401 without a live session."""
    caller = await authenticate(request)
    described = _described(request, caller, await session_method(request))
    return JSONResponse(described, headers={"Cache-Control": "no-store"})


def _described(request: Request, caller: Caller, method: str | None) -> dict[str, Any]:
    settings = request.app.state.settings
    return {"username": caller.id.partition(":")[2], "kind": caller.kind, "role": caller.role, "name": caller.name,
            "practitioner": caller.practitioner, "login": method, "permissions": granted(caller.role),
            "site": {"insDisplay": settings.ins_display_fields, "psc": psc_configured(settings)}}


@router.post("/auth/password", tags=["Access"])
async def change_password(request: Request) -> Response:
    """A user's own password change: the current password checked, then every other session and every token of
    the account ended (``sign_out``) and an AuditEvent written. The session that made the change goes on under a
    new id (new cookies on the 204; the workbench reads its CSRF token from the cookie), so a copy of its old
    cookie is ended too."""
    caller = await authenticate(request)
    body = await _json(request)
    if caller.kind != "user":
        raise InvalidInput("only a user changes a password", expression="caller")
    username = caller.id.removeprefix("user:")
    if (wait := _too_many(request)) is not None:
        return _throttled(wait)
    try:
        await check_login(_db(request), username, body.get("current"))
    except HashingBusy as busy:
        return _busy(busy)
    except LoginRefused as exc:
        _failed(request)
        return fhir_response(operation_outcome([Issue(code="login", diagnostics=str(exc))]), 401)
    try:
        await set_password(_db(request), username, str(body.get("new", "")))
    except (AccountError, ValueError) as exc:
        raise InvalidInput(str(exc), expression="new") from exc
    response = Response(status_code=204)
    user = await find_user(_db(request), username)
    kept = await renew_session(request, response, user) if user and not request.headers.get("authorization") else None
    await password_changed(_db(request), request.app.state.database.store, caller, username, kept)
    return response
