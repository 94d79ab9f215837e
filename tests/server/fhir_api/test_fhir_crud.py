"""CRUD, versioning, conditional interactions and error handling over real HTTP."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

pytestmark = pytest.mark.db
FHIR = {"Content-Type": "application/fhir+json"}


def patient(family: str = "Martin", **extra: object) -> dict[str, object]:
    return {"resourceType": "Patient", "name": [{"family": family, "given": ["Jeanne"]}], "gender": "female",
            "birthDate": "1975-04-12", **extra}


async def _create(fhir: httpx.AsyncClient, body: dict[str, object], **headers: str) -> httpx.Response:
    return await fhir.post(str(body["resourceType"]), json=body, headers={**FHIR, **headers})


async def test_create_returns_201_with_location_etag_and_last_modified(fhir: httpx.AsyncClient) -> None:
    r = await _create(fhir, patient())
    assert r.status_code == 201
    body = r.json()
    assert body["meta"]["versionId"] == "1"
    assert r.headers["ETag"] == 'W/"1"'
    assert r.headers["Location"].endswith(f"/fhir/Patient/{body['id']}/_history/1")
    assert r.headers["Last-Modified"].endswith("GMT")
    assert r.headers["Content-Type"].startswith("application/fhir+json")


async def test_read_and_vread_return_each_version(fhir: httpx.AsyncClient) -> None:
    created = (await _create(fhir, patient("Avant"))).json()
    pid = created["id"]
    updated = await fhir.put(f"Patient/{pid}", json={**created, "name": [{"family": "Apres"}]}, headers=FHIR)
    assert updated.status_code == 200 and updated.headers["ETag"] == 'W/"2"'
    current = await fhir.get(f"Patient/{pid}")
    assert current.json()["name"][0]["family"] == "Apres"
    v1 = await fhir.get(f"Patient/{pid}/_history/1")
    assert v1.status_code == 200 and v1.json()["name"][0]["family"] == "Avant"
    assert (await fhir.get(f"Patient/{pid}/_history/9")).status_code == 404


async def test_update_with_stale_if_match_is_412_and_changes_nothing(fhir: httpx.AsyncClient) -> None:
    created = (await _create(fhir, patient("Verrou"))).json()
    pid = created["id"]
    ok = await fhir.put(f"Patient/{pid}", json={**created, "gender": "other"}, headers={**FHIR, "If-Match": 'W/"1"'})
    assert ok.status_code == 200
    stale = await fhir.put(f"Patient/{pid}", json={**created, "gender": "male"}, headers={**FHIR, "If-Match": 'W/"1"'})
    assert stale.status_code == 412
    assert stale.json()["resourceType"] == "OperationOutcome"
    assert (await fhir.get(f"Patient/{pid}")).json()["gender"] == "other"


async def test_two_concurrent_updates_with_same_if_match_one_wins(fhir: httpx.AsyncClient) -> None:
    created = (await _create(fhir, patient("Course"))).json()
    pid = created["id"]
    bodies = [{**created, "gender": g} for g in ("male", "other")]
    results = await asyncio.gather(*(fhir.put(f"Patient/{pid}", json=b, headers={**FHIR, "If-Match": 'W/"1"'})
                                     for b in bodies))
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 412]
    winner = next(r for r in results if r.status_code == 200).json()
    history = (await fhir.get(f"Patient/{pid}/_history")).json()
    assert [e["resource"]["meta"]["versionId"] for e in history["entry"]] == ["2", "1"]
    assert (await fhir.get(f"Patient/{pid}")).json()["gender"] == winner["gender"]


async def test_update_with_same_content_creates_no_version(fhir: httpx.AsyncClient) -> None:
    created = (await _create(fhir, patient("Identique"))).json()
    again = await fhir.put(f"Patient/{created['id']}", json=created, headers=FHIR)
    assert again.status_code == 200 and again.headers["ETag"] == 'W/"1"'
    history = (await fhir.get(f"Patient/{created['id']}/_history")).json()
    assert len(history["entry"]) == 1


async def test_update_as_create_with_client_id(fhir: httpx.AsyncClient) -> None:
    pid = f"lab-{uuid.uuid4().hex[:12]}"
    r = await fhir.put(f"Patient/{pid}", json=patient("Choisi", id=pid), headers=FHIR)
    assert r.status_code == 201
    assert (await fhir.get(f"Patient/{pid}")).json()["id"] == pid


async def test_delete_keeps_history_and_read_is_410(fhir: httpx.AsyncClient) -> None:
    created = (await _create(fhir, patient("Efface"))).json()
    pid = created["id"]
    assert (await fhir.delete(f"Patient/{pid}")).status_code == 204
    gone = await fhir.get(f"Patient/{pid}")
    assert gone.status_code == 410 and gone.json()["issue"][0]["code"] == "deleted"
    assert (await fhir.get(f"Patient/{pid}/_history/1")).json()["name"][0]["family"] == "Efface"
    history = (await fhir.get(f"Patient/{pid}/_history")).json()
    assert [e["request"]["method"] for e in history["entry"]] == ["DELETE", "POST"]
    search = (await fhir.get("Patient", params={"_id": pid})).json()
    assert search["total"] == 0


async def test_type_history_lists_newest_first(fhir: httpx.AsyncClient) -> None:
    obs = {"resourceType": "Device", "identifier": [{"system": "urn:sgl:test", "value": uuid.uuid4().hex}]}
    created = (await _create(fhir, obs)).json()
    history = (await fhir.get("Device/_history", params={"_count": "50"})).json()
    assert history["type"] == "history"
    assert history["entry"][0]["resource"]["id"] == created["id"]


async def test_conditional_create_returns_the_existing_match(fhir: httpx.AsyncClient) -> None:
    ipp = uuid.uuid4().hex
    body = patient("Conditionnel", identifier=[{"system": "urn:oid:1.2.250.1.999", "value": ipp}])
    first = await _create(fhir, body, **{"If-None-Exist": f"identifier=urn:oid:1.2.250.1.999|{ipp}"})
    second = await _create(fhir, body, **{"If-None-Exist": f"identifier=urn:oid:1.2.250.1.999|{ipp}"})
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["id"] == second.json()["id"]


async def test_conditional_create_with_several_matches_is_412(fhir: httpx.AsyncClient) -> None:
    family = f"Double{uuid.uuid4().hex[:6]}"
    for _ in range(2):
        await _create(fhir, patient(family))
    r = await _create(fhir, patient(family), **{"If-None-Exist": f"family:exact={family}"})
    assert r.status_code == 412


async def test_conditional_update_creates_then_updates(fhir: httpx.AsyncClient) -> None:
    ipp = uuid.uuid4().hex
    body = patient("CondUpdate", identifier=[{"system": "urn:oid:1.2.250.1.999", "value": ipp}])
    url = f"Patient?identifier=urn:oid:1.2.250.1.999|{ipp}"
    first = await fhir.put(url, json=body, headers=FHIR)
    assert first.status_code == 201
    second = await fhir.put(url, json={**body, "gender": "other"}, headers=FHIR)
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"] and second.json()["meta"]["versionId"] == "2"


async def test_malformed_json_is_400_operation_outcome(fhir: httpx.AsyncClient) -> None:
    r = await fhir.post("Patient", content=b'{"resourceType": "Patient", "name": [', headers=FHIR)
    assert r.status_code == 400
    outcome = r.json()
    assert outcome["resourceType"] == "OperationOutcome" and "malformed JSON" in outcome["issue"][0]["diagnostics"]


async def test_invalid_element_is_422_naming_the_element(fhir: httpx.AsyncClient) -> None:
    r = await _create(fhir, {"resourceType": "Patient", "birthDate": "12/04/1975"})
    assert r.status_code == 422
    assert r.json()["issue"][0]["expression"] == ["Patient.birthDate"]
    unknown = await _create(fhir, {"resourceType": "Patient", "nom": "Dupont"})
    assert unknown.status_code == 422 and unknown.json()["issue"][0]["expression"] == ["Patient.nom"]


async def test_wrong_resource_type_or_id_is_refused(fhir: httpx.AsyncClient) -> None:
    r = await fhir.post("Patient", json={"resourceType": "Observation", "status": "final", "code": {"text": "x"}},
                        headers=FHIR)
    assert r.status_code == 400 and r.json()["issue"][0]["expression"] == ["resourceType"]
    created = (await _create(fhir, patient("Ident"))).json()
    wrong = await fhir.put(f"Patient/{created['id']}", json={**created, "id": "autre"}, headers=FHIR)
    assert wrong.status_code == 400 and wrong.json()["issue"][0]["expression"] == ["id"]
    assert (await fhir.get(f"Patient/{created['id']}")).json()["meta"]["versionId"] == "1"


async def test_unknown_type_and_missing_resource_are_404(fhir: httpx.AsyncClient) -> None:
    assert (await fhir.get("Spaceship/1")).status_code == 404
    missing = await fhir.get("Patient/does-not-exist")
    assert missing.status_code == 404 and missing.json()["issue"][0]["code"] == "not-found"


async def test_if_none_match_gives_304(fhir: httpx.AsyncClient) -> None:
    created = await _create(fhir, patient("Cache"))
    r = await fhir.get(f"Patient/{created.json()['id']}", headers={"If-None-Match": created.headers["ETag"]})
    assert r.status_code == 304


async def test_prefer_return_minimal_sends_no_body(fhir: httpx.AsyncClient) -> None:
    r = await _create(fhir, patient("Minimal"), Prefer="return=minimal")
    assert r.status_code == 201 and r.content == b"" and "Location" in r.headers


async def test_capability_statement_lists_types_and_search_params(fhir: httpx.AsyncClient) -> None:
    cs = (await fhir.get("metadata")).json()
    assert cs["resourceType"] == "CapabilityStatement" and cs["fhirVersion"] == "4.0.1"
    by_type = {r["type"]: r for r in cs["rest"][0]["resource"]}
    for rtype in ("Patient", "Observation", "DiagnosticReport", "ServiceRequest", "Specimen", "DocumentReference",
                  "ConceptMap", "AuditEvent", "Consent", "Provenance"):
        assert rtype in by_type
    obs_params = {p["name"] for p in by_type["Observation"]["searchParam"]}
    assert {"subject", "patient", "code", "date", "value-quantity", "code-value-quantity", "based-on"} <= obs_params
    assert {"code": "transaction"} in cs["rest"][0]["interaction"]
    operations = {rtype: {o["name"] for o in r.get("operation", [])} for rtype, r in by_type.items()}
    assert {"insi-search", "validate-identity", "duplicates"} <= operations["Patient"]
    assert {"validate-technical", "rerun"} <= operations["Observation"]
    assert "translate" in operations["ConceptMap"]


def test_operations_are_read_off_the_routes() -> None:
    from server.capability import operations_of

    found = operations_of(["/fhir/Patient/$insi-search", "/fhir/Patient/{rid}/$validate-identity", "/fhir/$export",
                           "/fhir/{rtype}", "/docs"])
    assert found == {"Patient": [("insi-search", "Patient-insi-search"),
                                 ("validate-identity", "Patient-validate-identity")],
                     None: [("export", "export")]}
