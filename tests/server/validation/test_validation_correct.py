"""$correct: a validated result's value changes with history kept and statuses corrected."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.access import BIOLOGIST_DISPLAY
from tests.support.validation_lab import UCUM, Lab, codes, issue, parameters, steps

pytestmark = pytest.mark.db


async def _final_report(lab: Lab) -> tuple[str, str, str]:
    patient = await lab.patient()
    [order] = await lab.order(patient)
    rid, other = await lab.result(patient, order, "K", 4.0), await lab.result(patient, order, "NA", 140)
    for i in (rid, other):
        assert (await lab.validate(i)).status_code == 200
    report = await lab.report_of(rid)
    assert (await lab.client.post(f"DiagnosticReport/{report['id']}/$validate-biological")).json()["status"] == "final"
    return report["id"], rid, other


def _correction(rid: str, value: float | None = 5.8, reason: str | None = "erreur de saisie") -> dict[str, Any]:
    params: dict[str, Any] = {"observation": {"valueReference": {"reference": f"Observation/{rid}"}}}
    if value is not None:
        params["value"] = {"valueQuantity": {"value": value, "unit": "mmol/L", "system": UCUM, "code": "mmol/L"}}
    if reason is not None:
        params["reason"] = reason
    return parameters(**params)


async def test_correction_keeps_the_previous_value_in_history_and_marks_both_corrected(lab: Lab) -> None:
    report_id, rid, _ = await _final_report(lab)
    before = await lab.read("Observation", rid)
    answer = await lab.client.post(f"DiagnosticReport/{report_id}/$correct", json=_correction(rid))
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "corrected"
    assert answer.json()["resultsInterpreter"][0]["display"] == BIOLOGIST_DISPLAY
    corrected = await lab.read("Observation", rid)
    assert corrected["status"] == "corrected" and corrected["valueQuantity"]["value"] == 5.8
    assert codes(corrected) == {"H"} and "biological" in steps(corrected)
    assert any("erreur de saisie" in n["text"] for n in corrected["note"])
    old = await lab.client.get(f"Observation/{rid}/_history/{before['meta']['versionId']}")
    assert old.status_code == 200 and old.json()["valueQuantity"]["value"] == 4.0 and old.json()["status"] == "final"
    [prov] = await lab.provenances("Observation", rid, corrected["meta"]["versionId"])
    assert prov["activity"]["coding"][0]["code"] == "correction" and prov["reason"] == [{"text": "erreur de saisie"}]


@pytest.mark.parametrize(("change", "status", "where", "marker"), [
    ({"reason": None}, 400, "Parameters.reason", "required"),
    ({"value": None}, 400, "Parameters.value", "required"),
    ({"value": 4.0}, 422, "Parameters.value", "VAL-12"),
])
async def test_bad_correction_is_refused_and_nothing_written(lab: Lab, change: dict[str, Any], status: int,
                                                              where: str, marker: str) -> None:
    report_id, rid, _ = await _final_report(lab)
    before = await lab.read("Observation", rid)
    answer = await lab.client.post(f"DiagnosticReport/{report_id}/$correct", json=_correction(rid, **{
        "value": 5.8, "reason": "erreur", **change}))
    assert answer.status_code == status and issue(answer)["expression"] == [where]
    assert marker in issue(answer)["diagnostics"]
    assert (await lab.read("Observation", rid))["meta"]["versionId"] == before["meta"]["versionId"]
    assert (await lab.read("DiagnosticReport", report_id))["status"] == "final"


async def test_correction_of_a_result_not_on_the_report_or_not_validated_is_refused(lab: Lab) -> None:
    report_id, _, _ = await _final_report(lab)
    patient = await lab.patient()
    [order] = await lab.order(patient)
    stranger = await lab.result(patient, order, "K", 4.0)
    answer = await lab.client.post(f"DiagnosticReport/{report_id}/$correct", json=_correction(stranger))
    assert answer.status_code == 422 and issue(answer)["expression"] == ["Parameters.observation"]
    assert (await lab.validate(stranger)).status_code == 200
    pending = (await lab.report_of(stranger))["id"]
    early = await lab.client.post(f"DiagnosticReport/{pending}/$correct", json=_correction(stranger))
    assert early.status_code == 422 and "VAL-10" in issue(early)["diagnostics"]
    assert issue(early)["expression"] == ["Observation.status"]


async def test_correction_with_another_value_type_is_refused(lab: Lab) -> None:
    report_id, rid, _ = await _final_report(lab)
    body = parameters(observation={"valueReference": {"reference": f"Observation/{rid}"}},
                      value={"valueString": "5,8"}, reason="erreur")
    answer = await lab.client.post(f"DiagnosticReport/{report_id}/$correct", json=body)
    assert answer.status_code == 422 and "VAL-11" in issue(answer)["diagnostics"]
