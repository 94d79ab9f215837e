"""ID token checks (OpenID Connect Core §3.1.3.7), done by us rather than trusted to the transport.

The token is a JWS signed with one of the provider's JWKS keys, with an asymmetric algorithm the
provider announced (never ``none``, never HMAC with the client secret); its ``iss`` is the
discovered issuer, ``aud`` contains our client id (``azp`` is ours when several audiences), ``exp``
is in the future, ``iat`` not in the future, ``nonce`` is the one this login sent, and ``acr`` is
the level asked for (``eidas1``).
"""

from __future__ import annotations

import time
from typing import Any

from joserfc import jwt
from joserfc.errors import ExpiredTokenError, InvalidClaimError, JoseError, MissingClaimError
from joserfc.jwk import KeySet

from facades.psc.errors import PscLoginRefused

ASYMMETRIC = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"})


def verify_id_token(token: str, keys: KeySet, *, issuer: str, client_id: str, nonce: str, acr: str | None,
                    algorithms: tuple[str, ...] = ("RS256",), leeway: int = 30,
                    now: int | None = None) -> dict[str, Any]:
    """The verified claims of ``token``; :class:`PscLoginRefused` naming the first check that failed."""
    allowed = [a for a in algorithms if a in ASYMMETRIC] or ["RS256"]
    try:
        decoded = jwt.decode(token, keys, algorithms=allowed)
    except JoseError as exc:
        raise PscLoginRefused(f"the ID token signature does not verify ({exc.error}: {exc.description or exc})",
                              expression="id_token") from exc
    except (ValueError, TypeError) as exc:
        raise PscLoginRefused(f"the ID token is not a signed JWT ({exc})", expression="id_token") from exc
    claims = decoded.claims
    registry = jwt.JWTClaimsRegistry(
        now=now if now is not None else int(time.time()), leeway=leeway,
        iss={"essential": True, "value": issuer}, sub={"essential": True}, exp={"essential": True},
        iat={"essential": True}, nonce={"essential": True, "value": nonce})
    try:
        registry.validate(claims)
    except ExpiredTokenError as exc:
        raise PscLoginRefused("the ID token has expired", expression="id_token.exp") from exc
    except (InvalidClaimError, MissingClaimError) as exc:
        name = getattr(exc, "claim", "") or str(exc)
        raise PscLoginRefused(f"the ID token claim {name!r} is missing or wrong", expression=f"id_token.{name}") \
            from exc
    except JoseError as exc:
        raise PscLoginRefused(f"the ID token is not valid ({exc.error})", expression="id_token") from exc
    _check_audience(claims, client_id)
    if acr is not None and claims.get("acr") != acr:
        raise PscLoginRefused(f"the ID token acr is {claims.get('acr')!r}, not the level asked for ({acr})",
                              expression="id_token.acr")
    return dict(claims)


def _check_audience(claims: dict[str, Any], client_id: str) -> None:
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if client_id not in audiences:
        raise PscLoginRefused(f"the ID token is not meant for this client (aud {aud!r})", expression="id_token.aud")
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise PscLoginRefused("the ID token has several audiences and azp is not this client",
                              expression="id_token.azp")
