"""$validate-biological: partial -> preliminary -> final, the biologist recorded, wrong transitions refused."""

from __future__ import annotations

import pytest

from tests.support.access import BIOLOGIST_DISPLAY
from tests.support.validation_lab import Lab, issue, parameters, steps

pytestmark = pytest.mark.db


async def test_report_moves_from_partial_to_preliminary_to_final(lab: Lab) -> None:
    patient = await lab.patient()
    [order] = await lab.order(patient)
    first, second = await lab.result(patient, order, "NA", 140), await lab.result(patient, order, "K", 4.1)
    assert (await lab.validate(first)).status_code == 200
    report = await lab.report_of(first)
    assert report["status"] == "partial"

    answer = await lab.client.post(f"DiagnosticReport/{report['id']}/$validate-biological",
                                   json=parameters(conclusion="Ionogramme normal."))
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["status"] == "preliminary" and report["conclusion"] == "Ionogramme normal."
    assert report["resultsInterpreter"][0]["display"] == BIOLOGIST_DISPLAY and report["issued"]
    assert report["resultsInterpreter"][0]["reference"].startswith("Practitioner/")
    validated = await lab.read("Observation", first)
    assert validated["status"] == "final" and steps(validated) == {"technical", "biological"}
    assert validated["performer"][0]["display"] == BIOLOGIST_DISPLAY
    assert validated["issued"] == report["issued"]  # one instant for the whole validation
    assert (await lab.read("Observation", second))["status"] == "preliminary"

    assert (await lab.validate(second)).status_code == 200
    assert (await lab.report_of(second))["status"] == "preliminary"
    final = await lab.client.post(f"DiagnosticReport/{report['id']}/$validate-biological")
    assert final.status_code == 200 and final.json()["status"] == "final"
    assert sorted(r["reference"] for r in final.json()["result"]) == sorted(
        f"Observation/{i}" for i in (first, second))
    [prov] = await lab.provenances("DiagnosticReport", report["id"], final.json()["meta"]["versionId"])
    assert prov["activity"]["coding"][0]["code"] == "biological-validation"
    assert f"Observation/{second}/_history/3" in {t["reference"] for t in prov["target"]}


async def test_nothing_to_validate_is_a_wrong_transition_and_writes_nothing(lab: Lab) -> None:
    patient = await lab.patient()
    [order] = await lab.order(patient)
    rid = await lab.result(patient, order, "NA", 140)
    assert (await lab.validate(rid)).status_code == 200
    report = await lab.report_of(rid)
    assert (await lab.client.post(f"DiagnosticReport/{report['id']}/$validate-biological")).status_code == 200
    done = await lab.read("DiagnosticReport", report["id"])
    again = await lab.client.post(f"DiagnosticReport/{report['id']}/$validate-biological")
    assert again.status_code == 422 and "VAL-08" in issue(again)["diagnostics"]
    assert issue(again)["expression"] == ["DiagnosticReport.result"]
    assert (await lab.read("DiagnosticReport", report["id"]))["meta"]["versionId"] == done["meta"]["versionId"]


async def test_unknown_report_is_404(lab: Lab) -> None:
    answer = await lab.client.post("DiagnosticReport/no-such-report/$validate-biological")
    assert answer.status_code == 404 and issue(answer)["code"] == "not-found"
