"""HTTP face of the simulated provider (Starlette): the endpoints a PSC relying party calls.

``/auth/realms/esante-wallet/.well-known/wallet-openid-configuration`` (and the standard
``openid-configuration``), ``.../protocol/openid-connect/{auth,token,userinfo,logout,certs}``. The
``auth`` endpoint shows a test-user picker (one button per professional) unless the browser
already has an SSO session with the simulator; ``/_simulator/state`` tells tests how many sessions
are open and were ended (logout propagation).
"""

from __future__ import annotations

import base64
import html
import json
from typing import Any
from urllib.parse import unquote_plus, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from facades.psc.simulator.provider import OIDC_PATH, REALM_PATH, OAuthFailure, SimulatedProvider, loopback_uri

SESSION_COOKIE = "PSC_SIM_SESSION"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _redirect(uri: str, params: dict[str, str]) -> RedirectResponse:
    glue = "&" if "?" in uri else "?"
    return RedirectResponse(uri + glue + urlencode({k: v for k, v in params.items() if v}), status_code=302)


def _error_page(failure: OAuthFailure) -> HTMLResponse:
    body = f"<h1>Pro Santé Connect (simulateur)</h1><p>{html.escape(failure.error)}: " \
           f"{html.escape(failure.description)}</p>"
    return HTMLResponse(body, status_code=failure.status if failure.status >= 400 else 400)


def _picker(provider: SimulatedProvider, request_id: str) -> HTMLResponse:
    buttons = "\n".join(
        f'<li><button type="submit" name="user" value="{html.escape(u.national_id)}">{html.escape(u.label)}'
        f"</button></li>" for u in provider.users.values())
    page = f"""<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>Pro Santé Connect - simulateur</title></head><body>
<h1>Pro Santé Connect (simulateur local, comptes de test)</h1>
<p>Choisissez le professionnel de test qui se connecte (e-CPS simulée, niveau eIDAS substantiel).</p>
<form method="post" action="{OIDC_PATH}/auth/pick">
<input type="hidden" name="request" value="{html.escape(request_id)}">
<ul>
{buttons}
</ul></form></body></html>"""
    return HTMLResponse(page, headers=NO_STORE)


def _with_code(provider: SimulatedProvider, request_id: str, user: str, session: str | None) -> Response:
    request, code, session = provider.issue_code(request_id, user, session)
    response = _redirect(request.redirect_uri, {"code": code, "state": request.state})
    response.set_cookie(SESSION_COOKIE, session, path=REALM_PATH, secure=True, httponly=True, samesite="lax")
    return response


def _basic(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        client_id, _, secret = base64.b64decode(header[6:]).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return unquote_plus(client_id), unquote_plus(secret)


def create_simulator_app(provider: SimulatedProvider) -> Starlette:
    async def discovery(request: Request) -> JSONResponse:
        return JSONResponse(provider.discovery())

    async def certs(request: Request) -> JSONResponse:
        return JSONResponse(provider.jwks())

    async def authorize(request: Request) -> Response:
        params = dict(request.query_params)
        try:
            provider.check_client(params)
        except OAuthFailure as failure:
            return _error_page(failure)
        try:
            request_id = provider.authorize(params)
            session = request.cookies.get(SESSION_COOKIE)
            if session and session in provider.sessions:
                return _with_code(provider, request_id, "", session)
        except OAuthFailure as failure:
            return _redirect(params["redirect_uri"], {"error": failure.error, "error_description": failure.description,
                                                      "state": params.get("state", "")})
        return _picker(provider, request_id)

    async def pick(request: Request) -> Response:
        form = await request.form()
        try:
            return _with_code(provider, str(form.get("request", "")), str(form.get("user", "")), None)
        except OAuthFailure as failure:
            return _error_page(failure)

    async def token(request: Request) -> JSONResponse:
        form = {k: str(v) for k, v in (await request.form()).items()}
        try:
            client_id = provider.authenticate_client(_basic(request), form)
            return JSONResponse(provider.exchange(client_id, form), headers=NO_STORE)
        except OAuthFailure as failure:
            headers = {**NO_STORE, **({"WWW-Authenticate": "Basic"} if failure.status == 401 else {})}
            return JSONResponse({"error": failure.error, "error_description": failure.description},
                                status_code=failure.status, headers=headers)

    async def userinfo(request: Request) -> Response:
        header = request.headers.get("authorization", "")
        bearer = header[7:].strip() if header.lower().startswith("bearer ") else ""
        try:
            return JSONResponse(provider.userinfo(bearer), headers=NO_STORE)
        except OAuthFailure as failure:
            return Response(status_code=401, headers={
                "WWW-Authenticate": f'Bearer error="{failure.error}", error_description="{failure.description}"'})

    async def logout(request: Request) -> Response:
        params: dict[str, Any] = dict(request.query_params)
        if request.method == "POST":
            params.update({k: str(v) for k, v in (await request.form()).items()})
        target = str(params.get("post_logout_redirect_uri", ""))
        try:
            provider.end_session(params.get("id_token_hint"), request.cookies.get(SESSION_COOKIE))
        except OAuthFailure as failure:
            return _error_page(failure)
        if target and loopback_uri(target):
            response: Response = _redirect(target, {"state": str(params.get("state", ""))})
        else:
            response = HTMLResponse("<h1>Pro Santé Connect (simulateur)</h1><p>Vous êtes déconnecté.</p>")
        response.delete_cookie(SESSION_COOKIE, path=REALM_PATH)
        return response

    async def state(request: Request) -> Response:
        return Response(json.dumps({"open_sessions": len(provider.sessions),
                                    "ended_sessions": len(provider.ended_sessions),
                                    "users": sorted(provider.users)}), media_type="application/json")

    routes = [
        Route("/.well-known/openid-configuration", discovery),
        Route(REALM_PATH + "/.well-known/openid-configuration", discovery),
        Route(REALM_PATH + "/.well-known/wallet-openid-configuration", discovery),
        Route(OIDC_PATH + "/certs", certs),
        Route(OIDC_PATH + "/auth", authorize),
        Route(OIDC_PATH + "/auth/pick", pick, methods=["POST"]),
        Route(OIDC_PATH + "/token", token, methods=["POST"]),
        Route(OIDC_PATH + "/userinfo", userinfo, methods=["GET", "POST"]),
        Route(OIDC_PATH + "/logout", logout, methods=["GET", "POST"]),
        Route("/_simulator/state", state),
    ]
    return Starlette(routes=routes)
