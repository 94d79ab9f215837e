"""Races closed by the database (issue 9 item 4), over real HTTP with concurrent requests."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

pytestmark = pytest.mark.db
FHIR = {"Content-Type": "application/fhir+json"}
ACCESSION = "https://opensgl.org/fhir/sid/accession"


async def test_five_concurrent_conditional_creates_store_exactly_one(fhir: httpx.AsyncClient) -> None:
    for _ in range(3):
        value = uuid.uuid4().hex
        body = {"resourceType": "Patient", "identifier": [{"system": "urn:oid:1.2.250.1.71.4.2.7", "value": value}],
                "name": [{"family": "Concurrent"}]}
        query = f"identifier=urn:oid:1.2.250.1.71.4.2.7|{value}"
        answers = await asyncio.gather(*(fhir.post("Patient", json=body, headers={**FHIR, "If-None-Exist": query})
                                         for _ in range(5)))
        assert sorted(a.status_code for a in answers) == [200, 200, 200, 200, 201]
        assert len({a.json()["id"] for a in answers}) == 1  # the losers answer with the winner
        stored = (await fhir.get("Patient", params={"identifier": f"urn:oid:1.2.250.1.71.4.2.7|{value}"})).json()
        assert stored["total"] == 1


async def test_same_criteria_in_another_order_are_the_same_condition(fhir: httpx.AsyncClient) -> None:
    value = uuid.uuid4().hex
    body = {"resourceType": "Patient", "identifier": [{"system": "urn:x", "value": value}], "gender": "male"}
    queries = [f"identifier=urn:x|{value}&gender=male", f"gender=male&identifier=urn:x|{value}"] * 3
    answers = await asyncio.gather(*(fhir.post("Patient", json=body, headers={**FHIR, "If-None-Exist": q})
                                     for q in queries))
    assert sorted(a.status_code for a in answers) == [200] * 5 + [201]
    assert (await fhir.get("Patient", params={"identifier": f"urn:x|{value}"})).json()["total"] == 1


async def test_concurrent_transaction_bundles_with_if_none_exist_store_one(fhir: httpx.AsyncClient) -> None:
    value = uuid.uuid4().hex
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [{
        "fullUrl": "urn:uuid:p",
        "resource": {"resourceType": "Patient", "identifier": [{"system": "urn:y", "value": value}]},
        "request": {"method": "POST", "url": "Patient", "ifNoneExist": f"identifier=urn:y|{value}"}}]}
    answers = await asyncio.gather(*(fhir.post("", json=bundle, headers=FHIR) for _ in range(5)))
    assert {a.status_code for a in answers} <= {200, 409}  # a loser is told to retry, never a duplicate
    assert any(a.status_code == 200 for a in answers)
    assert (await fhir.get("Patient", params={"identifier": f"urn:y|{value}"})).json()["total"] == 1


def _specimen(accession: str, system: str = ACCESSION) -> dict[str, object]:
    return {"resourceType": "Specimen", "status": "available",
            "accessionIdentifier": {"system": system, "value": accession}}


async def test_an_accession_number_is_given_to_one_specimen_only(fhir: httpx.AsyncClient) -> None:
    accession = str(uuid.uuid4().int)[:10]
    answers = await asyncio.gather(*(fhir.post("Specimen", json=_specimen(accession), headers=FHIR) for _ in range(5)))
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409, 409]
    refused = next(a for a in answers if a.status_code == 409).json()
    assert refused["issue"][0]["expression"] == ["Specimen.accessionIdentifier"]
    assert (await fhir.get("Specimen", params={"accession": f"{ACCESSION}|{accession}"})).json()["total"] == 1
    winner = next(a for a in answers if a.status_code == 201).json()
    again = await fhir.put(f"Specimen/{winner['id']}", json={**winner, "status": "unavailable"}, headers=FHIR)
    assert again.status_code == 200  # the holder keeps its own number through updates
    other = (await fhir.post("Specimen", json=_specimen(str(uuid.uuid4().int)[:10]), headers=FHIR)).json()
    taken = await fhir.put(f"Specimen/{other['id']}", json={**_specimen(accession), "id": other["id"]}, headers=FHIR)
    assert taken.status_code == 409


async def test_a_subcontractor_specimen_number_may_come_back(fhir: httpx.AsyncClient) -> None:
    """Only the lab's own accession system is unique: a subcontractor's number may arrive in several reports."""
    accession = uuid.uuid4().hex
    for _ in range(2):
        r = await fhir.post("Specimen", json=_specimen(accession, "urn:oid:1.2.250.1.999.1"), headers=FHIR)
        assert r.status_code == 201
