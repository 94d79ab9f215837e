"""Delta check against the patient's previous final result of the same analysis."""

from __future__ import annotations

import json

import pytest

from server.validation.marks import EXT_DELTA_CHECK
from tests.support.validation_lab import Lab, codes

pytestmark = pytest.mark.db


async def _previous(lab: Lab, patient: str, code: str, value: float, when: str) -> str:
    [order] = await lab.order(patient)
    return await lab.result(patient, order, code, value, when=when, status="final")


async def test_delta_check_fires_and_names_the_previous_value_and_date(lab: Lab) -> None:
    patient = await lab.patient()
    await _previous(lab, patient, "CREA", 60, "2026-05-02T08:00:00+02:00")
    previous = await _previous(lab, patient, "CREA", 80, "2026-10-01T08:00:00+02:00")
    [order] = await lab.order(patient)
    rid = await lab.result(patient, order, "CREA", 160)
    assert (await lab.validate(rid)).status_code == 200
    stored = await lab.read("Observation", rid)
    assert codes(stored) == {"H", "U"}
    [note] = [n for n in stored["note"] if n.get("extension")]
    assert note["extension"] == [{"url": EXT_DELTA_CHECK, "valueReference": {"reference": f"Observation/{previous}"}}]
    assert "80" in note["text"] and "2026-10-01" in note["text"] and "+80" in note["text"]


async def test_delta_check_fires_downwards_on_a_relative_threshold(lab: Lab) -> None:
    patient = await lab.patient()
    await _previous(lab, patient, "PLQ", 300, "2026-11-10T08:00:00+01:00")
    [order] = await lab.order(patient)
    rid = await lab.result(patient, order, "PLQ", 140)
    assert (await lab.validate(rid)).status_code == 200
    assert codes(await lab.read("Observation", rid)) == {"L", "D"}


async def test_small_change_does_not_fire(lab: Lab) -> None:
    patient = await lab.patient()
    await _previous(lab, patient, "CREA", 80, "2026-10-01T08:00:00+02:00")
    [order] = await lab.order(patient)
    rid = await lab.result(patient, order, "CREA", 95)
    assert (await lab.validate(rid)).status_code == 200
    stored = await lab.read("Observation", rid)
    assert codes(stored) == {"N"} and "note" not in stored


async def test_previous_result_outside_the_window_or_of_another_patient_is_ignored(lab: Lab) -> None:
    patient, other = await lab.patient(), await lab.patient()
    await _previous(lab, patient, "K", 3.6, "2026-01-05T08:00:00+01:00")  # K window: 30 days
    await _previous(lab, other, "K", 3.6, "2026-11-19T08:00:00+01:00")
    [order] = await lab.order(patient)
    rid = await lab.result(patient, order, "K", 5.0)
    assert (await lab.validate(rid)).status_code == 200
    assert codes(await lab.read("Observation", rid)) == {"N"}


async def test_analysis_without_thresholds_is_not_checked(lab: Lab) -> None:
    patient = await lab.patient()
    await _previous(lab, patient, "GLU", 0.8, "2026-11-01T08:00:00+01:00")
    [order] = await lab.order(patient)
    rid = await lab.result(patient, order, "GLU", 1.05)
    assert (await lab.validate(rid)).status_code == 200
    assert codes(await lab.read("Observation", rid)) == {"N"}


async def test_delta_check_on_the_kept_identity_sees_the_merged_duplicates_previous_result(lab: Lab) -> None:
    """The duplicate's final creatinine, once merged, is the kept patient's previous value (Patient/$merge)."""
    kept, duplicate = await lab.patient(), await lab.patient()
    previous = await _previous(lab, duplicate, "CREA", 80, "2026-10-01T08:00:00+02:00")
    merged = await lab.client.post("Patient/$merge", json={"resourceType": "Parameters", "parameter": [
        {"name": "source-patient", "valueReference": {"reference": f"Patient/{duplicate}"}},
        {"name": "target-patient", "valueReference": {"reference": f"Patient/{kept}"}}]})
    assert merged.status_code == 200, merged.text
    [order] = await lab.order(kept)
    rid = await lab.result(kept, order, "CREA", 160)
    assert (await lab.validate(rid)).status_code == 200
    stored = await lab.read("Observation", rid)
    assert codes(stored) == {"H", "U"}
    [note] = [n for n in stored["note"] if n.get("extension")]
    assert note["extension"] == [{"url": EXT_DELTA_CHECK, "valueReference": {"reference": f"Observation/{previous}"}}]


async def test_delta_check_note_gives_the_digits_as_the_instrument_sent_them(lab: Lab) -> None:
    """Session 7's probe: a potassium sent as ``5.10`` (trailing zero significant, FHIR R4) was named ``5.1`` in
    the delta-check note, its change ``-1.2``: ``str()`` of the stored exact decimal printed the float."""
    patient = await lab.patient()
    body = {"resourceType": "Observation", "status": "final", "subject": {"reference": f"Patient/{patient}"},
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                      "code": "laboratory"}]}],
            "code": {"coding": [{"system": "https://opensgl.org/fhir/CodeSystem/catalogue", "code": "K"}]},
            "effectiveDateTime": "2026-11-19T08:00:00+01:00",
            "valueQuantity": {"value": "VALUE", "unit": "mmol/L", "system": "http://unitsofmeasure.org",
                              "code": "mmol/L"}}
    [before] = await lab.order(patient)
    body["basedOn"] = [{"reference": f"ServiceRequest/{before}"}]
    text = json.dumps(body).replace('"VALUE"', "5.10")
    answer = await lab.client.post("Observation", content=text, headers={"Content-Type": "application/fhir+json"})
    assert answer.status_code == 201, answer.text
    [order] = await lab.order(patient)
    rid = await lab.result(patient, order, "K", 3.9)
    assert (await lab.validate(rid)).status_code == 200
    [note] = [n for n in (await lab.read("Observation", rid))["note"] if n.get("extension")]
    assert note["text"] == ("Delta check : -1.20 mmol/L par rapport au résultat précédent "
                            "(5.10 mmol/L le 2026-11-19)."), note["text"]
