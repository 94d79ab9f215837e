"""$validate-technical: state checks, notes, batch all-or-nothing, the report and the Provenance."""

from __future__ import annotations

import asyncio

import pytest

from facades.hl7v2 import MllpClient
from server.database import Database
from server.worklist_events import snapshot
from tests.support.access import caller_id
from tests.support.oml_samples import oml
from tests.support.orders_lab import ensure_catalogue, unique
from tests.support.sgl_server import SglProcess
from tests.support.validation_lab import STEP, Lab, issue, parameters, steps

pytestmark = pytest.mark.db


async def test_validated_result_is_tagged_listed_on_a_partial_report_and_recorded(lab: Lab) -> None:
    patient = await lab.patient()
    [order] = await lab.order(patient)
    rid = await lab.result(patient, order, "NA", 140)
    answer = await lab.validate(rid, note="hémolyse légère")
    assert answer.status_code == 200, answer.text
    stored = answer.json()
    assert stored["status"] == "preliminary" and steps(stored) == {"technical"}
    assert {"text": "hémolyse légère"} in stored["note"]
    report = await lab.report_of(rid)
    assert report["status"] == "partial"
    assert report["result"] == [{"reference": f"Observation/{rid}"}]
    assert report["basedOn"] == [{"reference": f"ServiceRequest/{order}"}]
    [prov] = await lab.provenances("Observation", rid, stored["meta"]["versionId"])
    assert prov["activity"]["coding"][0]["code"] == "technical-validation"
    assert prov["agent"][0]["who"]["identifier"]["value"] == caller_id(lab.client)
    assert prov["agent"][0]["role"] == [{"text": "biologiste-responsable"}]
    assert prov["recorded"]


async def test_result_without_value_is_refused_and_nothing_written(lab: Lab) -> None:
    patient = await lab.patient()
    [order] = await lab.order(patient)
    rid = await lab.result(patient, order, "NA", None)
    answer = await lab.validate(rid)
    assert answer.status_code == 422
    assert "VAL-02" in issue(answer)["diagnostics"] and issue(answer)["expression"] == ["Observation.value[x]"]
    assert (await lab.read("Observation", rid))["meta"]["versionId"] == "1"
    assert (await lab.client.get("DiagnosticReport", params={"based-on": f"ServiceRequest/{order}"})).json().get(
        "entry") is None


async def test_second_technical_validation_is_a_wrong_transition(lab: Lab) -> None:
    patient = await lab.patient()
    [order] = await lab.order(patient)
    rid = await lab.result(patient, order, "NA", 139)
    assert (await lab.validate(rid)).status_code == 200
    again = await lab.validate(rid)
    assert again.status_code == 422 and "VAL-07" in issue(again)["diagnostics"]
    assert issue(again)["expression"] == ["Observation.status"]


async def test_unknown_result_is_404(lab: Lab) -> None:
    answer = await lab.validate("no-such-result")
    assert answer.status_code == 404 and issue(answer)["code"] == "not-found"


async def test_batch_validates_all_results_of_an_order_into_one_report(lab: Lab) -> None:
    patient = await lab.patient()
    first, second = await lab.order(patient, requests=2)
    ids = [await lab.result(patient, first, "NA", 140), await lab.result(patient, second, "K", 4.0)]
    body = {"resourceType": "Parameters",
            "parameter": [{"name": "observation", "valueReference": {"reference": f"Observation/{i}"}} for i in ids]}
    answer = await lab.client.post("Observation/$validate-technical", json=body)
    assert answer.status_code == 200, answer.text
    assert [e["resource"]["id"] for e in answer.json()["entry"]] == ids
    report = await lab.report_of(ids[0])
    assert sorted(r["reference"] for r in report["result"]) == sorted(f"Observation/{i}" for i in ids)
    assert {b["reference"] for b in report["basedOn"]} == {f"ServiceRequest/{first}", f"ServiceRequest/{second}"}
    assert report["meta"]["versionId"] == "2"  # created, then one update for the whole batch


async def test_batch_with_one_bad_result_writes_nothing(lab: Lab) -> None:
    patient = await lab.patient()
    [order] = await lab.order(patient)
    good, empty = await lab.result(patient, order, "NA", 140), await lab.result(patient, order, "K", None)
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "observation", "valueReference": {"reference": f"Observation/{i}"}} for i in (good, empty)]}
    answer = await lab.client.post("Observation/$validate-technical", json=body)
    assert answer.status_code == 422 and "VAL-02" in issue(answer)["diagnostics"]
    assert (await lab.read("Observation", good))["meta"]["versionId"] == "1"


async def test_batch_parameters_are_checked(lab: Lab) -> None:
    bad = await lab.client.post("Observation/$validate-technical",
                                json=parameters(observation={"valueReference": {"reference": "Patient/1"}}))
    assert bad.status_code == 400 and issue(bad)["expression"] == ["Parameters.observation[0]"]
    empty = await lab.client.post("Observation/$validate-technical", json={"resourceType": "Parameters"})
    assert empty.status_code == 400 and issue(empty)["expression"] == ["Parameters.observation"]
    wrong = await lab.client.post("Observation/$validate-technical", json={"resourceType": "Patient"})
    assert wrong.status_code == 400 and issue(wrong)["expression"] == ["Parameters"]


async def test_result_outside_any_order_is_refused(lab: Lab) -> None:
    patient = await lab.patient()
    [order] = await lab.order(patient)
    rid = await lab.result(patient, order, "NA", 140)
    current = await lab.read("Observation", rid)
    current.pop("basedOn")
    assert (await lab.client.put(f"Observation/{rid}", json=current)).status_code == 200
    answer = await lab.validate(rid)
    assert answer.status_code == 422 and "VAL-06" in issue(answer)["diagnostics"]


