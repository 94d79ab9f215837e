"""Autoverification: on, a report whose results all pass the rules is validated and marked as such
(SGL.DOC.09); a biologist's review clears the mark; off, nothing is validated automatically."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from server.validation import is_autoverified
from server.validation.marks import EXT_INSTRUMENT_RESULT
from tests.support.access import BIOLOGIST_DISPLAY
from tests.support.dedicated_lab import dedicated_lab
from tests.support.validation_lab import Lab, steps

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
async def auto(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    async with dedicated_lab(tmp_path_factory.mktemp("autoverif") / "var", {"SGL_AUTOVERIFICATION": "true"}) as lab:
        yield lab


def _batch(ids: list[str]) -> dict[str, Any]:
    return {"resourceType": "Parameters",
            "parameter": [{"name": "observation", "valueReference": {"reference": f"Observation/{i}"}} for i in ids]}


@pytest.mark.req("SGL.DOC.09")
async def test_autoverified_report_is_recorded_as_such_until_a_biologist_reviews_it_SGL_DOC_09(auto: Lab) -> None:
    patient = await auto.patient()
    [order] = await auto.order(patient)
    ids = [await auto.result(patient, order, "NA", 140), await auto.result(patient, order, "K", 4.2)]
    answer = await auto.client.post("Observation/$validate-technical", json=_batch(ids))
    assert answer.status_code == 200, answer.text
    for entry in answer.json()["entry"]:
        assert entry["resource"]["status"] == "final" and is_autoverified(entry["resource"])
    report = await auto.report_of(ids[0])
    assert report["status"] == "final" and is_autoverified(report) and report["issued"]
    assert "resultsInterpreter" not in report  # no biologist signed it
    [prov] = await auto.provenances("DiagnosticReport", report["id"], report["meta"]["versionId"])
    assert prov["activity"]["coding"][0]["code"] == "autoverification"
    assert prov["agent"][0]["who"]["identifier"]["value"] == "rules.json"
    assert {f"Observation/{i}" for i in ids} <= {t["reference"].split("/_history")[0] for t in prov["target"]}

    review = await auto.client.post(f"DiagnosticReport/{report['id']}/$validate-biological")
    assert review.status_code == 200, review.text
    reviewed = review.json()
    assert reviewed["status"] == "final" and not is_autoverified(reviewed)
    assert reviewed["resultsInterpreter"][0]["display"] == BIOLOGIST_DISPLAY
    for rid in ids:
        result = await auto.read("Observation", rid)
        assert result["status"] == "final" and steps(result) == {"technical", "biological"}
    [review_prov] = await auto.provenances("DiagnosticReport", report["id"], reviewed["meta"]["versionId"])
    assert review_prov["activity"]["coding"][0]["code"] == "biological-review"


async def test_report_waits_for_all_its_results(auto: Lab) -> None:
    patient = await auto.patient()
    [order] = await auto.order(patient)
    first, second = await auto.result(patient, order, "NA", 140), await auto.result(patient, order, "CA", 2.3)
    assert (await auto.validate(first)).json()["status"] == "preliminary"
    assert (await auto.report_of(first))["status"] == "partial"
    assert (await auto.validate(second)).json()["status"] == "final"
    assert (await auto.report_of(first))["status"] == "final"


@pytest.mark.parametrize(("birth", "code", "value", "note"), [
    ("1980-01-01", "K", 5.6, None),                     # above the reference range
    ("1980-01-01", "CRP", 2.0, "prélèvement difficile"),  # normal, but a comment asks for a biologist
    ("2015-01-01", "NA", 140, None),                    # a child: outside the age range
    ("1980-01-01", "FER", 100, None),                   # not an eligible analysis
])
async def test_result_failing_a_rule_leaves_the_report_to_the_biologist(auto: Lab, birth: str, code: str,
                                                                         value: float, note: str | None) -> None:
    patient = await auto.patient("male", birth)
    [order] = await auto.order(patient)
    rid = await auto.result(patient, order, code, value)
    answer = await auto.validate(rid, note=note)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "preliminary" and not is_autoverified(answer.json())
    report = await auto.report_of(rid)
    assert report["status"] == "partial" and not is_autoverified(report)


async def test_autoverification_off_validates_nothing_automatically(lab: Lab) -> None:
    patient = await lab.patient()
    [order] = await lab.order(patient)
    rid = await lab.result(patient, order, "NA", 140)
    answer = await lab.validate(rid)
    assert answer.json()["status"] == "preliminary" and steps(answer.json()) == {"technical"}
    assert (await lab.report_of(rid))["status"] == "partial"


async def test_instrument_flag_blocks_autoverification(auto: Lab) -> None:
    patient = await auto.patient()
    [order] = await auto.order(patient)
    rid = await auto.result(patient, order, "NA", 140)
    sent = await auto.read("Observation", rid)
    sent["extension"] = [{"url": EXT_INSTRUMENT_RESULT, "extension": [
        {"url": "analyzer", "valueString": "BIO1"}, {"url": "flag", "valueString": "N"},
        {"url": "flag", "valueString": "W"}]}]
    assert (await auto.client.put(f"Observation/{rid}", json=sent)).status_code == 200
    answer = await auto.validate(rid)
    assert answer.status_code == 200 and answer.json()["status"] == "preliminary"
    assert (await auto.report_of(rid))["status"] == "partial"
