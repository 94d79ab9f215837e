"""Answers that say what happened (issue 9 item 5), over real HTTP: 404 for what is not a FHIR type,
415 for what is not FHIR JSON, 422 naming the element for control characters, repeated includes once."""

from __future__ import annotations

import uuid

import httpx
import pytest

pytestmark = pytest.mark.db
FHIR = {"Content-Type": "application/fhir+json"}


def _outcome(r: httpx.Response) -> dict[str, object]:
    body: dict[str, object] = r.json()
    assert body["resourceType"] == "OperationOutcome", body
    return body


@pytest.mark.parametrize("name", ["Foo", "Patient_history", "inbound_messages", "_claims", "counters",
                                  "system.users", "Patient.x"])
async def test_search_on_a_name_that_is_not_a_fhir_type_is_404(fhir: httpx.AsyncClient, name: str) -> None:
    r = await fhir.get(name)
    assert r.status_code == 404
    assert _outcome(r)["issue"][0]["code"] == "not-found"  # type: ignore[index]
    post = await fhir.post(f"{name}/_search", data={"_count": "1"})
    assert post.status_code == 404


async def test_a_body_that_is_not_fhir_json_is_415(fhir: httpx.AsyncClient) -> None:
    body = b'{"resourceType": "Patient", "gender": "female"}'
    for headers in ({"Content-Type": "text/plain"}, {"Content-Type": "application/xml"},
                    {"Content-Type": "application/x-www-form-urlencoded"}):
        r = await fhir.post("Patient", content=body, headers=headers)
        assert r.status_code == 415, headers
        assert _outcome(r)["issue"][0]["code"] == "not-supported"  # type: ignore[index]
    before = (await fhir.get("Patient", params={"_summary": "count"})).json()["total"]
    assert (await fhir.put("Patient/x1", content=body, headers={"Content-Type": "text/plain"})).status_code == 415
    assert (await fhir.post("", content=body, headers={"Content-Type": "text/csv"})).status_code == 415
    assert (await fhir.get("Patient", params={"_summary": "count"})).json()["total"] == before
    ok = await fhir.post("Patient", content=body, headers={"Content-Type": "application/json; charset=utf-8"})
    assert ok.status_code == 201


@pytest.mark.parametrize("bad", ["Mar\x00tin", "Mar\x07tin", "Mar\x1btin", "\x0c"])
async def test_control_characters_in_a_string_are_422_naming_the_element(fhir: httpx.AsyncClient, bad: str) -> None:
    family = f"Ctl{uuid.uuid4().hex[:8]}"
    created = await fhir.post("Patient", json={"resourceType": "Patient", "name": [{"family": family}]}, headers=FHIR)
    pid = created.json()["id"]
    body = {"resourceType": "Patient", "name": [{"family": family, "given": ["Ann", bad]}]}
    r = await fhir.post("Patient", json=body, headers=FHIR)
    assert r.status_code == 422
    assert _outcome(r)["issue"][0]["expression"] == ["Patient.name[0].given[1]"]  # type: ignore[index]
    upd = await fhir.put(f"Patient/{pid}", json={**body, "id": pid}, headers=FHIR)
    assert upd.status_code == 422
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Patient", "name": [{"family": family}]},
         "request": {"method": "POST", "url": "Patient"}},
        {"fullUrl": "urn:uuid:2", "resource": body, "request": {"method": "POST", "url": "Patient"}}]}
    tx = await fhir.post("", json=bundle, headers=FHIR)
    assert tx.status_code == 422
    assert "Patient.name[0].given[1]" in _outcome(tx)["issue"][0]["expression"]  # type: ignore[index]
    batch = await fhir.post("", json={**bundle, "type": "batch"}, headers=FHIR)
    assert [e["response"]["status"][:3] for e in batch.json()["entry"]] == ["201", "422"]
    found = (await fhir.get("Patient", params={"family:exact": family})).json()
    assert found["total"] == 2  # the first one and the batch's valid entry; none with the control character
    assert all(bad not in str(e["resource"]) for e in found["entry"])


async def test_tab_cr_lf_stay_allowed(fhir: httpx.AsyncClient) -> None:
    r = await fhir.post("Patient", json={"resourceType": "Patient", "name": [{"text": "A\tB\r\nC"}]}, headers=FHIR)
    assert r.status_code == 201 and r.json()["name"][0]["text"] == "A\tB\r\nC"


async def test_repeated_include_and_revinclude_are_answered_once(fhir: httpx.AsyncClient) -> None:
    family = f"Inc{uuid.uuid4().hex[:8]}"
    pid = (await fhir.post("Patient", json={"resourceType": "Patient", "name": [{"family": family}]},
                           headers=FHIR)).json()["id"]
    obs = {"resourceType": "Observation", "status": "final", "code": {"text": "K"},
           "subject": {"reference": f"Patient/{pid}"}}
    for _ in range(3):
        assert (await fhir.post("Observation", json=obs, headers=FHIR)).status_code == 201
    once = (await fhir.get("Patient", params=[("_id", pid), ("_revinclude", "Observation:subject")])).json()
    many = (await fhir.get("Patient", params=[("_id", pid)] + [("_revinclude", "Observation:subject")] * 20
                           + [("_revinclude", "Observation:patient")] * 5)).json()
    assert len(once["entry"]) == len(many["entry"]) == 4
    assert len({e["fullUrl"] for e in many["entry"]}) == 4
    inc = (await fhir.get("Observation", params=[("subject", f"Patient/{pid}")] + [("_include", "Observation:subject")]
                          * 10)).json()
    assert [e["search"]["mode"] for e in inc["entry"]].count("include") == 1
