"""The Pro Santé Connect relying party: authorization code flow with PKCE, through authlib.

A login is two calls around the browser's trip to the provider::

    psc = PscClient(config)
    pending = await psc.begin()             # keep state, nonce and verifier server-side, then
    redirect(pending.url)                   # send the browser to the PSC wallet
    ...                                     # PSC sends it back to config.redirect_uri?code=..&state=..
    login = await psc.complete(pending, request.query_params)   # PscLogin, or PscLoginRefused
    redirect(await psc.logout_url(login.id_token, state=...))   # end the PSC session too

``complete`` checks the state, exchanges the code (client secret + PKCE verifier), verifies the ID
token (:mod:`facades.psc.id_token`) and reads userinfo (JSON or a signed JWT) into a
:class:`PscUser`. The provider metadata and keys are cached; an unknown ``kid`` refreshes the keys
once (the provider rotated them).
"""

from __future__ import annotations

import hmac
import secrets
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact

from facades.psc.config import PscConfig

# authlib 1.9 announces, on import, that its httpx integration will move to an ``httpx2`` package that our
# pinned stack does not use; the notice is meant for authlib's developers-users and would otherwise print on
# every ``sgl`` command. authlib forces its own warnings to "always", so the notice is silenced only around
# this import (the filter change authlib makes there is undone with it).
with warnings.catch_warnings():
    from authlib.deprecate import AuthlibDeprecationWarning  # installs authlib's "always" filter first

    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError
from facades.psc.discovery import ProviderMetadata, fetch_keys, fetch_metadata
from facades.psc.errors import PscLoginRefused, PscUnavailable
from facades.psc.id_token import ASYMMETRIC, verify_id_token
from facades.psc.userinfo import PscUser, read_user

METADATA_TTL = 3600.0


@dataclass(frozen=True)
class PendingLogin:
    """What must be kept (server-side) between the redirection and the callback."""

    state: str
    nonce: str
    code_verifier: str
    url: str
    created: float


@dataclass(frozen=True)
class PscLogin:
    user: PscUser
    id_token: str
    """Kept only to be sent back as ``id_token_hint`` at logout."""
    id_claims: dict[str, Any]


