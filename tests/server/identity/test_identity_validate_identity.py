"""``$validate-identity``: the justificatif recorded by a user, the only way to validate (SGL.INS.18-21)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from resources.errors import InvalidInput
from resources.ins import identity_status
from server.identity.policy import IdentityPolicy
from server.identity.vocabulary import attribute_extension, reliability, with_reliability
from server.settings import Settings
from tests.support.identity_samples import out, parameters, provisional

pytestmark = pytest.mark.db


async def created(desk: httpx.AsyncClient, *extra: dict[str, Any]) -> dict[str, Any]:
    patient = {k: v for k, v in provisional().items() if k != "id"}
    patient["extension"] = [*patient["extension"], *extra]
    r = await desk.post("Patient", json=patient)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


@pytest.mark.req("SGL.INS.19")
def test_site_list_of_justificatifs_with_trust_levels_SGL_INS_19() -> None:
    policy = IdentityPolicy.from_settings(Settings(identity_justificatifs={"PC": "high", "XX": "low"}))
    assert policy.justificatif("pc").trust == "high" and policy.justificatif("XX").trust == "low"
    assert policy.justificatif("CN").trust == "high"
    with pytest.raises(InvalidInput) as err:
        IdentityPolicy.from_settings(Settings(identity_justificatifs={"CN": "medium"}))
    assert err.value.expression == ["SGL_IDENTITY_JUSTIFICATIFS"]


@pytest.mark.req("SGL.INS.18")
@pytest.mark.req("SGL.INS.19")
async def test_low_trust_justificatif_is_recorded_but_does_not_validate_SGL_INS_18_19(desk: httpx.AsyncClient) -> None:
    patient = await created(desk)
    r = await desk.post(f"Patient/{patient['id']}/$validate-identity", json=parameters(justificatif="PC"))
    assert r.status_code == 200, r.text
    stored = out(r.json(), "patient")
    assert identity_status(stored) == "PROV"
    assert reliability(stored)["validationMode"]["valueCoding"]["code"] == "PC"
    assert "SGL.INS.19" in out(r.json(), "outcome")["issue"][0]["diagnostics"]
    r = await desk.post(f"Patient/{patient['id']}/$validate-identity", json=parameters(justificatif="ZZ"))
    assert r.status_code == 400 and r.json()["issue"][0]["expression"] == ["Parameters.parameter('justificatif')"]


@pytest.mark.req("SGL.INS.20")
@pytest.mark.req("SGL.INS.21")
@pytest.mark.req("SGL.INS.24")
async def test_only_a_user_action_validates_SGL_INS_20_21_24(desk: httpx.AsyncClient) -> None:
    """There is no automatic validation: a PUT claiming VALI is refused; the operation validates."""
    patient = await created(desk)
    r = await desk.put(f"Patient/{patient['id']}", json=with_reliability(dict(patient), "VALI", {}))
    assert r.status_code == 422 and "SGL.INS.20" in r.text
    assert identity_status((await desk.get(f"Patient/{patient['id']}")).json()) == "PROV"
    r = await desk.post(f"Patient/{patient['id']}/$validate-identity", json=parameters(justificatif="CN"))
    assert out(r.json(), "status") == "VALI" and identity_status(out(r.json(), "patient")) == "VALI"


@pytest.mark.req("SGL.INS.27")
async def test_doubtful_identity_cannot_be_validated_SGL_INS_27(desk: httpx.AsyncClient) -> None:
    patient = await created(desk, attribute_extension("DOUTE"))
    r = await desk.post(f"Patient/{patient['id']}/$validate-identity", json=parameters(justificatif="CN"))
    assert r.status_code == 422 and "SGL.INS.27" in r.text
    assert (await desk.get(f"Patient/{patient['id']}")).json()["meta"]["versionId"] == "1"
