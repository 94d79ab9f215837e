"""Small FHIR conventions an outside probe of ``sgl serve`` found off (the probe lane's leftovers), each checked
over real HTTP as a FHIR client library would use them: ``Prefer: return=OperationOutcome``, HEAD, the history
status of a PUT-create, the count a self link echoes, ``If-Match`` on a delete of nothing, ``valueInteger: 1.0``,
``GET metadata`` and operations as batch entries."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support.access import ActAs

pytestmark = pytest.mark.db


def _patient(family: str) -> dict[str, object]:
    return {"resourceType": "Patient", "name": [{"family": family, "given": ["Lou"]}], "gender": "female",
            "birthDate": "1990-05-06"}


async def test_prefer_return_operation_outcome_answers_an_outcome_in_place_of_the_resource(
        fhir: httpx.AsyncClient) -> None:
    prefer = {"Prefer": "return=OperationOutcome"}
    created = await fhir.post("Patient", json=_patient("Issue" + uuid.uuid4().hex[:6]), headers=prefer)
    assert created.status_code == 201 and created.json()["resourceType"] == "OperationOutcome", created.text
    parts = created.headers["Location"].split("/")
    assert created.headers["ETag"] == 'W/"1"' and "Patient" in parts
    rid = parts[parts.index("Patient") + 1]
    updated = await fhir.put(f"Patient/{rid}", json={**_patient("Issue2"), "id": rid}, headers=prefer)
    assert updated.status_code == 200 and updated.json()["resourceType"] == "OperationOutcome", updated.text
    assert (await fhir.put(f"Patient/{rid}", json={**_patient("Issue3"), "id": rid})).json()["resourceType"] == \
        "Patient"


async def test_head_answers_the_headers_of_a_read_or_search_without_a_body_under_the_same_permission(
        fhir: httpx.AsyncClient, act_as: ActAs) -> None:
    rid = (await fhir.post("Patient", json=_patient("Tete" + uuid.uuid4().hex[:6]))).json()["id"]
    read = await fhir.head(f"Patient/{rid}")
    assert read.status_code == 200 and read.content == b"" and read.headers["ETag"] == 'W/"1"', read.text
    assert "fhir+json" in read.headers["content-type"]
    search = await fhir.head("Patient", params={"_id": rid})
    assert search.status_code == 200 and search.content == b""
    assert (await fhir.head("Patient/absent-" + uuid.uuid4().hex[:6])).status_code == 404
    robot = await act_as("automate")  # may read orders, not identities: refused as its GET is
    assert (await robot.get(f"Patient/{rid}")).status_code == 403
    assert (await robot.head(f"Patient/{rid}")).status_code == 403
    assert (await robot.head("Patient", params={"_id": rid})).status_code == 403
    assert (await robot.head("ServiceRequest", params={"_count": "1"})).status_code == 200


async def test_history_says_201_for_a_put_that_created(fhir: httpx.AsyncClient) -> None:
    rid = "put-" + uuid.uuid4().hex[:12]
    assert (await fhir.put(f"Patient/{rid}", json={**_patient("Histo"), "id": rid})).status_code == 201
    assert (await fhir.put(f"Patient/{rid}", json={**_patient("Histo2"), "id": rid})).status_code == 200
    history = (await fhir.get(f"Patient/{rid}/_history")).json()
    assert [e["response"]["status"] for e in history["entry"]] == ["200", "201"]  # newest first


async def test_self_links_echo_the_count_served(fhir: httpx.AsyncClient) -> None:
    search = (await fhir.get("Patient", params={"_count": "100000"})).json()
    [self_link] = [link["url"] for link in search["link"] if link["relation"] == "self"]
    assert parse_qs(urlsplit(self_link).query)["_count"] == ["1000"]
    rid = (await fhir.post("Patient", json=_patient("Compte"))).json()["id"]
    history = (await fhir.get(f"Patient/{rid}/_history", params={"_count": "100000"})).json()
    [self_link] = [link["url"] for link in history["link"] if link["relation"] == "self"]
    assert parse_qs(urlsplit(self_link).query)["_count"] == ["1000"]


async def test_if_match_on_a_delete_of_nothing_is_412(fhir: httpx.AsyncClient) -> None:
    absent = "absent-" + uuid.uuid4().hex[:8]
    refused = await fhir.delete(f"Patient/{absent}", headers={"If-Match": 'W/"1"'})
    assert refused.status_code == 412 and refused.json()["resourceType"] == "OperationOutcome", refused.text
    assert (await fhir.delete(f"Patient/{absent}")).status_code == 204  # without a precondition: idempotent
    rid = (await fhir.post("Observation", json={"resourceType": "Observation", "status": "registered",
                                                "code": {"text": "sonde"}})).json()["id"]
    assert (await fhir.delete(f"Observation/{rid}", headers={"If-Match": 'W/"1"'})).status_code == 204
    again = await fhir.delete(f"Observation/{rid}", headers={"If-Match": 'W/"1"'})
    assert again.status_code == 412, again.text
    batch = await fhir.post("", json={"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "DELETE", "url": f"Patient/{absent}", "ifMatch": 'W/"1"'}}]})
    assert batch.json()["entry"][0]["response"]["status"] == "412", batch.text


async def test_an_integer_written_with_a_decimal_point_is_refused_naming_the_element(fhir: httpx.AsyncClient) -> None:
    body = {"resourceType": "Observation", "status": "final", "code": {"text": "nombre de colonies"},
            "valueInteger": 1.0}
    refused = await fhir.post("Observation", json=body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["issue"][0]["expression"] == ["Observation.valueInteger"]
    assert (await fhir.post("Observation", json={**body, "valueInteger": 1})).status_code == 201
    decimal = {**body, "valueQuantity": {"value": 1.0, "unit": "g/L"}}
    del decimal["valueInteger"]
    assert (await fhir.post("Observation", json=decimal)).status_code == 201  # a decimal keeps its point


async def test_a_batch_reads_metadata_and_refuses_operations_saying_so(fhir: httpx.AsyncClient) -> None:
    batch = await fhir.post("", json={"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "GET", "url": "metadata"}},
        {"request": {"method": "POST", "url": "Patient/$duplicates"},
         "resource": {"resourceType": "Parameters", "parameter": []}},
        {"request": {"method": "GET", "url": "Patient?_count=0"}}]})
    assert batch.status_code == 200, batch.text
    statement, operation, count = batch.json()["entry"]
    assert statement["response"]["status"] == "200"
    assert statement["resource"]["resourceType"] == "CapabilityStatement"
    assert operation["response"]["status"] == "400"
    assert "operations ($duplicates) are not accepted" in operation["response"]["outcome"]["issue"][0]["diagnostics"]
    assert count["response"]["status"] == "200"