class PscClient:
    def __init__(self, config: PscConfig) -> None:
        self.config = config
        self._tls = config.tls()
        self._http = httpx.AsyncClient(verify=self._tls, timeout=config.timeout, follow_redirects=False)
        self._metadata: tuple[float, ProviderMetadata] | None = None
        self._keys: KeySet | None = None

    async def aclose(self) -> None:
        await self._http.aclose()

    async def metadata(self) -> ProviderMetadata:
        if self._metadata is None or time.monotonic() - self._metadata[0] > METADATA_TTL:
            self._metadata = (time.monotonic(), await fetch_metadata(self._http, self.config.discovery_url))
            self._keys = None
        return self._metadata[1]

    async def _signing_keys(self, *, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            self._keys = await fetch_keys(self._http, await self.metadata())
        return self._keys

    def _oauth(self) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(client_id=self.config.client_id, client_secret=self.config.client_secret,
                                 scope=self.config.scope, redirect_uri=self.config.redirect_uri,
                                 code_challenge_method="S256", verify=self._tls, timeout=self.config.timeout)

    async def begin(self) -> PendingLogin:
        """A fresh state, nonce and PKCE verifier, and the authorization URL that carries them."""
        metadata = await self.metadata()
        state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
        async with self._oauth() as oauth:
            url, _ = oauth.create_authorization_url(metadata.authorization_endpoint, state=state,
                                                    code_verifier=verifier, nonce=nonce,
                                                    acr_values=self.config.acr_values)
        return PendingLogin(state, nonce, verifier, url, time.time())

    async def complete(self, pending: PendingLogin, params: Mapping[str, str]) -> PscLogin:
        """Check the authorization response against ``pending`` and turn the code into a verified user."""
        if "error" in params:
            raise PscLoginRefused(f"Pro Santé Connect refused the login: {params.get('error')}"
                                  f"{' - ' + params['error_description'] if params.get('error_description') else ''}",
                                  expression="error")
        if not hmac.compare_digest(params.get("state", ""), pending.state):
            raise PscLoginRefused("the state of the authorization response is not the one this login sent",
                                  expression="state")
        code = params.get("code", "")
        if not code:
            raise PscLoginRefused("the authorization response has no code", expression="code")
        metadata = await self.metadata()
        tokens = await self._exchange(metadata, code, pending.code_verifier)
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise PscLoginRefused("the token response has no ID token", expression="id_token")
        claims = await self._verified(id_token, metadata, pending.nonce)
        user = read_user(await self._userinfo(metadata, str(tokens.get("access_token", ""))),
                         id_token_subject=str(claims["sub"]))
        return PscLogin(user, id_token, claims)

    async def _exchange(self, metadata: ProviderMetadata, code: str, verifier: str) -> dict[str, Any]:
        async with self._oauth() as oauth:
            try:
                token = await oauth.fetch_token(metadata.token_endpoint, grant_type="authorization_code",
                                                code=code, code_verifier=verifier,
                                                redirect_uri=self.config.redirect_uri)
            except OAuthError as exc:
                raise PscLoginRefused(f"the token endpoint refused the code: {exc.error}"
                                      f"{' - ' + exc.description if exc.description else ''}",
                                      expression="code") from exc
            except httpx.HTTPError as exc:
                raise PscUnavailable(f"Pro Santé Connect token endpoint unreachable ({exc})") from exc
            except ValueError as exc:
                raise PscUnavailable(f"Pro Santé Connect token endpoint answered no token ({exc})") from exc
        return dict(token)

    async def _verified(self, id_token: str, metadata: ProviderMetadata, nonce: str) -> dict[str, Any]:
        for refresh in (False, True):
            keys = await self._signing_keys(refresh=refresh)
            if refresh or _kid(id_token) is None or _kid(id_token) in {k.kid for k in keys.keys}:
                break
        return verify_id_token(id_token, keys, issuer=metadata.issuer, client_id=self.config.client_id,
                               nonce=nonce, acr=self.config.acr_values, algorithms=metadata.signing_algorithms,
                               leeway=self.config.leeway)

    async def _userinfo(self, metadata: ProviderMetadata, access_token: str) -> dict[str, Any]:
        try:
            response = await self._http.get(metadata.userinfo_endpoint,
                                            headers={"Authorization": f"Bearer {access_token}"})
        except httpx.HTTPError as exc:
            raise PscUnavailable(f"Pro Santé Connect userinfo endpoint unreachable ({exc})") from exc
        if response.status_code != 200:
            raise PscLoginRefused(f"the userinfo endpoint answered HTTP {response.status_code}",
                                  expression="userinfo")
        if response.headers.get("content-type", "").split(";")[0].strip() == "application/jwt":
            return await self._signed_userinfo(response.text)
        try:
            body = response.json()
        except ValueError as exc:
            raise PscLoginRefused("the userinfo answer is neither JSON nor a JWT", expression="userinfo") from exc
        if not isinstance(body, dict):
            raise PscLoginRefused("the userinfo answer is not a JSON object", expression="userinfo")
        return body

    async def _signed_userinfo(self, text: str) -> dict[str, Any]:
        try:
            return dict(jwt.decode(text.strip(), await self._signing_keys(), algorithms=sorted(ASYMMETRIC)).claims)
        except (JoseError, ValueError, TypeError) as exc:
            raise PscLoginRefused(f"the signed userinfo answer does not verify ({exc})",
                                  expression="userinfo") from exc

    async def logout_url(self, id_token: str | None, *, state: str | None = None) -> str | None:
        """The end-session URL that closes the PSC session too (None if the provider has none)."""
        metadata = await self.metadata()
        if not metadata.end_session_endpoint:
            return None
        params = {k: v for k, v in (("id_token_hint", id_token), ("client_id", self.config.client_id),
                                    ("post_logout_redirect_uri", self.config.post_logout_redirect_uri),
                                    ("state", state)) if v}
        glue = "&" if "?" in metadata.end_session_endpoint else "?"
        return metadata.end_session_endpoint + glue + urlencode(params)


def _kid(token: str) -> str | None:
    try:
        kid = extract_compact(token.encode("ascii")).protected.get("kid")
    except (JoseError, ValueError, UnicodeEncodeError):
        return None
    return str(kid) if kid else None
