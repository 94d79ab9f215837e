"""ID token checks with tokens forged by the test: signature, algorithm, issuer, audience, expiry,
nonce, acr (SGL.PSC.01). A relying party that skipped one of them would accept a stolen or forged login."""

from __future__ import annotations

import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey

from facades.psc import PscLoginRefused, verify_id_token

ISSUER = "https://auth.example.test/auth/realms/esante-wallet"
CLIENT = "opensgl-dev"
NONCE = "n-0S6_WzA2Mj"


@pytest.fixture(scope="module")
def provider_key() -> RSAKey:
    key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"})
    key.ensure_kid()
    return key


def _claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "f:1234:899700200001", "aud": CLIENT, "exp": now + 300, "iat": now,
              "nonce": NONCE, "acr": "eidas1"}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _verify(token: str, key: RSAKey) -> dict[str, Any]:
    keys = KeySet([RSAKey.import_key(key.as_dict(private=False))])
    return verify_id_token(token, keys, issuer=ISSUER, client_id=CLIENT, nonce=NONCE, acr="eidas1")


def _sign(key: RSAKey, **changes: Any) -> str:
    return jwt.encode({"alg": "RS256", "kid": key.kid}, _claims(**changes), key)


@pytest.mark.req("SGL.PSC.01")
def test_valid_token_passes_SGL_PSC_01(provider_key: RSAKey) -> None:
    assert _verify(_sign(provider_key), provider_key)["sub"] == "f:1234:899700200001"


@pytest.mark.req("SGL.PSC.01")
@pytest.mark.parametrize(("changes", "reason"), [
    ({"iss": "https://evil.example/auth/realms/esante-wallet"}, "'iss'"),
    ({"aud": "another-client"}, "not meant for this client"),
    ({"aud": [CLIENT, "another-client"]}, "azp"),
    ({"exp": int(time.time()) - 120}, "expired"),
    ({"nonce": "replayed-nonce"}, "'nonce'"),
    ({"nonce": None}, "'nonce'"),
    ({"acr": "eidas0"}, "acr"),
    ({"sub": None}, "'sub'"),
    ({"iat": None}, "'iat'"),
])
def test_wrong_claims_are_refused_SGL_PSC_01(provider_key: RSAKey, changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(PscLoginRefused, match=reason):
        _verify(_sign(provider_key, **changes), provider_key)


@pytest.mark.req("SGL.PSC.01")
def test_token_signed_by_another_key_is_refused_SGL_PSC_01(provider_key: RSAKey) -> None:
    other = RSAKey.generate_key(2048)
    other.ensure_kid()
    with pytest.raises(PscLoginRefused, match="signature"):
        _verify(jwt.encode({"alg": "RS256", "kid": provider_key.kid}, _claims(), other), provider_key)


@pytest.mark.req("SGL.PSC.01")
def test_alg_none_and_hmac_with_the_client_secret_are_refused_SGL_PSC_01(provider_key: RSAKey) -> None:
    import base64
    import json

    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(_claims())}."
    with pytest.raises(PscLoginRefused):
        _verify(unsigned, provider_key)
    secret = OctKey.import_key(b"opensgl-dev-secret-opensgl-dev-secret")
    hmac_token = jwt.encode({"alg": "HS256"}, _claims(), secret)
    with pytest.raises(PscLoginRefused):
        _verify(hmac_token, provider_key)


@pytest.mark.req("SGL.PSC.01")
def test_tampered_payload_is_refused_SGL_PSC_01(provider_key: RSAKey) -> None:
    header, payload, signature = _sign(provider_key).split(".")
    import base64
    import json

    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "f:9999:899700299999"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(PscLoginRefused, match="signature"):
        _verify(f"{header}.{forged}.{signature}", provider_key)
