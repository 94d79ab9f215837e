"""$rerun: a new measurement for the same analysis; the first one is cancelled and linked, history kept."""

from __future__ import annotations

import pytest

from server.validation.marks import EXT_REPLACED_BY, EXT_REPLACES
from tests.support.validation_lab import Lab, issue, parameters

pytestmark = pytest.mark.db


async def test_rerun_creates_a_linked_measurement_and_keeps_the_first(lab: Lab) -> None:
    patient = await lab.patient()
    [order] = await lab.order(patient)
    kept = await lab.result(patient, order, "NA", 140)
    first = await lab.result(patient, order, "CREA", 900)
    assert (await lab.validate(first)).status_code == 200
    assert (await lab.validate(kept)).status_code == 200
    answer = await lab.client.post(f"Observation/{first}/$rerun", json=parameters(reason="dilution 1/10"))
    assert answer.status_code == 201, answer.text
    again = answer.json()
    assert answer.headers["Location"].endswith(f"Observation/{again['id']}/_history/1")
    assert again["status"] == "registered" and "valueQuantity" not in again
    assert again["code"] == (await lab.read("Observation", first))["code"]
    assert again["basedOn"] == [{"reference": f"ServiceRequest/{order}"}]
    assert {"url": EXT_REPLACES, "valueReference": {"reference": f"Observation/{first}"}} in again["extension"]
    old = await lab.read("Observation", first)
    assert old["status"] == "cancelled" and old["valueQuantity"]["value"] == 900
    assert {"url": EXT_REPLACED_BY, "valueReference": {"reference": f"Observation/{again['id']}"}} in old["extension"]
    history = (await lab.client.get(f"Observation/{first}/_history")).json()
    assert [e["resource"]["status"] for e in history["entry"]] == ["cancelled", "preliminary", "preliminary"]
    report = await lab.report_of(kept)
    assert report["result"] == [{"reference": f"Observation/{kept}"}] and report["status"] == "partial"


async def test_rerun_needs_a_reason_and_a_result_awaiting_validation(lab: Lab) -> None:
    patient = await lab.patient()
    [order] = await lab.order(patient)
    rid = await lab.result(patient, order, "NA", 140)
    missing = await lab.client.post(f"Observation/{rid}/$rerun", json={"resourceType": "Parameters"})
    assert missing.status_code == 400 and issue(missing)["expression"] == ["Parameters.reason"]
    final = await lab.result(patient, order, "K", 4.0, status="final")
    refused = await lab.client.post(f"Observation/{final}/$rerun", json=parameters(reason="contrôle"))
    assert refused.status_code == 422 and "VAL-13" in issue(refused)["diagnostics"]
    assert (await lab.read("Observation", final))["meta"]["versionId"] == "1"
    unknown = await lab.client.post("Observation/nope/$rerun", json=parameters(reason="contrôle"))
    assert unknown.status_code == 404
