"""The Pro Santé Connect login routes (public: they are how a professional authenticates).

``GET /auth/psc/login`` sends the browser to PSC (state, nonce, PKCE kept server-side, bound to the
browser by a cookie); ``GET /auth/psc/callback`` checks everything (``facades.psc``), finds the
active local account with the professional's RPPS and opens the workbench session, then redirects
to ``SGL_PSC_AFTER_LOGIN`` (``/``); ``POST /auth/psc/logout`` (CSRF token in ``X-CSRF-Token`` or
the ``csrf`` form field) closes the session and sends the browser to PSC's end-session endpoint,
which comes back to ``GET /auth/psc/logged-out``. Refusals answer an OperationOutcome (400 unknown
or replayed state, 401 refused by the checks, 403 no account, 503 PSC unreachable or not configured)
and each login, refusal and logout is an AuditEvent.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pymongo.asynchronous.database import AsyncDatabase

from facades.psc import PscClient, PscConfig, PscLoginRefused, PscUnavailable, PscUser
from resources.errors import Issue, operation_outcome
from resources.store.base import FhirStore
from server.access.accounts import find_user_by_rpps
from server.access.sessions import CSRF_COOKIE, CSRF_HEADER, SESSION_LIFETIME, end_session, start_session
from server.psc import audit
from server.psc.pending import forget_id_token, keep, remember_id_token, take

log = logging.getLogger(__name__)
router = APIRouter(tags=["Pro Santé Connect"])
BROWSER_COOKIE = "sgl_psc_login"
CALLBACK = "/auth/psc/callback"
LOGGED_OUT = "/auth/psc/logged-out"


def _db(request: Request) -> AsyncDatabase[Any]:
    db: AsyncDatabase[Any] = request.app.state.database.db
    return db


def _store(request: Request) -> FhirStore:
    store: FhirStore = request.app.state.database.store
    return store


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _origin(request: Request) -> str:
    return str(request.app.state.settings.public_base_url or request.base_url).rstrip("/")


def _refusal(status: int, code: str, text: str) -> JSONResponse:
    return JSONResponse(operation_outcome([Issue(code, text)]), status_code=status,
                        media_type="application/fhir+json", headers={"Cache-Control": "no-store"})


def _client(request: Request) -> PscClient | None:
    """The app's relying party, built on first use from the settings (None when PSC is not configured)."""
    existing: PscClient | None = getattr(request.app.state, "psc_client", None)
    if existing is not None:
        return existing
    settings = request.app.state.settings
    if not settings.psc_discovery_url or not settings.psc_client_id:
        return None
    origin = _origin(request)
    client = PscClient(PscConfig(
        discovery_url=settings.psc_discovery_url, client_id=settings.psc_client_id,
        client_secret=settings.psc_client_secret or "", redirect_uri=settings.psc_redirect_uri or origin + CALLBACK,
        post_logout_redirect_uri=origin + LOGGED_OUT, ca_file=Path(settings.psc_ca) if settings.psc_ca else None))
    request.app.state.psc_client = client
    return client


def _professional(user: PscUser) -> dict[str, str]:
    """What the VIHF of the user's INSi calls names (``facades.insi.Professional`` fields)."""
    exercise = user.exercises[0] if user.exercises else None
    activity = exercise.activities[0] if exercise and exercise.activities else None
    return {"national_id": user.national_id, "name": f"{user.family_name} {user.given_name}".strip(),
            "profession": exercise.profession if exercise else "", "specialty": exercise.skill if exercise else "",
            "sector": activity.sector if activity else ""}


NOT_CONFIGURED = "Pro Santé Connect is not configured (SGL_PSC_DISCOVERY_URL, SGL_PSC_CLIENT_ID, SGL_PSC_CLIENT_SECRET)"


