"""``Patient/$merge``: a duplicate identity merged into the one that stays, with the RNIV rules (the survivor
has the highest status, two INS are two people), one transaction, audited, a biologist's right only."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import httpx
import pytest

from resources.ins import OID_INS_NIR, identity_status, ins_identifier_for, matricule_key
from tests.support.access import ActAs
from tests.support.identity_samples import out, parameters, provisional, with_status

pytestmark = pytest.mark.db
_serial = itertools.count(1)


def matricule() -> str:
    """A fresh valid matricule INS (13 characters and key), so each identity of this module is its own."""
    body = f"1550563{next(_serial):03d}{777:03d}"
    return f"{body}{matricule_key(body):02d}"


@pytest.fixture(scope="module")
async def bio(identity_roles: ActAs) -> httpx.AsyncClient:
    return await identity_roles("biologiste")


async def stored(client: httpx.AsyncClient, patient: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in patient.items() if k != "id"}
    r = await client.post("Patient", json=body)
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


async def qualified(feed: httpx.AsyncClient, family: str, number: str | None = None) -> dict[str, Any]:
    patient = with_status(provisional(family=family), "QUAL")
    patient["identifier"] = [ins_identifier_for(number or matricule(), OID_INS_NIR)]
    return await stored(feed, patient)


def merge_body(source: dict[str, Any], target: dict[str, Any]) -> dict[str, object]:
    return parameters(**{"source-patient": f"Patient/{source['id']}", "target-patient": f"Patient/{target['id']}"})


async def version(client: httpx.AsyncClient, patient: dict[str, Any]) -> str:
    return str((await client.get(f"Patient/{patient['id']}")).json()["meta"]["versionId"])


async def test_duplicate_is_merged_into_the_qualified_identity(bio: httpx.AsyncClient, desk: httpx.AsyncClient,
                                                               feed: httpx.AsyncClient) -> None:
    survivor = await qualified(feed, "MERGEUN")
    duplicate = await stored(desk, provisional(family="MERGEUN"))
    result = await bio.post("Observation", json={
        "resourceType": "Observation", "status": "preliminary", "subject": {"reference": f"Patient/{duplicate['id']}"},
        "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7"}]},
        "valueQuantity": {"value": 5.1, "unit": "mmol/L", "system": "http://unitsofmeasure.org", "code": "mmol/L"}})
    assert result.status_code == 201, result.text
    r = await bio.post("Patient/$merge", json=merge_body(duplicate, survivor))
    assert r.status_code == 200, r.text
    kept, merged = out(r.json(), "result"), out(r.json(), "merged")
    assert identity_status(kept) == "QUAL" and kept["identifier"] == survivor["identifier"]
    assert {"other": {"reference": f"Patient/{duplicate['id']}"}, "type": "replaces"} in kept["link"]
    assert merged["active"] is False
    assert merged["link"] == [{"other": {"reference": f"Patient/{survivor['id']}"}, "type": "replaced-by"}]
    stored_merged = (await bio.get(f"Patient/{duplicate['id']}")).json()
    assert stored_merged["active"] is False
    # the duplicate's result is carried over to the survivor: a new version, history keeps the old subject
    found = (await bio.get("Observation", params={"subject": f"Patient/{survivor['id']}"})).json()
    assert [e["resource"]["id"] for e in found["entry"]] == [result.json()["id"]]
    assert "entry" not in (await bio.get("Observation", params={"subject": f"Patient/{duplicate['id']}"})).json()
    moved = found["entry"][0]["resource"]
    assert moved["meta"]["versionId"] == "2" and moved["valueQuantity"] == result.json()["valueQuantity"]
    before = (await bio.get(f"Observation/{moved['id']}/_history/1")).json()
    assert before["subject"] == {"reference": f"Patient/{duplicate['id']}"}
    events = (await desk.get("AuditEvent", params={"entity": f"Patient/{duplicate['id']}"})).json()["entry"]
    merges = [e["resource"] for e in events if "$merge" in str(e["resource"]["entity"])]
    assert len(merges) == 1
    assert {e["what"]["reference"] for e in merges[0]["entity"] if "what" in e} == {
        f"Patient/{survivor['id']}", f"Patient/{duplicate['id']}", f"Observation/{moved['id']}/_history/2"}
    assert merges[0]["agent"][0]["role"][0]["coding"][0]["code"] == "biologiste"


async def test_merge_keeping_the_lower_status_is_refused(bio: httpx.AsyncClient, desk: httpx.AsyncClient,
                                                         feed: httpx.AsyncClient) -> None:
    high = await qualified(feed, "MERGEDEUX")
    low = await stored(desk, provisional(family="MERGEDEUX"))
    r = await bio.post("Patient/$merge", json=merge_body(high, low))
    assert r.status_code == 422, r.text
    issue = r.json()["issue"][0]
    assert issue["expression"] == ["Parameters.parameter('target-patient')"]
    assert f"merge Patient/{low['id']} into Patient/{high['id']} instead" in issue["diagnostics"]
    assert await version(bio, high) == "1" and await version(bio, low) == "1"


async def test_two_identities_with_different_ins_are_not_merged(bio: httpx.AsyncClient,
                                                                feed: httpx.AsyncClient) -> None:
    one, other = await qualified(feed, "MERGETROIS"), await qualified(feed, "MERGETROIS")
    r = await bio.post("Patient/$merge", json=merge_body(one, other))
    assert r.status_code == 422 and "different INS" in r.text
    assert await version(bio, one) == "1" and await version(bio, other) == "1"


async def test_merged_identity_cannot_be_merged_or_kept_again(bio: httpx.AsyncClient, desk: httpx.AsyncClient) -> None:
    a, b, c = [await stored(desk, provisional(family="MERGEQUATRE")) for _ in range(3)]
    assert (await bio.post("Patient/$merge", json=merge_body(a, b))).status_code == 200
    for source, target, where in ((a, c, "source-patient"), (c, a, "target-patient")):
        r = await bio.post("Patient/$merge", json=merge_body(source, target))
        assert r.status_code == 422 and "already merged" in r.text, r.text
        assert r.json()["issue"][0]["expression"] == [f"Parameters.parameter('{where}')"]
    assert await version(bio, c) == "1"


@pytest.mark.parametrize(("body", "status", "where"), [
    ({"resourceType": "Parameters", "parameter": []}, 400, "Parameters.parameter('source-patient')"),
    (parameters(**{"source-patient": "Patient/x1", "target-patient": "Patient/x1"}), 400,
     "Parameters.parameter('target-patient')"),
    ({"resourceType": "Parameters", "parameter": [{"name": "source-patient", "valueString": "x1"}]}, 400,
     "Parameters.parameter('source-patient')"),
    ({"resourceType": "Patient"}, 400, "resourceType"),
])
async def test_bad_merge_parameters_get_an_operation_outcome(bio: httpx.AsyncClient, body: dict[str, Any],
                                                             status: int, where: str) -> None:
    r = await bio.post("Patient/$merge", json=body)
    assert r.status_code == status, r.text
    assert r.json()["resourceType"] == "OperationOutcome" and r.json()["issue"][0]["expression"] == [where]


async def test_merge_of_an_unknown_patient_is_not_found(bio: httpx.AsyncClient, desk: httpx.AsyncClient) -> None:
    known = await stored(desk, provisional(family="MERGECINQ"))
    r = await bio.post("Patient/$merge", json=merge_body({"id": "does-not-exist"}, known))
    assert r.status_code == 404 and r.json()["resourceType"] == "OperationOutcome"
    assert await version(bio, known) == "1"


@pytest.mark.req("SGL.INS.05")
async def test_merge_is_refused_to_desk_and_bench_roles_SGL_INS_05(desk: httpx.AsyncClient, tech: httpx.AsyncClient,
                                                                   bio: httpx.AsyncClient) -> None:
    a, b = [await stored(desk, provisional(family="MERGESIX")) for _ in range(2)]
    request = await bio.post("ServiceRequest", json={"resourceType": "ServiceRequest", "status": "active",
                                                     "intent": "order", "code": {"text": "bilan"},
                                                     "subject": {"reference": f"Patient/{a['id']}"}})
    assert request.status_code == 201, request.text
    for client in (desk, tech):
        r = await client.post("Patient/$merge", json=merge_body(a, b))
        assert r.status_code == 403 and "$merge" in r.text, r.text
    assert await version(desk, a) == "1" and await version(desk, b) == "1"
    kept = (await bio.get(f"ServiceRequest/{request.json()['id']}")).json()  # nothing carried over either
    assert kept["meta"]["versionId"] == "1" and kept["subject"] == {"reference": f"Patient/{a['id']}"}


async def test_two_merges_racing_on_the_same_identities_leave_one_merge(bio: httpx.AsyncClient,
                                                                        superuser: httpx.AsyncClient,
                                                                        desk: httpx.AsyncClient) -> None:
    """A into B and B into A at the same moment: one wins, the other is refused as already merged."""
    a, b = [await stored(desk, provisional(family="MERGESEPT")) for _ in range(2)]
    answers = await asyncio.gather(bio.post("Patient/$merge", json=merge_body(a, b)),
                                   superuser.post("Patient/$merge", json=merge_body(b, a)))
    assert sorted(r.status_code for r in answers) == [200, 422], [r.text for r in answers]
    assert "already merged" in next(r.text for r in answers if r.status_code == 422)
    now = [(await desk.get(f"Patient/{p['id']}")).json() for p in (a, b)]
    assert sorted(p.get("active", True) for p in now) == [False, True]
