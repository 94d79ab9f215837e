"""Habilitations (SGL.INS.05-06): the profile table, then the same rules over HTTP."""

from __future__ import annotations

import httpx
import pytest

from resources.errors import Forbidden
from server.identity.roles import PROFILES, Right, profile
from tests.server.identity.identity_samples import parameters, provisional

pytestmark = pytest.mark.db


def test_profiles_table() -> None:
    assert profile("super-utilisateur").allows(Right.UNLOCK)
    assert not any(profile(r).allows(Right.UNLOCK) for r in PROFILES if r != "super-utilisateur")
    assert not profile("source-identite").allows(Right.INSI)
    assert profile("nobody").rights == frozenset()
    with pytest.raises(Forbidden) as err:
        profile("technicien").require(Right.SEE)
    assert "technicien" in err.value.diagnostics and err.value.status == 403


@pytest.mark.req("SGL.INS.05")
async def test_unauthorised_profile_cannot_open_identity_data_SGL_INS_05(desk: httpx.AsyncClient,
                                                                         tech: httpx.AsyncClient) -> None:
    created = (await desk.post("Patient", json={k: v for k, v in provisional().items() if k != "id"})).json()
    assert (await desk.get(f"Patient/{created['id']}")).status_code == 200
    for r in (await tech.get(f"Patient/{created['id']}"), await tech.get("Patient", params={"family": "ADRTROIS"}),
              await tech.post("Patient/_search", data={"family": "ADRTROIS"}),
              await tech.get(f"Patient/{created['id']}/_history"), await tech.get("Patient/_history"),
              await tech.get(f"Patient/{created['id']}/_history/1"),
              await tech.get("Patient/$duplicates", params={"birthdate": "1997-02-26"}),
              await tech.post("Patient", json={k: v for k, v in provisional().items() if k != "id"})):
        assert r.status_code == 403, r.text
        assert r.json()["issue"][0]["code"] == "forbidden" and "technicien" in r.json()["issue"][0]["diagnostics"]
    r = await tech.put(f"Patient/{created['id']}", json={**created, "gender": "male"})
    assert r.status_code == 403
    assert (await desk.get(f"Patient/{created['id']}")).json()["gender"] == "female"
    assert (await desk.get(f"Patient/{created['id']}/_history/1")).status_code == 200
    assert (await desk.get("Patient/_history")).status_code == 200


@pytest.mark.req("SGL.INS.06")
async def test_insi_follows_the_identity_habilitations_SGL_INS_06(desk: httpx.AsyncClient,
                                                                  tech: httpx.AsyncClient) -> None:
    created = (await desk.post("Patient", json={k: v for k, v in provisional().items() if k != "id"})).json()
    for r in (await tech.post("Patient/$insi-search", json=parameters(patient=f"Patient/{created['id']}")),
              await tech.post(f"Patient/{created['id']}/$insi-verify"),
              await tech.post(f"Patient/{created['id']}/$validate-identity", json=parameters(justificatif="CN"))):
        assert r.status_code == 403, r.text
    traces = await desk.get("AuditEvent", params={"entity": f"Patient/{created['id']}"})
    assert not [e for e in traces.json().get("entry", []) if e["resource"]["type"]["code"] == "insi"]
