"""Roles: a technician validates technically and reruns, but never validates biologically nor corrects (403)."""

from __future__ import annotations

import httpx
import pytest

from tests.support.access import ActAs, caller_id
from tests.support.validation_lab import UCUM, Lab, issue, parameters

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
async def technician(lab: Lab, act_as: ActAs, fhir: httpx.AsyncClient) -> Lab:
    return Lab(await act_as("technicien"), lab.store, auditor=fhir)


async def test_technician_validates_technically_but_biological_validation_is_403(technician: Lab) -> None:
    patient = await technician.patient()
    [order] = await technician.order(patient)
    rid = await technician.result(patient, order, "NA", 140)
    answer = await technician.validate(rid)
    assert answer.status_code == 200, answer.text
    report = await technician.report_of(rid)
    refused = await technician.client.post(f"DiagnosticReport/{report['id']}/$validate-biological")
    assert refused.status_code == 403 and issue(refused)["code"] == "forbidden"
    assert "technicien" in issue(refused)["diagnostics"] and "$validate-biological" in issue(refused)["diagnostics"]
    after = await technician.read("DiagnosticReport", report["id"])
    assert after["meta"]["versionId"] == report["meta"]["versionId"] and after["status"] == "partial"
    assert (await technician.read("Observation", rid))["status"] == "preliminary"


async def test_technician_cannot_correct(technician: Lab) -> None:
    patient = await technician.patient()
    [order] = await technician.order(patient)
    rid = await technician.result(patient, order, "K", 4.0)
    assert (await technician.validate(rid)).status_code == 200
    report = await technician.report_of(rid)
    body = parameters(observation={"valueReference": {"reference": f"Observation/{rid}"}},
                      value={"valueQuantity": {"value": 4.2, "unit": "mmol/L", "system": UCUM, "code": "mmol/L"}},
                      reason="erreur")
    answer = await technician.client.post(f"DiagnosticReport/{report['id']}/$correct", json=body)
    assert answer.status_code == 403


async def test_technician_reruns(technician: Lab) -> None:
    patient = await technician.patient()
    [order] = await technician.order(patient)
    rid = await technician.result(patient, order, "K", 7.5)
    answer = await technician.client.post(f"Observation/{rid}/$rerun", json=parameters(reason="hémolyse"))
    assert answer.status_code == 201
    [prov] = await technician.provenances("Observation", answer.json()["id"], 1)
    who = prov["agent"][0]["who"]
    assert who["identifier"]["value"] == caller_id(technician.client) and prov["agent"][0]["role"] == [
        {"text": "technicien"}]


async def test_a_secretary_may_not_validate_technically(lab: Lab, act_as: ActAs) -> None:
    patient = await lab.patient()
    [order] = await lab.order(patient)
    rid = await lab.result(patient, order, "NA", 140)
    answer = await Lab(await act_as("secretaire"), lab.store).validate(rid)
    assert answer.status_code == 403 and "secretaire" in issue(answer)["diagnostics"]
    assert (await lab.read("Observation", rid))["meta"]["versionId"] == "1"
