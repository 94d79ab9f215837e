"""Discovery documents and userinfo claims in the shapes PSC sends (SGL.PSC.01)."""

from __future__ import annotations

import pytest

from facades.psc import ProviderMetadata, PscLoginRefused, PscUnavailable, read_user
from facades.psc.simulator import professional

DOC = {"issuer": "https://auth.example.test/auth/realms/esante-wallet",
       "authorization_endpoint": "https://wallet.example.test/auth",
       "token_endpoint": "https://auth.example.test/auth/realms/esante-wallet/protocol/openid-connect/token",
       "userinfo_endpoint": "https://auth.example.test/auth/realms/esante-wallet/protocol/openid-connect/userinfo",
       "jwks_uri": "https://auth.example.test/auth/realms/esante-wallet/protocol/openid-connect/certs",
       "end_session_endpoint": "https://auth.example.test/auth/realms/esante-wallet/protocol/openid-connect/logout",
       "id_token_signing_alg_values_supported": ["RS256", "none"]}


def test_wallet_discovery_document_keeps_the_wallet_host_and_drops_none() -> None:
    meta = ProviderMetadata.from_document(DOC, source="test")
    assert meta.authorization_endpoint == "https://wallet.example.test/auth"
    assert meta.signing_algorithms == ("RS256",)


@pytest.mark.parametrize(("change", "reason"), [
    ({"token_endpoint": "http://auth.example.test/token"}, "non-HTTPS token_endpoint"),
    ({"jwks_uri": None}, "lacks jwks_uri"),
])
def test_unsafe_or_incomplete_discovery_is_refused(change: dict[str, object], reason: str) -> None:
    doc = {k: v for k, v in {**DOC, **change}.items() if v is not None}
    with pytest.raises(PscUnavailable, match=reason):
        ProviderMetadata.from_document(doc, source="test")


@pytest.mark.req("SGL.PSC.01")
def test_userinfo_gives_rpps_from_other_ids_SGL_PSC_01() -> None:
    claims = professional("899700300011", "LABO", "ANNE", "21", modes=("S", "L"))
    user = read_user(claims, id_token_subject=claims["sub"])
    assert (user.rpps, user.professions, user.exercise_modes) == ("99700300011", ("21",), ("S", "L"))


@pytest.mark.req("SGL.PSC.01")
def test_userinfo_about_another_subject_is_refused_SGL_PSC_01() -> None:
    claims = professional("899700300011", "LABO", "ANNE", "21")
    with pytest.raises(PscLoginRefused, match="another subject"):
        read_user(claims, id_token_subject="f:someone-else:899700300099")
    with pytest.raises(PscLoginRefused, match="SubjectNameID"):
        read_user({"sub": "x"}, id_token_subject="x")