async def test_result_of_an_analysis_outside_the_catalogue_is_refused(lab: Lab) -> None:
    patient = await lab.patient()
    [order] = await lab.order(patient)
    rid = await lab.result(patient, order, "NOT-IN-CATALOGUE", 1.0, unit="mmol/L")
    answer = await lab.validate(rid)
    assert answer.status_code == 422 and "VAL-03" in issue(answer)["diagnostics"]
    assert issue(answer)["expression"] == ["Observation.code"]
    assert (await lab.read("Observation", rid))["meta"]["versionId"] == "1"


async def test_concurrent_validations_of_one_new_order_make_one_report(lab: Lab) -> None:
    patient = await lab.patient()
    [order] = await lab.order(patient)
    ids = [await lab.result(patient, order, code, value) for code, value in (("NA", 140), ("K", 4.0), ("CL", 100))]
    answers = await asyncio.gather(*(lab.validate(i) for i in ids))  # the steps conflict and are run again
    assert [a.status_code for a in answers] == [200, 200, 200], [a.text for a in answers]
    found = (await lab.client.get("DiagnosticReport", params={"based-on": f"ServiceRequest/{order}"})).json()
    [report] = [e["resource"] for e in found["entry"] if e["search"]["mode"] == "match"]
    assert sorted(r["reference"] for r in report["result"]) == sorted(f"Observation/{i}" for i in ids)


BENCH = {"status": "preliminary", "_tag:not": f"{STEP}|technical", "_sort": "date", "_total": "accurate"}
"""The bench's search (web/src/pages/Bench.tsx, and the ``received`` count of ``$worklist-events``)."""


async def test_bench_search_and_live_count_leave_out_technically_validated_results(lab: Lab) -> None:
    """Issue 15: technically validated results stay ``preliminary``; the bench's list, its total and the live
    count must leave them out (the browser once filtered a 200-row page and showed an empty list)."""
    patient = await lab.patient()
    [order] = await lab.order(patient)
    rids = [await lab.result(patient, order, "NA", 138 + i, when=f"2026-11-20T08:0{i}:00+01:00") for i in range(3)]
    before = (await snapshot(lab.store))["counts"]["received"]
    for rid in rids[:2]:
        assert (await lab.validate(rid)).status_code == 200
    mine = {**BENCH, "subject": f"Patient/{patient}", "_count": "1"}
    first = (await lab.client.get("Observation", params=mine)).json()
    assert first["total"] == 1 and [e["resource"]["id"] for e in first["entry"]] == [rids[2]]
    assert not [link for link in first["link"] if link["relation"] == "next"]
    everything = (await lab.client.get("Observation", params={**mine, "_tag:not": "none|none"})).json()
    assert everything["total"] == 3  # they are all still preliminary: only the tag tells them apart
    page_two = next(link["url"] for link in everything["link"] if link["relation"] == "next")
    assert "_tag%3Anot" in page_two or "_tag:not" in page_two
    counted = (await lab.client.get("Observation", params={**BENCH, "_summary": "count"})).json()["total"]
    assert (await snapshot(lab.store))["counts"]["received"] == counted == before - 2


async def test_clinical_information_sent_by_the_prescriber_is_refused_and_nothing_written(
        lab: Lab, sgl_server: SglProcess, sgl_db: Database) -> None:
    """Session 7's probe: only the results the technician validates (category laboratory: from an analyzer or
    entered at the bench) are accepted. A hospital EHR sends a creatinine measured elsewhere under the OBR of an
    OML as P (preliminary); it is stored as sent, without that category, and was refused for the wrong reason
    (VAL-06, "must belong to an order"). Posted over FHIR with the order in ``basedOn`` and category
    ``vital-signs``, a preliminary value was accepted (200), tagged ``technical`` and put on a report."""
    await ensure_catalogue(sgl_db)
    placer, specimen = unique("PL"), unique("S")
    clinical = "OBX|1|NM|14682-9^Creatinine anterieure^LN||95|umol/L^umol/L^UCUM|||||P\r"
    text = oml(unique("CTRL"), unique("OML"), [(placer, "GLY", specimen)]).replace(
        f"SPM|1|{specimen}", f"{clinical}SPM|1|{specimen}", 1)
    async with MllpClient("127.0.0.1", sgl_server.mllp_port, read_timeout=30) as client:
        ack = await client.send(text)
    assert ack.segment("MSA").get(1) == "AA"  # type: ignore[union-attr]
    [request] = (await lab.client.get("ServiceRequest", params={"identifier": placer})).json()["entry"]
    [reference] = [ref["reference"] for ref in request["resource"]["supportingInfo"]]
    patient = await lab.patient()
    [order] = await lab.order(patient)
    posted = await lab.result(patient, order, "NA", 140, category="vital-signs")
    for rid in (reference.split("/")[1], posted):
        answer = await lab.validate(rid)
        assert answer.status_code == 422, answer.text
        assert "VAL-17" in issue(answer)["diagnostics"] and "laboratory" in issue(answer)["diagnostics"]
        assert issue(answer)["expression"] == ["Observation.category"]
        assert (await lab.read("Observation", rid))["meta"]["versionId"] == "1"
        assert (await lab.client.get("DiagnosticReport", params={"result": f"Observation/{rid}"})).json().get(
            "entry") is None
