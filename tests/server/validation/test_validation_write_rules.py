"""A validated result is not changed by a plain PUT or DELETE (rule VAL-01): only through $correct."""

from __future__ import annotations

import pytest

from tests.support.validation_lab import STEP, Lab, issue, steps

pytestmark = pytest.mark.db


async def _validated(lab: Lab) -> str:
    patient = await lab.patient()
    [order] = await lab.order(patient)
    rid = await lab.result(patient, order, "NA", 140)
    assert (await lab.validate(rid)).status_code == 200
    report = await lab.report_of(rid)
    assert (await lab.client.post(f"DiagnosticReport/{report['id']}/$validate-biological")).status_code == 200
    return rid


async def test_put_on_a_final_result_is_refused_and_nothing_written(lab: Lab) -> None:
    rid = await _validated(lab)
    current = await lab.read("Observation", rid)
    answer = await lab.client.put(f"Observation/{rid}", json={**current, "valueQuantity": {**current[
        "valueQuantity"], "value": 150}})
    assert answer.status_code == 422
    assert "VAL-01" in issue(answer)["diagnostics"] and "$correct" in issue(answer)["diagnostics"]
    assert issue(answer)["code"] == "business-rule"
    after = await lab.read("Observation", rid)
    assert after["meta"]["versionId"] == current["meta"]["versionId"] and after["valueQuantity"]["value"] == 140


async def test_delete_of_a_final_result_is_refused(lab: Lab) -> None:
    rid = await _validated(lab)
    answer = await lab.client.delete(f"Observation/{rid}")
    assert answer.status_code == 422 and "VAL-01" in issue(answer)["diagnostics"]
    assert (await lab.client.get(f"Observation/{rid}")).status_code == 200


async def test_put_on_a_preliminary_result_is_allowed(lab: Lab) -> None:
    patient = await lab.patient()
    [order] = await lab.order(patient)
    rid = await lab.result(patient, order, "NA", 140)
    current = await lab.read("Observation", rid)
    answer = await lab.client.put(f"Observation/{rid}", json={**current, "valueQuantity": {**current[
        "valueQuantity"], "value": 141}})
    assert answer.status_code == 200 and answer.json()["valueQuantity"]["value"] == 141


async def test_value_of_a_technically_validated_result_changes_only_by_rerun(lab: Lab) -> None:
    patient = await lab.patient()
    [order] = await lab.order(patient)
    rid = await lab.result(patient, order, "NA", 140)
    assert (await lab.validate(rid)).status_code == 200
    current = await lab.read("Observation", rid)
    answer = await lab.client.put(f"Observation/{rid}", json={**current, "valueQuantity": {**current[
        "valueQuantity"], "value": 120}})
    assert answer.status_code == 422 and "VAL-14" in issue(answer)["diagnostics"]
    assert issue(answer)["expression"] == ["Observation.value[x]"]
    assert (await lab.read("Observation", rid))["meta"]["versionId"] == current["meta"]["versionId"]


async def test_validation_tags_cannot_be_forged_but_are_kept_when_omitted(lab: Lab) -> None:
    patient = await lab.patient()
    [order] = await lab.order(patient)
    rid = await lab.result(patient, order, "NA", 140)
    current = await lab.read("Observation", rid)
    forged = {**current, "meta": {"tag": [{"system": STEP, "code": "biological"}]}}
    answer = await lab.client.put(f"Observation/{rid}", json=forged)
    assert answer.status_code == 422 and issue(answer)["expression"] == ["Observation.meta.tag"]
    assert (await lab.validate(rid)).status_code == 200
    bare = {k: v for k, v in (await lab.read("Observation", rid)).items() if k != "meta"}
    kept = await lab.client.put(f"Observation/{rid}", json={**bare, "note": [{"text": "tube centrifugé"}]})
    assert kept.status_code == 200 and steps(kept.json()) == {"technical"}
