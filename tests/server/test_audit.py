"""SGL.INS.03: every access to a patient identity leaves an AuditEvent naming who, when and whom."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.support.access import caller_id

pytestmark = pytest.mark.db
FHIR = {"Content-Type": "application/fhir+json"}


async def _audits(fhir: httpx.AsyncClient, pid: str, *, changes: bool = False) -> list[dict[str, object]]:
    """The accesses traced for a patient (its creation and changes too with ``changes``)."""
    bundle = (await fhir.get("AuditEvent", params={"entity": f"Patient/{pid}", "_count": "100"})).json()
    events = [e["resource"] for e in bundle.get("entry", [])]
    return events if changes else [e for e in events if e["action"] not in ("C", "U", "D")]


@pytest.mark.req("SGL.INS.03")
async def test_read_and_search_of_a_patient_are_traced_SGL_INS_03(fhir: httpx.AsyncClient) -> None:
    family = f"Trace{uuid.uuid4().hex[:8]}"
    created = (await fhir.post("Patient", json={"resourceType": "Patient", "name": [{"family": family}]},
                               headers=FHIR)).json()
    pid = created["id"]
    assert await _audits(fhir, pid) == []
    await fhir.get(f"Patient/{pid}")
    events = await _audits(fhir, pid)
    assert len(events) == 1
    event = events[0]
    assert event["subtype"][0]["code"] == "read"
    assert event["agent"][0]["who"]["identifier"]["value"] == caller_id(fhir)
    assert event["agent"][0]["network"]["address"] == "127.0.0.1"
    assert event["recorded"].startswith("20")
    await fhir.get("Patient", params={"family": family})
    events = await _audits(fhir, pid)
    assert sorted(e["subtype"][0]["code"] for e in events) == ["read", "search-type"]
    search_event = next(e for e in events if e["subtype"][0]["code"] == "search-type")
    assert f"family={family}" in search_event["entity"][-1]["description"]


@pytest.mark.req("SGL.INS.03")
async def test_patients_reached_through_include_are_traced_SGL_INS_03(fhir: httpx.AsyncClient) -> None:
    pid = (await fhir.post("Patient", json={"resourceType": "Patient"}, headers=FHIR)).json()["id"]
    await fhir.post("Observation", json={"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                                         "subject": {"reference": f"Patient/{pid}"}}, headers=FHIR)
    await fhir.get("Observation", params={"patient": pid, "_include": "Observation:subject"})
    assert len(await _audits(fhir, pid)) == 1


async def test_search_returning_no_patient_is_not_audited(fhir: httpx.AsyncClient) -> None:
    before = (await fhir.get("AuditEvent", params={"_summary": "count"})).json()["total"]
    await fhir.get("Patient", params={"family": f"nobody{uuid.uuid4().hex}"})
    after = (await fhir.get("AuditEvent", params={"_summary": "count"})).json()["total"]
    assert after == before


@pytest.mark.req("SGL.INS.17")
async def test_identity_changes_are_traced_with_the_authenticated_agent_SGL_INS_17(fhir: httpx.AsyncClient) -> None:
    created = (await fhir.post("Patient", json={"resourceType": "Patient", "name": [{"family": "TRACECHANGE"}]},
                               headers=FHIR)).json()
    pid = created["id"]
    await fhir.put(f"Patient/{pid}", json={**created, "gender": "other"}, headers=FHIR)
    assert (await fhir.delete(f"Patient/{pid}")).status_code in (200, 204)
    events = await _audits(fhir, pid, changes=True)
    assert sorted(e["action"] for e in events) == ["C", "D", "U"]  # type: ignore[type-var]
    assert all(e["agent"][0]["who"]["identifier"]["value"] == caller_id(fhir) for e in events)  # type: ignore[index]
    assert all(e["agent"][0]["who"]["reference"].startswith("Practitioner/") for e in events)  # type: ignore[index]
