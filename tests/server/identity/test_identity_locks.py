"""Locked strict traits and downgrades over HTTP, and what then leaves the system (SGL.INS.29-36, .17)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from facades.hl7v2 import AssigningAuthority, build_pid
from resources.ins import identity_status, ins_identifier
from server.identity.vocabulary import LOCKED_TRAITS_URL, history
from tests.support.access import caller_id
from tests.support.identity_samples import out, parameters, provisional

pytestmark = pytest.mark.db
IPP = AssigningAuthority("LAB", "1.2.250.1.999.1")


async def recup(desk: httpx.AsyncClient) -> dict[str, Any]:
    body = {k: v for k, v in provisional().items() if k != "id"}
    body["identifier"] = [{"system": "urn:oid:1.2.250.1.999.1", "value": "IPP-LOCKS"}]
    created = (await desk.post("Patient", json=body)).json()
    r = await desk.post("Patient/$insi-search", json=parameters(patient=f"Patient/{created['id']}", apply=True))
    patient: dict[str, Any] = out(r.json(), "patient")
    assert identity_status(patient) == "RECUP"
    return patient


@pytest.mark.req("SGL.INS.29")
@pytest.mark.req("SGL.INS.30")
@pytest.mark.req("SGL.INS.31")
async def test_locked_trait_edit_is_refused_over_http_and_nothing_changes_SGL_INS_29_30_31(
        desk: httpx.AsyncClient) -> None:
    patient = await recup(desk)
    flag = next(e for e in patient["extension"] if e["url"] == LOCKED_TRAITS_URL)
    assert "Patient.birthDate" in [s["valueString"] for s in flag["extension"]]
    r = await desk.put(f"Patient/{patient['id']}", json={**patient, "birthDate": "1997-02-27"})
    assert r.status_code == 422, r.text
    issue = r.json()["issue"][0]
    assert issue["code"] == "business-rule" and "SGL.INS.29" in issue["diagnostics"]
    assert issue["expression"] == ["Patient.birthDate"]
    stored = (await desk.get(f"Patient/{patient['id']}")).json()
    assert stored["meta"]["versionId"] == patient["meta"]["versionId"] and stored["birthDate"] == "1997-02-26"
    usual = [*stored["name"], {"use": "usual", "family": "MARTIN"}]
    r = await desk.put(f"Patient/{patient['id']}", json={**stored, "name": usual})
    assert r.status_code == 200 and identity_status(r.json()) == "RECUP" and ins_identifier(r.json()) is not None


@pytest.mark.req("SGL.INS.32")
@pytest.mark.req("SGL.INS.33")
@pytest.mark.req("SGL.INS.34")
@pytest.mark.req("SGL.INS.36")
@pytest.mark.req("SGL.INS.17")
async def test_super_user_edit_downgrades_and_no_output_carries_the_ins_SGL_INS_32_33_34_36_17(
        desk: httpx.AsyncClient, superuser: httpx.AsyncClient) -> None:
    pid = (await recup(desk))["id"]
    r = await desk.post(f"Patient/{pid}/$validate-identity", json=parameters(justificatif="CN"))
    patient = out(r.json(), "patient")
    assert identity_status(patient) == "QUAL"
    assert "297022A02077878" in str(build_pid(patient, ipp_authority=IPP)), "a qualified INS is emitted"
    r = await superuser.put(f"Patient/{pid}", json={**patient, "birthDate": "1997-02-27"})
    assert r.status_code == 200, r.text
    after = r.json()
    assert identity_status(after) == "VALI" and ins_identifier(after) is None
    assert [i.get("use") for i in after["identifier"]] == ["old", None]
    assert "297022A02077878" not in str(build_pid(after, ipp_authority=IPP)), "the change reaches every output"
    row = history(after)[-1]
    assert (row["previous"], row["status"], row["author"], row["role"]) == (
        "QUAL", "VALI", caller_id(superuser), "biologiste-responsable")
    versions = (await desk.get(f"Patient/{pid}/_history")).json()
    assert len(versions["entry"]) == 4 and all(e["resource"]["meta"]["lastUpdated"] for e in versions["entry"])