@router.get("/auth/psc/login")
async def psc_login(request: Request) -> Response:
    """Start a login: redirect to the PSC authorization endpoint."""
    psc = _client(request)
    if psc is None:
        return _refusal(503, "transient", NOT_CONFIGURED)
    try:
        pending = await psc.begin()
    except PscUnavailable as exc:
        return _refusal(503, "transient", exc.diagnostics)
    browser = secrets.token_urlsafe(32)
    await keep(_db(request), pending, browser)
    response = RedirectResponse(pending.url, status_code=302, headers={"Cache-Control": "no-store"})
    # Lax, not Strict: the callback is a top-level navigation coming back from the PSC host.
    response.set_cookie(BROWSER_COOKIE, browser, max_age=600, httponly=True, samesite="lax", path="/auth/psc",
                        secure=bool(request.app.state.settings.cookie_secure))
    return response


@router.get(CALLBACK)
async def psc_callback(request: Request) -> Response:
    """Finish a login: verify the answer, match the account by RPPS, open the session."""
    psc, store, address = _client(request), _store(request), _address(request)
    if psc is None:
        return _refusal(503, "transient", NOT_CONFIGURED)
    params = dict(request.query_params)
    pending = await take(_db(request), params.get("state", ""), request.cookies.get(BROWSER_COOKIE))
    if pending is None:
        reason = "unknown, expired or already used login (state), or one started in another browser"
        await audit.record(store, "login", outcome="4", detail=reason, address=address)
        return _refusal(400, "security", reason)
    try:
        login = await psc.complete(pending, params)
    except PscLoginRefused as exc:
        await audit.record(store, "login", outcome="4", detail=exc.diagnostics, address=address)
        return _refusal(401, "security", exc.diagnostics)
    except PscUnavailable as exc:
        return _refusal(503, "transient", exc.diagnostics)
    user = login.user
    account = await find_user_by_rpps(_db(request), user.rpps) if user.rpps else None
    if account is None:
        reason = (f"no active account of this laboratory has the RPPS {user.rpps}" if user.rpps else
                  "the professional has no RPPS number (ADELI only): no account can be matched")
        await audit.record(store, "login", outcome="4", detail=reason, national_id=user.national_id, address=address)
        return _refusal(403, "forbidden", reason)
    response = RedirectResponse(request.app.state.settings.psc_after_login, status_code=303)
    csrf = await start_session(request, response, account, method="psc")
    await remember_id_token(_db(request), csrf, account.username, login.id_token, _professional(user),
                            SESSION_LIFETIME)
    response.delete_cookie(BROWSER_COOKIE, path="/auth/psc")
    await audit.record(store, "login", outcome="0", national_id=user.national_id, username=account.username,
                       address=address, detail=f"{account.username} ({account.role}), professions "
                       f"{','.join(user.professions) or '-'}, exercise modes {','.join(user.exercise_modes) or '-'}")
    log.info("PSC login of %s as %s", user.national_id, account.username)
    return response


@router.post("/auth/psc/logout")
async def psc_logout(request: Request) -> Response:
    """Close the local session and the PSC one (RP-initiated logout)."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        sent = str((await request.form()).get("csrf", ""))
    if not cookie or not sent or not hmac.compare_digest(cookie, sent):
        return _refusal(403, "security", f"logout needs the session's CSRF token ({CSRF_HEADER} or form field csrf)")
    id_token = await forget_id_token(_db(request), cookie)
    psc = _client(request)
    target = LOGGED_OUT
    if psc is not None and id_token:
        try:
            target = await psc.logout_url(id_token, state=secrets.token_urlsafe(16)) or LOGGED_OUT
        except PscUnavailable as exc:
            log.warning("PSC end-session not reached: %s", exc.diagnostics)
    response = RedirectResponse(target, status_code=303)
    await end_session(request, response)
    await audit.record(_store(request), "logout", outcome="0", detail="session closed"
                       + (", PSC session end requested" if target != LOGGED_OUT else ""), address=_address(request))
    return response


@router.get(LOGGED_OUT)
async def psc_logged_out() -> HTMLResponse:
    return HTMLResponse("<!doctype html><html lang=\"fr\"><meta charset=\"utf-8\"><title>OpenSGL</title>"
                        "<p>Vous êtes déconnecté d'OpenSGL et de Pro Santé Connect.</p>"
                        "<p><a href=\"/auth/psc/login\">Se reconnecter avec Pro Santé Connect</a></p></html>")
