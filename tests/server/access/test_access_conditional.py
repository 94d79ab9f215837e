"""A conditional interaction searches for the caller, so it is held to a search's rules: ``read`` on the type,
``read`` on every chained type, and the INS rules (SGL.INS.05).

Found by probing a running server as an analyzer's middleware would (role ``automate``: may create
Observations, may read neither them nor any Patient): ``POST Observation`` with ``If-None-Exist`` matching a
stored result answered 200 with that Observation (value, patient reference), a read the table refuses; with
``If-None-Exist: subject:Patient.family=<name>`` the 200/201 told whether a patient of that name had results.
A ``technicien`` (INS masked) resolved the conditional reference ``Patient?identifier=<INS system>|<matricule>``
of a transaction: the 200 told which patient the matricule belongs to.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

import httpx
import pytest

from resources.ins import OID_INS_NIR, matricule_key
from tests.support.access import ActAs

pytestmark = pytest.mark.db
LOINC = "http://loinc.org"
INS = f"urn:oid:{OID_INS_NIR}"


def _glucose(patient: str, value: float) -> dict[str, Any]:
    """A glucose result as an analyzer's middleware posts it (LOINC 2345-7, UCUM mmol/L)."""
    return {"resourceType": "Observation", "status": "preliminary",
            "code": {"coding": [{"system": LOINC, "code": "2345-7", "display": "Glucose [Mass/volume] in Serum"}]},
            "subject": {"reference": patient},
            "valueQuantity": {"value": value, "unit": "mmol/L", "system": "http://unitsofmeasure.org",
                              "code": "mmol/L"}}


@pytest.fixture(scope="module")
async def stored_result(fhir: httpx.AsyncClient) -> tuple[str, str, str]:
    """(family, Patient reference, Observation id) of a patient with a stored glucose."""
    family = "Condition" + uuid.uuid4().hex[:8]
    patient = await fhir.post("Patient", json={"resourceType": "Patient", "name": [{"family": family,
                                                                                   "given": ["ANNE"]}],
                                               "gender": "female", "birthDate": "1970-01-02"})
    assert patient.status_code == 201, patient.text
    ref = f"Patient/{patient.json()['id']}"
    result = await fhir.post("Observation", json=_glucose(ref, 5.2))
    assert result.status_code == 201, result.text
    return family, ref, result.json()["id"]


@pytest.mark.req("SGL.INS.05")
async def test_a_conditional_create_does_not_read_for_a_role_without_read_SGL_INS_05(
        act_as: ActAs, fhir: httpx.AsyncClient, stored_result: tuple[str, str, str]) -> None:
    family, patient, observation = stored_result
    robot = await act_as("automate")
    assert (await robot.get(f"Observation/{observation}")).status_code == 403
    for criteria in (f"subject={patient}&code={LOINC}|2345-7", f"subject:Patient.family={family}"):
        answer = await robot.post("Observation", json=_glucose(patient, 1.0), headers={"If-None-Exist": criteria})
        assert answer.status_code == 403, (criteria, answer.text)
        assert "read on Observation" in answer.text and "5.2" not in answer.text
    update = await robot.put("Observation", params={"subject:Patient.family": family}, json=_glucose(patient, 1.0))
    assert update.status_code == 403 and "read on Observation" in update.text, update.text
    batch = await robot.post("", json={"resourceType": "Bundle", "type": "batch", "entry": [
        {"resource": _glucose(patient, 1.0),
         "request": {"method": "POST", "url": "Observation", "ifNoneExist": f"subject={patient}"}}]})
    [entry] = batch.json()["entry"]
    assert entry["response"]["status"] == "403" and "resource" not in entry, entry
    # nothing was written on the analyzer's behalf, and the biologist's conditional create still answers the match
    found = await fhir.get("Observation", params={"subject": patient})
    assert found.json()["total"] == 1, found.text
    same = await fhir.post("Observation", json=_glucose(patient, 1.0), headers={"If-None-Exist": f"subject={patient}"})
    assert same.status_code == 200 and same.json()["id"] == observation, same.text


@pytest.mark.req("SGL.INS.05")
async def test_a_conditional_reference_by_matricule_ins_needs_the_ins_right_SGL_INS_05(
        act_as: ActAs, fhir: httpx.AsyncClient) -> None:
    head = f"1{random.randint(50, 99)}{random.randint(1, 12):02d}69{random.randint(100000, 999999)}"
    matricule = head + f"{matricule_key(head):02d}"
    patient = await fhir.post("Patient", json={
        "resourceType": "Patient", "identifier": [{"system": INS, "value": matricule}],
        "name": [{"family": "REFCOND", "given": ["PAUL"]}], "gender": "male", "birthDate": "1950-03-04"})
    assert patient.status_code == 201, patient.text
    bench = await act_as("technicien")
    order = {"resourceType": "ServiceRequest", "status": "active", "intent": "order", "code": {"text": "glycémie"},
             "subject": {"reference": f"Patient?identifier={INS}|{matricule}"}}
    answer = await bench.post("", json={"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": order, "request": {"method": "POST",
                                                                              "url": "ServiceRequest"}}]})
    assert answer.status_code == 403, answer.text
    assert "ins on Patient" in answer.text and patient.json()["id"] not in answer.text
    allowed = await fhir.post("", json={"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": order, "request": {"method": "POST",
                                                                              "url": "ServiceRequest"}}]})
    assert allowed.status_code == 200, allowed.text
