"""``POST /fhir/ServiceRequest/$order`` over real HTTP: one transaction writes the requisition group,
the tubes with their accession numbers, the correspondents and the patient's refusals, traced."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from server.database import Database
from server.orders import pending_orders
from tests.support.access import caller_id
from tests.support.orders_lab import People, count, created, order_parameters, patient_body, written

EXAMS = ["GLY", "URE", "CREAT", "NFS"]
REFUSALS = ("mssante-pro", "mssante-patient", "dmp")
CHANNELS = "https://opensgl.org/fhir/CodeSystem/report-channel"
COPIES_TO = "https://opensgl.org/fhir/StructureDefinition/result-copies-to"
TYPES = ("ServiceRequest", "Specimen", "Consent", "Provenance")


@pytest.fixture(scope="module")
async def placed(fhir: httpx.AsyncClient, order_people: People) -> dict[str, Any]:
    resp = await fhir.post("ServiceRequest/$order",
                           json=order_parameters(order_people, EXAMS, correspondents=12, refusals=REFUSALS))
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


async def _stored(fhir: httpx.AsyncClient, resource: dict[str, Any]) -> dict[str, Any]:
    resp = await fhir.get(f"{resource['resourceType']}/{resource['id']}")
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


async def _consent(fhir: httpx.AsyncClient, placed: dict[str, Any], channel: str) -> dict[str, Any]:
    [consent] = [c for c in written(placed, "Consent") if c["category"][1]["coding"][0]["code"] == channel]
    return await _stored(fhir, consent)


def _requisition_refs(placed: dict[str, Any]) -> set[str]:
    return {f"ServiceRequest/{r['id']}" for r in written(placed, "ServiceRequest")}


async def test_order_writes_one_service_request_per_exam_sharing_the_requisition(
        fhir: httpx.AsyncClient, placed: dict[str, Any], order_people: People) -> None:
    requests = [await _stored(fhir, r) for r in written(placed, "ServiceRequest")]
    assert [r["code"]["coding"][0]["code"] for r in requests] == EXAMS
    assert len({r["requisition"]["value"] for r in requests}) == 1
    assert all(r["status"] == "active" and r["intent"] == "order" for r in requests)
    assert all(r["subject"]["reference"] == order_people.patient for r in requests)
    assert all(r["requester"]["reference"] == order_people.requester for r in requests)
    assert all(r["instantiatesCanonical"][0].endswith(f"exam-{r['code']['coding'][0]['code']}") for r in requests)


async def test_order_puts_exams_sharing_a_container_in_one_specimen(fhir: httpx.AsyncClient,
                                                                     placed: dict[str, Any]) -> None:
    specimens = [await _stored(fhir, s) for s in written(placed, "Specimen")]
    by_container = {s["container"][0]["type"]["coding"][0]["code"]: s for s in specimens}
    assert sorted(by_container) == ["EDTA", "FLUO", "SEC"]
    assert by_container["SEC"]["type"]["coding"][0]["code"] == "SER"
    assert by_container["EDTA"]["type"]["coding"][0]["code"] == "BLD"
    assert by_container["FLUO"]["container"][0]["type"]["text"] == "Tube fluorure de sodium"
    assert all(s["collection"]["collectedDateTime"] == "2026-11-26T07:45:00+01:00" for s in specimens)
    accessions = [s["accessionIdentifier"]["value"] for s in specimens]
    assert len(set(accessions)) == 3 and all(len(a) == 10 and a.isdigit() for a in accessions)
    requests = {f"ServiceRequest/{r['id']}": r for r in written(placed, "ServiceRequest")}
    sec = {requests[ref["reference"]]["code"]["coding"][0]["code"] for ref in by_container["SEC"]["request"]}
    assert sec == {"URE", "CREAT"}
    for ref, request in requests.items():
        [tube] = request["specimen"]
        assert ref in {r["reference"] for s in specimens if f"Specimen/{s['id']}" == tube["reference"]
                       for r in s["request"]}


@pytest.mark.req("SGL.MSS.15")
async def test_order_keeps_twelve_correspondents_on_every_exam_SGL_MSS_15(
        fhir: httpx.AsyncClient, placed: dict[str, Any], order_people: People) -> None:
    for request in written(placed, "ServiceRequest"):
        stored = await _stored(fhir, request)
        copies = [e["valueReference"]["reference"] for e in stored["extension"] if e["url"] == COPIES_TO]
        assert copies == order_people.correspondents[:12]


async def _check_refusal(fhir: httpx.AsyncClient, placed: dict[str, Any], people: People, channel: str,
                         rule: str) -> dict[str, Any]:
    consent = await _consent(fhir, placed, channel)
    assert consent["status"] == "active"
    assert consent["patient"]["reference"] == people.patient
    assert consent["provision"]["type"] == "deny"
    assert consent["provision"]["action"][0]["coding"][0]["code"] == "disclose"
    assert {d["reference"]["reference"] for d in consent["provision"]["data"]} == _requisition_refs(placed)
    assert consent["category"][1]["coding"][0]["system"] == CHANNELS and consent["category"][1]["text"] == rule
    assert consent["policyRule"]["coding"][0]["code"] == "OPTOUT"
    assert consent["dateTime"]
    search = await fhir.get("Provenance", params={"target": f"Consent/{consent['id']}"})
    [trace] = [e["resource"] for e in search.json()["entry"]]
    assert trace["target"][0]["reference"] == f"Consent/{consent['id']}/_history/1"
    assert trace["agent"][0]["who"]["identifier"]["value"] == caller_id(fhir)
    assert rule in trace["reason"][0]["text"]
    return consent


@pytest.mark.req("SGL.MSS.16")
async def test_order_records_refusal_of_mssante_to_professionals_SGL_MSS_16(
        fhir: httpx.AsyncClient, placed: dict[str, Any], order_people: People) -> None:
    await _check_refusal(fhir, placed, order_people, "mssante-pro", "SGL.MSS.16")


@pytest.mark.req("SGL.MSS.19")
async def test_order_records_refusal_of_mssante_to_the_patient_SGL_MSS_19(
        fhir: httpx.AsyncClient, placed: dict[str, Any], order_people: People) -> None:
    await _check_refusal(fhir, placed, order_people, "mssante-patient", "SGL.MSS.19")


@pytest.mark.req("SGL.DMP.02")
async def test_order_records_blocked_dmp_feeding_SGL_DMP_02(
        fhir: httpx.AsyncClient, placed: dict[str, Any], order_people: People) -> None:
    await _check_refusal(fhir, placed, order_people, "dmp", "SGL.DMP.02")


async def test_order_creation_is_traced(fhir: httpx.AsyncClient, placed: dict[str, Any]) -> None:
    [request, *_] = written(placed, "ServiceRequest")
    search = await fhir.get("Provenance", params={"target": f"ServiceRequest/{request['id']}"})
    [trace] = [e["resource"] for e in search.json()["entry"]]
    targets = {t["reference"].split("/_history")[0] for t in trace["target"]}
    assert targets == {f"{r['resourceType']}/{r['id']}" for r in written(placed, "ServiceRequest")
                       + written(placed, "Specimen")}
    assert trace["activity"]["coding"][0]["code"] == "CREATE"


async def test_pending_orders_of_an_accession_number(placed: dict[str, Any], sgl_db: Database) -> None:
    sec = next(s for s in written(placed, "Specimen") if s["container"][0]["type"]["coding"][0]["code"] == "SEC")
    pending = await pending_orders(sgl_db.store, sec["accessionIdentifier"]["value"])
    assert sorted(r["code"]["coding"][0]["code"] for r in pending) == ["CREAT", "URE"]
    assert await pending_orders(sgl_db.store, "9999999999") == []


async def test_accession_numbers_are_unique_under_concurrent_orders(fhir: httpx.AsyncClient,
                                                                   order_people: People) -> None:
    body = order_parameters(order_people, ["GLY", "NFS"])
    responses = await asyncio.gather(*(fhir.post("ServiceRequest/$order", json=body) for _ in range(16)))
    assert [r.status_code for r in responses] == [201] * 16, [r.text for r in responses if r.status_code != 201]
    accessions = [s["accessionIdentifier"]["value"] for r in responses for s in written(r.json(), "Specimen")]
    assert len(accessions) == 32 and len(set(accessions)) == 32
    requisitions = {sr["requisition"]["value"] for r in responses for sr in written(r.json(), "ServiceRequest")}
    assert len(requisitions) == 16


async def _counts(sgl_db: Database) -> list[int]:
    return [await count(sgl_db, t) for t in TYPES]


async def test_order_with_an_unknown_exam_writes_nothing(fhir: httpx.AsyncClient, order_people: People,
                                                         sgl_db: Database) -> None:
    before = await _counts(sgl_db)
    body = order_parameters(order_people, ["GLY", "NOPE"], correspondents=2, refusals=("dmp",))
    resp = await fhir.post("ServiceRequest/$order", json=body)
    assert resp.status_code == 422
    issue = resp.json()["issue"][0]
    assert "NOPE" in issue["diagnostics"]
    assert issue["expression"] == ["Parameters.parameter[5].valueCoding"]
    assert await _counts(sgl_db) == before


async def test_order_without_patient_writes_nothing(fhir: httpx.AsyncClient, order_people: People,
                                                    sgl_db: Database) -> None:
    before = await _counts(sgl_db)
    body = order_parameters(order_people, ["GLY"])
    body["parameter"] = [p for p in body["parameter"] if p["name"] != "patient"]
    resp = await fhir.post("ServiceRequest/$order", json=body)
    assert resp.status_code == 400
    assert resp.json()["issue"][0]["expression"] == ["Parameters.parameter[patient]"]
    body["parameter"].append({"name": "patient", "valueReference": {"reference": "Patient/does-not-exist"}})
    resp = await fhir.post("ServiceRequest/$order", json=body)
    assert resp.status_code == 422
    assert "does not exist" in resp.json()["issue"][0]["diagnostics"]
    assert await _counts(sgl_db) == before


async def test_order_rejects_unknown_parameters_and_refusal_channels(fhir: httpx.AsyncClient,
                                                                     order_people: People) -> None:
    body = order_parameters(order_people, ["GLY"], refusals=("fax",))
    resp = await fhir.post("ServiceRequest/$order", json=body)
    assert resp.status_code == 400 and "fax" in resp.json()["issue"][0]["diagnostics"]
    body = order_parameters(order_people, ["GLY"])
    body["parameter"].append({"name": "colour", "valueString": "red"})
    resp = await fhir.post("ServiceRequest/$order", json=body)
    assert resp.status_code == 400 and resp.json()["issue"][0]["expression"] == ["Parameters.parameter[4].name"]
    resp = await fhir.post("ServiceRequest/$order", json={"resourceType": "Patient"})
    assert resp.status_code == 400


async def test_order_with_an_unknown_or_repeated_correspondent_writes_nothing(
        fhir: httpx.AsyncClient, order_people: People, sgl_db: Database) -> None:
    before = await _counts(sgl_db)
    body = order_parameters(order_people, ["GLY"], correspondents=3)
    body["parameter"][3]["valueReference"]["reference"] = "PractitionerRole/nobody"
    resp = await fhir.post("ServiceRequest/$order", json=body)
    assert resp.status_code == 422
    assert resp.json()["issue"][0]["expression"] == ["Parameters.parameter[3].valueReference"]
    body = order_parameters(order_people, ["GLY"], correspondents=2)
    body["parameter"][3] = body["parameter"][2]
    resp = await fhir.post("ServiceRequest/$order", json=body)
    assert resp.status_code == 400 and "twice" in resp.json()["issue"][0]["diagnostics"]
    body = order_parameters(order_people, ["GLY"])
    body["parameter"][1]["valueReference"]["reference"] = order_people.patient
    resp = await fhir.post("ServiceRequest/$order", json=body)
    assert resp.status_code == 400
    assert resp.json()["issue"][0]["expression"] == ["Parameters.parameter[1].valueReference"]
    assert await _counts(sgl_db) == before


@pytest.mark.parametrize("merged_into", [True, False])
async def test_order_for_a_merged_identity_is_refused_and_writes_nothing(fhir: httpx.AsyncClient,
                                                                         order_people: People,
                                                                         sgl_db: Database, merged_into: bool) -> None:
    """RNIV: an identity merged away (inactive, replaced-by) or inactive takes no new order; the message names the
    identity kept."""
    links = {"link": [{"other": {"reference": order_people.patient}, "type": "replaced-by"}]} if merged_into else {}
    merged = await created(fhir, {**patient_body("ORDRE-FUSIONNE"), "active": False, **links})
    before = await _counts(sgl_db)
    body = order_parameters(order_people, ["GLY"])
    body["parameter"] = [p for p in body["parameter"] if p["name"] != "patient"]
    body["parameter"].append({"name": "patient", "valueReference": {"reference": merged}})
    resp = await fhir.post("ServiceRequest/$order", json=body)
    assert resp.status_code == 422, resp.text
    issue = resp.json()["issue"][0]
    assert (f"merged into {order_people.patient}" if merged_into else "is inactive") in issue["diagnostics"]
    assert issue["expression"] == ["Parameters.parameter[patient].valueReference"]
    assert await _counts(sgl_db) == before
