"""Status rules of ``resources/conformance.py`` against the FHIR R4 cardinalities (issue 10 item 11).

R4 (https://hl7.org/fhir/R4/): ``Specimen.status`` 0..1; ``Observation``, ``DiagnosticReport``,
``ServiceRequest`` and ``DocumentReference`` ``status`` 1..1. Each type gets a minimal resource shaped
as an FR Core system sends it, posted over real HTTP to the session's ``sgl serve``.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from resources.conformance import validate_resource
from resources.errors import Unprocessable

LOINC = "http://loinc.org"
V2_0487 = "http://terminology.hl7.org/CodeSystem/v2-0487"
FR_CORE = "https://hl7.fr/ig/fhir/core/StructureDefinition"


def _patient() -> dict[str, Any]:
    return {"resourceType": "Patient", "meta": {"profile": [f"{FR_CORE}/fr-core-patient"]},
            "name": [{"use": "official", "family": "CARDINAL", "given": ["Rose"]}],
            "gender": "female", "birthDate": "1968-02-14"}


def _minimal(rtype: str, pid: str) -> dict[str, Any]:
    subject = {"reference": f"Patient/{pid}"}
    return {
        # FR Core has no Specimen profile of its own: a sending system posts the R4 base without status.
        "Specimen": {"resourceType": "Specimen", "subject": subject,
                     "type": {"coding": [{"system": V2_0487, "code": "BLD", "display": "Whole blood"}]},
                     "collection": {"collectedDateTime": "2026-11-20T07:45:00+01:00"}},
        "Observation": {"resourceType": "Observation", "status": "registered", "subject": subject,
                        "code": {"coding": [{"system": LOINC, "code": "2345-7"}]}},
        "DiagnosticReport": {"resourceType": "DiagnosticReport", "status": "registered", "subject": subject,
                             "code": {"coding": [{"system": LOINC, "code": "11502-2"}]}},
        "ServiceRequest": {"resourceType": "ServiceRequest", "status": "active", "intent": "order",
                           "subject": subject, "code": {"coding": [{"system": LOINC, "code": "2345-7"}]}},
        "DocumentReference": {"resourceType": "DocumentReference", "status": "current", "subject": subject,
                              "content": [{"attachment": {"contentType": "application/pdf",
                                                          "url": "https://example.org/cr.pdf"}}]},
    }[rtype]


@pytest.fixture(scope="module")
async def patient_id(fhir: httpx.AsyncClient) -> str:
    answer = await fhir.post("Patient", json=_patient())
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def test_specimen_without_status_is_accepted_as_r4_allows(fhir: httpx.AsyncClient, patient_id: str) -> None:
    body = _minimal("Specimen", patient_id)
    answer = await fhir.post("Specimen", json=body)
    assert answer.status_code == 201, answer.text
    stored = (await fhir.get(f"Specimen/{answer.json()['id']}")).json()
    assert "status" not in stored and stored["type"] == body["type"]


@pytest.mark.parametrize("rtype", ["Specimen", "Observation", "DiagnosticReport", "ServiceRequest",
                                   "DocumentReference"])
async def test_minimal_r4_resource_is_accepted(fhir: httpx.AsyncClient, patient_id: str, rtype: str) -> None:
    answer = await fhir.post(rtype, json=_minimal(rtype, patient_id))
    assert answer.status_code == 201, answer.text
    assert answer.json()["resourceType"] == rtype


@pytest.mark.parametrize("rtype", ["Observation", "DiagnosticReport", "ServiceRequest", "DocumentReference"])
async def test_required_status_missing_is_refused_naming_it(fhir: httpx.AsyncClient, patient_id: str,
                                                           rtype: str) -> None:
    body = _minimal(rtype, patient_id)
    body.pop("status")
    answer = await fhir.post(rtype, json=body)
    assert answer.status_code == 422, answer.text
    outcome = answer.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert f"{rtype}.status" in outcome["issue"][0]["expression"]


@pytest.mark.parametrize("rtype", ["Specimen", "Observation", "DiagnosticReport", "ServiceRequest",
                                   "DocumentReference"])
async def test_status_outside_r4_value_set_is_refused(fhir: httpx.AsyncClient, patient_id: str, rtype: str) -> None:
    body = {**_minimal(rtype, patient_id), "status": "archived"}
    answer = await fhir.post(rtype, json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["issue"][0]["expression"] == [f"{rtype}.status"]


def test_status_rule_is_checked_even_if_the_model_let_it_through() -> None:
    """The 1..1 rule stands on its own (not only the R4B model's): an absent status names the element."""
    with pytest.raises(Unprocessable) as caught:
        validate_resource({"resourceType": "DocumentReference", "content": [{"attachment": {"url": "x"}}]})
    assert "DocumentReference.status" in caught.value.issues[0].expression[0]
