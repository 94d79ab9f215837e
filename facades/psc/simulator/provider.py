"""The simulated provider's protocol state: authorization requests, codes, tokens, SSO sessions.

Kept apart from HTTP so that each rule reads as one function. Every check a real provider does
that the relying party depends on is here: the client and its redirect URI, ``response_type=code``,
``openid`` scope, ``eidas1``, PKCE S256 required; a code is bound to its client, redirect URI and
verifier, lives ``code_ttl`` seconds and is used once (a replay also revokes what it gave);
access tokens expire; the end-session call closes the SSO session named by the ID token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

from facades.psc.config import ACR
from facades.psc.simulator.users import TestUser

REALM_PATH = "/auth/realms/esante-wallet"
OIDC_PATH = REALM_PATH + "/protocol/openid-connect"
REQUEST_TTL = 600.0
ACCESS_TTL = 300
ID_TOKEN_TTL = 300
MAX_PENDING = 10_000


class OAuthFailure(Exception):
    """An OAuth error answer: ``error`` code (RFC 6749 §4.1.2.1 / §5.2), description, HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


@dataclass(frozen=True)
class AuthRequest:
    client_id: str
    redirect_uri: str
    state: str
    nonce: str
    challenge: str
    expires: float


@dataclass
class Grant:
    request: AuthRequest
    user: TestUser
    session: str
    expires: float
    used: bool = False
    access_tokens: list[str] = field(default_factory=list)


def loopback_uri(uri: str) -> bool:
    parts = urlsplit(uri)
    return parts.scheme in ("http", "https") and parts.hostname in ("127.0.0.1", "localhost", "::1")


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


