"""Habilitations (SGL.INS.05-06): the identity rights are rows of the one permission table, then the
same rules over HTTP: a technician reads identities with the INS masked, never changes them, never
calls INSi."""

from __future__ import annotations

import httpx
import pytest

from resources.errors import Forbidden
from resources.ins import ins_identifier
from resources.patient_traits import BIRTHPLACE_URL
from server.identity.roles import Right, profile
from tests.support.identity_samples import MATRICULE, parameters, provisional, with_status

pytestmark = pytest.mark.db


def test_identity_rights_are_rows_of_the_permission_table() -> None:
    assert profile("biologiste-responsable").allows(Right.UNLOCK)
    assert not any(profile(r).allows(Right.UNLOCK) for r in ("secretaire", "biologiste", "technicien"))
    assert not profile("source-identite").allows(Right.INSI) and profile("source-identite").allows(Right.FEED)
    assert profile("nobody").rights == frozenset()
    assert profile("technicien").allows(Right.SEE) and not profile("technicien").allows(Right.INS)
    with pytest.raises(Forbidden) as err:
        profile("technicien").require(Right.EDIT)
    assert "technicien" in err.value.diagnostics and "update on Patient" in err.value.diagnostics


async def _qualified(feed: httpx.AsyncClient) -> dict[str, object]:
    """A qualified identity with its INS, as the trusted identity source sends it."""
    qualified = with_status({k: v for k, v in provisional().items() if k != "id"}, "QUAL")
    answer = await feed.post("Patient", json=qualified)
    assert answer.status_code == 201, answer.text
    assert ins_identifier(answer.json()) is not None
    return dict(answer.json())


def _no_ins(patient: dict[str, object]) -> bool:
    text = str(patient)
    return (MATRICULE not in text and ins_identifier(patient) is None
            and not any(e.get("url") == BIRTHPLACE_URL for e in patient.get("extension", [])))  # type: ignore[attr-defined]


@pytest.mark.req("SGL.INS.05")
async def test_unauthorised_profile_never_sees_the_ins_nor_changes_identity_SGL_INS_05(
        desk: httpx.AsyncClient, tech: httpx.AsyncClient, feed: httpx.AsyncClient,
        superuser: httpx.AsyncClient) -> None:
    patient = await _qualified(feed)
    pid = patient["id"]
    assert ins_identifier((await desk.get(f"Patient/{pid}")).json()) is not None  # the desk is entitled
    seen = [(await tech.get(f"Patient/{pid}")).json(),
            *[e["resource"] for e in (await tech.get("Patient", params={"_id": pid})).json()["entry"]],
            *[e["resource"] for e in (await tech.post("Patient/_search", data={"_id": pid})).json()["entry"]],
            *[e["resource"] for e in (await tech.get(f"Patient/{pid}/_history")).json()["entry"]],
            (await tech.get(f"Patient/{pid}/_history/1")).json()]
    assert all(p["resourceType"] == "Patient" and p["name"] for p in seen)
    assert all(_no_ins(p) for p in seen), seen
    for r in (await tech.get("Patient/$duplicates", params={"birthdate": "1997-02-26"}),
              await tech.post("Patient", json={k: v for k, v in provisional().items() if k != "id"}),
              await tech.put(f"Patient/{pid}", json={**patient, "gender": "male"}),
              await tech.delete(f"Patient/{pid}")):
        assert r.status_code == 403, r.text
        assert r.json()["issue"][0]["code"] == "forbidden" and "technicien" in r.json()["issue"][0]["diagnostics"]
    assert (await desk.get(f"Patient/{pid}")).json()["gender"] == "female"


@pytest.mark.req("SGL.INS.05")
async def test_include_batch_and_bundles_mask_the_ins_for_a_technician_SGL_INS_05(
        desk: httpx.AsyncClient, tech: httpx.AsyncClient, feed: httpx.AsyncClient,
        superuser: httpx.AsyncClient) -> None:
    pid = (await _qualified(feed))["id"]
    report = await superuser.post("DiagnosticReport", json={
        "resourceType": "DiagnosticReport", "status": "registered", "code": {"text": "bilan"},
        "subject": {"reference": f"Patient/{pid}"}})
    assert report.status_code == 201, report.text
    included = (await tech.get("DiagnosticReport", params={"_id": report.json()["id"],
                                                           "_include": "DiagnosticReport:subject"})).json()
    patients = [e["resource"] for e in included["entry"] if e["resource"]["resourceType"] == "Patient"]
    assert [p["id"] for p in patients] == [pid] and _no_ins(patients[0])
    batch = (await tech.post("", json={"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "GET", "url": f"Patient/{pid}"}},
        {"request": {"method": "GET", "url": f"Patient?_id={pid}"}}]})).json()
    assert batch["entry"][0]["response"]["status"] == "200" and _no_ins(batch["entry"][0]["resource"])
    assert MATRICULE not in str(batch)
    revinclude = (await tech.get("Patient", params={"_id": pid, "_revinclude": "DiagnosticReport:subject"})).json()
    assert MATRICULE not in str(revinclude) and len(revinclude["entry"]) == 2


@pytest.mark.req("SGL.INS.06")
async def test_insi_follows_the_identity_habilitations_SGL_INS_06(desk: httpx.AsyncClient,
                                                                  tech: httpx.AsyncClient) -> None:
    created = (await desk.post("Patient", json={k: v for k, v in provisional().items() if k != "id"})).json()
    for r in (await tech.post("Patient/$insi-search", json=parameters(patient=f"Patient/{created['id']}")),
              await tech.post(f"Patient/{created['id']}/$insi-verify"),
              await tech.post(f"Patient/{created['id']}/$validate-identity", json=parameters(justificatif="CN"))):
        assert r.status_code == 403, r.text
        assert "technicien" in r.json()["issue"][0]["diagnostics"]
    traces = await desk.get("AuditEvent", params={"entity": f"Patient/{created['id']}"})
    assert not [e for e in traces.json().get("entry", []) if e["resource"]["type"]["code"] == "insi"]