class SimulatedProvider:
    def __init__(self, base_url: str, users: dict[str, TestUser], clients: dict[str, str], key: RSAKey, *,
                 code_ttl: float = 60.0) -> None:
        self.issuer = base_url.rstrip("/") + REALM_PATH
        self.users, self.clients, self.key, self.code_ttl = users, clients, key, code_ttl
        self.requests: dict[str, AuthRequest] = {}
        self.grants: dict[str, Grant] = {}
        self.access: dict[str, tuple[TestUser, float, str]] = {}
        self.sessions: dict[str, TestUser] = {}
        self.ended_sessions: list[str] = []

    # discovery -----------------------------------------------------------------------------------
    def discovery(self) -> dict[str, Any]:
        base = self.issuer + "/protocol/openid-connect"
        return {"issuer": self.issuer, "authorization_endpoint": base + "/auth", "token_endpoint": base + "/token",
                "userinfo_endpoint": base + "/userinfo", "end_session_endpoint": base + "/logout",
                "jwks_uri": base + "/certs", "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"], "scopes_supported": ["openid", "scope_all"],
                "acr_values_supported": [ACR], "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "claims_parameter_supported": False}

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}

    # authorize -----------------------------------------------------------------------------------
    def check_client(self, params: dict[str, str]) -> tuple[str, str]:
        """Client and redirect URI: errors here are shown to the user, never redirected (RFC 6749 §4.1.2.1)."""
        client_id, redirect_uri = params.get("client_id", ""), params.get("redirect_uri", "")
        if client_id not in self.clients:
            raise OAuthFailure("unauthorized_client", f"unknown client_id {client_id!r}")
        if not loopback_uri(redirect_uri):
            raise OAuthFailure("invalid_request", "redirect_uri is not registered (the simulator accepts loopback)")
        return client_id, redirect_uri

    def authorize(self, params: dict[str, str]) -> str:
        """Validate an authorization request; return its id (the picker form refers to it)."""
        client_id, redirect_uri = self.check_client(params)
        if params.get("response_type") != "code":
            raise OAuthFailure("unsupported_response_type", "only response_type=code is supported")
        if "openid" not in params.get("scope", "").split():
            raise OAuthFailure("invalid_scope", "the scope must contain openid")
        if ACR not in params.get("acr_values", "").split():
            raise OAuthFailure("invalid_request", f"acr_values must be {ACR}")
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            raise OAuthFailure("invalid_request", "PKCE with code_challenge_method=S256 is required")
        if not params.get("state") or not params.get("nonce"):
            raise OAuthFailure("invalid_request", "state and nonce are required")
        self._expire()
        if len(self.requests) >= MAX_PENDING:
            raise OAuthFailure("temporarily_unavailable", "too many pending authorization requests", 503)
        request_id = secrets.token_urlsafe(24)
        self.requests[request_id] = AuthRequest(client_id, redirect_uri, params["state"], params["nonce"],
                                                params["code_challenge"], time.time() + REQUEST_TTL)
        return request_id

    def pending(self, request_id: str) -> AuthRequest:
        request = self.requests.get(request_id)
        if request is None or request.expires < time.time():
            raise OAuthFailure("invalid_request", "this authorization request is unknown or expired; log in again")
        return request

    def issue_code(self, request_id: str, national_id: str, session: str | None) -> tuple[AuthRequest, str, str]:
        """The user chose (or is already logged in): a code for the client; returns (request, code, session)."""
        request = self.pending(request_id)
        user = self.sessions.get(session or "") if session else None
        if user is None:
            user = self.users.get(national_id)
            if user is None:
                raise OAuthFailure("access_denied", f"no test user {national_id!r}")
            session = secrets.token_urlsafe(24)
            self.sessions[session] = user
        assert session is not None
        del self.requests[request_id]
        code = secrets.token_urlsafe(32)
        self.grants[code] = Grant(request, user, session, time.time() + self.code_ttl)
        return request, code, session

    # token ---------------------------------------------------------------------------------------
    def authenticate_client(self, basic: tuple[str, str] | None, form: dict[str, str]) -> str:
        client_id, secret = basic or (form.get("client_id", ""), form.get("client_secret", ""))
        expected = self.clients.get(client_id)
        if expected is None or not hmac.compare_digest(expected.encode(), secret.encode()):
            raise OAuthFailure("invalid_client", "client authentication failed", 401)
        return client_id

    def exchange(self, client_id: str, form: dict[str, str]) -> dict[str, Any]:
        if form.get("grant_type") != "authorization_code":
            raise OAuthFailure("unsupported_grant_type", "only authorization_code is supported")
        grant = self.grants.get(form.get("code", ""))
        if grant is None:
            raise OAuthFailure("invalid_grant", "unknown authorization code")
        if grant.used:
            for token in grant.access_tokens:
                self.access.pop(token, None)
            raise OAuthFailure("invalid_grant", "authorization code already used (tokens it gave are revoked)")
        grant.used = True
        if grant.expires < time.time():
            raise OAuthFailure("invalid_grant", "authorization code expired")
        if grant.request.client_id != client_id:
            raise OAuthFailure("invalid_grant", "authorization code issued to another client")
        if form.get("redirect_uri") != grant.request.redirect_uri:
            raise OAuthFailure("invalid_grant", "redirect_uri differs from the authorization request")
        if not hmac.compare_digest(s256(form.get("code_verifier", "")), grant.request.challenge):
            raise OAuthFailure("invalid_grant", "PKCE verification failed")
        access = secrets.token_urlsafe(32)
        grant.access_tokens.append(access)
        self.access[access] = (grant.user, time.time() + ACCESS_TTL, grant.session)
        return {"access_token": access, "token_type": "Bearer", "expires_in": ACCESS_TTL,
                "refresh_expires_in": 0, "scope": "openid scope_all",
                "id_token": self.id_token(grant, client_id), "session_state": grant.session}

    def id_token(self, grant: Grant, client_id: str) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": grant.user.claims["sub"], "aud": client_id, "azp": client_id,
                  "exp": now + ID_TOKEN_TTL, "iat": now, "auth_time": now, "nonce": grant.request.nonce,
                  "acr": ACR, "sid": grant.session, "preferred_username": grant.user.national_id}
        return jwt.encode({"alg": "RS256", "kid": self.key.kid, "typ": "JWT"}, claims, self.key)

    # userinfo and logout -------------------------------------------------------------------------
    def userinfo(self, bearer: str) -> dict[str, Any]:
        found = self.access.get(bearer)
        if found is None or found[1] < time.time() or found[2] not in self.sessions:
            raise OAuthFailure("invalid_token", "the access token is unknown, expired or revoked", 401)
        return dict(found[0].claims)

    def end_session(self, id_token_hint: str | None, session_cookie: str | None) -> str | None:
        """Close the SSO session of the hint (signature checked, expiry not) or of the cookie."""
        session = session_cookie
        if id_token_hint:
            try:
                claims = jwt.decode(id_token_hint, KeySet([self.key]), algorithms=["RS256"]).claims
            except (JoseError, ValueError) as exc:
                raise OAuthFailure("invalid_request", "id_token_hint was not issued by this provider") from exc
            if claims.get("iss") != self.issuer:
                raise OAuthFailure("invalid_request", "id_token_hint was not issued by this provider")
            session = str(claims.get("sid", "")) or session
        if session and self.sessions.pop(session, None) is not None:
            self.ended_sessions.append(session)
            for token in [t for t, (_, _, s) in self.access.items() if s == session]:
                del self.access[token]
            return session
        return None

    def _expire(self) -> None:
        now = time.time()
        for rid in [r for r, req in self.requests.items() if req.expires < now]:
            del self.requests[rid]
        for code in [c for c, g in self.grants.items() if g.expires + REQUEST_TTL < now]:
            del self.grants[code]
