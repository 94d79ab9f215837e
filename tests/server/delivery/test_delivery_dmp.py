"""The DMP channel end to end through the outbox over real sockets: ``sgl serve`` with ``SGL_DMP_*`` pointing at a
running ``sgl dmp-simulator`` (mutual TLS). A validated report reaches the DMP once, a correction replaces it
(RPLC), a masked dossier carries its confidentialityCodes, a blocked one (dossier, prescriber, analysis) waits
blocked until released, a registry refusal ends as a failure Task, a patient without a qualified INS is never
sent."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from server.delivery.dmp_settings import BLOCK_EXTENSION, BLOCK_SYSTEM, VISIBILITY_SYSTEM
from tests.support.delivery_lab import (
    DeliveryLab,
    counted,
    dashboard_counts,
    deliveries,
    dmp_delivery_fixtures,
    three_versions,
    to,
    wait_until,
)
from tests.support.dmp import DmpSimulator
from tests.support.documents_wait import crbio, wait_for_documents
from tests.support.dossiers import patient, validated_report
from tests.support.validation_lab import CATALOG, parameters
from tests.support.worklist import worklist

DONE = ("delivered", "failed", "cancelled")


dmp, dl = dmp_delivery_fixtures("dmp-delivery", SGL_DMP_TIMEOUT="4")


def _finished(count: int = 1) -> Any:
    return lambda found: len(to("dmp", found)) >= count and all(d["state"] in DONE for d in to("dmp", found))


def _held(dmp: DmpSimulator, report_id: str) -> list[dict[str, Any]]:
    return [d for d in dmp.documents() if f"^{report_id}." in d["uniqueId"]]


@pytest.mark.req("SGL.DMP.01", "SGL.DOC.16")
async def test_a_validated_report_reaches_the_dmp_once_as_n3_and_n1_SGL_DMP_01_SGL_DOC_16(
        dl: DeliveryLab, dmp: DmpSimulator) -> None:
    _, report, _ = await validated_report(dl.lab, {"GLU": 1.05, "NA": 140})
    [delivery] = to("dmp", await wait_until(dl.lab.client, report["id"], _finished()))
    assert delivery["state"] == "delivered" and delivery["action"] == "publish" and delivery["attempts"] == 1
    held = _held(dmp, report["id"])
    assert sorted(d["formatCode"] for d in held) == ["urn:ihe:iti:xds-sd:pdf:2008", "urn:ihe:lab:xd-lab:2008"]
    n3 = next(d for d in held if d["formatCode"] == "urn:ihe:lab:xd-lab:2008")
    stored = (await crbio(dl.lab.client, report["id"], "n3")).content
    assert n3["hash"] == hashlib.sha1(stored).hexdigest() and n3["size"] == len(stored)  # the stored CDA, unchanged
    assert {d["patientId"] for d in held} == {"279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH"}
    assert {d["typeCode"] for d in held} == {"11502-2"} and {tuple(d["confidentialityCode"]) for d in held} == {("N",)}
    assert {d["vihfSubject"] for d in held} == {"810009876543"}  # the validating biologist, 8 + RPPS
    assert delivery["remote_id"] == n3["entryUUID"]


@pytest.mark.req("SGL.DMP.03", "SGL.DMP.04")
async def test_partial_then_complete_then_correction_replace_each_other_in_order_SGL_DMP_03_SGL_DMP_04(
        dl: DeliveryLab, dmp: DmpSimulator) -> None:
    report = {"id": await three_versions(dl.lab)}
    found = to("dmp", await wait_until(dl.lab.client, report["id"], _finished(3)))
    assert [(d["version"], d["action"], d["state"]) for d in found] == [
        (1, "publish", "delivered"), (2, "replace", "delivered"), (3, "replace", "delivered")]
    held = {d["uniqueId"]: d for d in _held(dmp, report["id"])}
    n3 = sorted((d for d in held.values() if d["formatCode"] == "urn:ihe:lab:xd-lab:2008"), key=lambda d: d["received"])
    assert [d["availabilityStatus"].rsplit(":", 1)[1] for d in n3] == ["Deprecated", "Deprecated", "Approved"]
    assert [d["replaces"] for d in n3] == [None, n3[0]["uniqueId"], n3[1]["uniqueId"]]


@pytest.mark.req("SGL.DMP.03")
async def test_a_withdrawn_report_is_deleted_from_the_dmp_by_iti_57_SGL_DMP_03(
        dl: DeliveryLab, dmp: DmpSimulator) -> None:
    _, report, _ = await validated_report(dl.lab, {"K": 4.4})
    await wait_until(dl.lab.client, report["id"], _finished())
    answer = await dl.lab.client.post(f"DiagnosticReport/{report['id']}/$withdraw",
                                      json=parameters(reason="prélèvement mal identifié"))
    assert answer.status_code == 200, answer.text
    found = to("dmp", await wait_until(dl.lab.client, report["id"], _finished(2)))
    assert [(d["action"], d["state"]) for d in found] == [("publish", "delivered"), ("delete", "delivered")]
    held = _held(dmp, report["id"])
    assert len(held) == 2 and {d["availabilityStatus"] for d in held} == {"urn:asip:ci-sis:2010:StatusType:Deleted"}


@pytest.mark.req("SGL.DMP.03")
async def test_a_rest_delete_tells_the_dmp_only_if_the_delete_commits_SGL_DMP_03(
        dl: DeliveryLab, dmp: DmpSimulator) -> None:
    """A REST DELETE of a partial report whose CR-Bio reached the DMP writes the withdrawal deliveries in the
    delete's own transaction: refused on a stale version (412), nothing is written and the DMP keeps the
    document; accepted, the DMP deletes it (ITI-57)."""
    pid, report, _ = await validated_report(dl.lab, {"NA": 139}, pending={"K": 4.0})
    await wait_until(dl.lab.client, report["id"], _finished())
    path = f"DiagnosticReport/{report['id']}"
    current = (await dl.lab.client.get(path)).json()
    assert current["status"] == "preliminary" and current["meta"]["versionId"] != "1"
    stale = await dl.lab.client.delete(path, headers={"If-Match": 'W/"1"'})
    assert stale.status_code == 412, stale.text
    assert (await dl.lab.client.get(path)).status_code == 200
    assert [d["action"] for d in to("dmp", await deliveries(dl.lab.client, report["id"]))] == ["publish"]
    gone = await dl.lab.client.delete(path, headers={"If-Match": f'W/"{current["meta"]["versionId"]}"'})
    assert gone.status_code == 204, gone.text

    def withdrawn(found: list[dict[str, Any]]) -> bool:
        mine = [d for d in to("dmp", found) if d["report_id"] == report["id"]]
        return len(mine) == 2 and all(d["state"] in DONE for d in mine)
    found = await wait_until(dl.lab.client, pid, withdrawn, kind="Patient")
    assert sorted((d["action"], d["state"]) for d in to("dmp", found) if d["report_id"] == report["id"]) == [
        ("delete", "delivered"), ("publish", "delivered")]
    assert {d["availabilityStatus"] for d in _held(dmp, report["id"])} == {"urn:asip:ci-sis:2010:StatusType:Deleted"}


@pytest.mark.req("SGL.DOC.15", "SGL.DMP.03")
async def test_a_masking_change_after_delivery_reaches_the_dmp_by_iti_57_SGL_DOC_15_SGL_DMP_03(
        dl: DeliveryLab, dmp: DmpSimulator) -> None:
    _, report, _ = await validated_report(dl.lab, {"GLU": 1.3})
    await wait_until(dl.lab.client, report["id"], _finished())
    path = f"DiagnosticReport/{report['id']}"
    for count, code in ((2, "MASQUE_PS"), (3, "INVISIBLE_PATIENT")):
        current = (await dl.lab.client.get(path)).json()
        meta = current["meta"]
        changed = {**current, "meta": {**meta, "security": [*meta.get("security", []),
                                                            {"system": VISIBILITY_SYSTEM, "code": code}]}}
        answer = await dl.lab.client.put(path, json=changed)
        assert answer.status_code == 200, answer.text
        await wait_until(dl.lab.client, report["id"], _finished(count))
    found = to("dmp", await wait_until(dl.lab.client, report["id"], _finished(3)))
    assert [(d["action"], d["state"]) for d in found] == [("publish", "delivered"), ("settings", "delivered"),
                                                          ("settings", "delivered")]
    assert [d["recipient_extra"].get("metadata_version") for d in found[1:]] == ["1", "2"]
    held = _held(dmp, report["id"])
    assert len(held) == 2 and {tuple(d["confidentialityCode"]) for d in held} == {
        ("N", "MASQUE_PS", "INVISIBLE_PATIENT")}
    current = (await dl.lab.client.get(path)).json()
    rewritten = await dl.lab.client.put(path, json={**current, "conclusion": "réécrit"})
    assert rewritten.status_code == 409 and "VAL-15" in rewritten.text  # only the DMP settings stay editable


@pytest.mark.req("SGL.DOC.15", "SGL.DMP.03")
async def test_a_masking_change_whose_answer_was_lost_is_found_done_not_refused_SGL_DOC_15_SGL_DMP_03(
        dl: DeliveryLab, dmp: DmpSimulator) -> None:
    """The DMP applies the new metadata version (ITI-57) but answers after the client's 4 s timeout; the retry's
    PreviousVersion is no longer the current one (XDSMetadataVersionError): it must first ask (ITI-18) and find
    the confidentialityCodes already there."""
    _, report, _ = await validated_report(dl.lab, {"GLU": 1.4})
    await wait_until(dl.lab.client, report["id"], _finished())
    path = f"DiagnosticReport/{report['id']}"
    current = (await dl.lab.client.get(path)).json()
    meta = current["meta"]
    dmp.queue_faults("slow", delay=6)  # processed at once, answered after SGL_DMP_TIMEOUT
    answer = await dl.lab.client.put(path, json={**current, "meta": {**meta, "security": [
        *meta.get("security", []), {"system": VISIBILITY_SYSTEM, "code": "MASQUE_PS"}]}})
    assert answer.status_code == 200, answer.text
    found = to("dmp", await wait_until(dl.lab.client, report["id"], _finished(2)))
    settings = found[1]
    assert (settings["action"], settings["state"]) == ("settings", "delivered"), settings["history"]
    assert [h["outcome"] for h in settings["history"]] == ["retry", "delivered"]
    assert "ITI-18" in settings["history"][-1]["text"]
    assert {tuple(d["confidentialityCode"]) for d in _held(dmp, report["id"])} == {("N", "MASQUE_PS")}
    assert await worklist(dl.lab.client, "delivery-failed", path) == []


@pytest.mark.req("SGL.DMP.02")
async def test_a_patient_who_refused_dmp_feeding_of_the_dossier_gets_no_dmp_delivery_SGL_DMP_02(
        dl: DeliveryLab, dmp: DmpSimulator) -> None:
    pid = await patient(dl.lab)
    (request,) = await dl.lab.order(pid)
    requisition = (await dl.lab.client.get(f"ServiceRequest/{request}")).json()["requisition"]
    refusal = await dl.lab.client.post("ServiceRequest/$refusal", json={"resourceType": "Parameters", "parameter": [
        {"name": "requisition", "valueIdentifier": requisition}, {"name": "channel", "valueCode": "dmp"},
        {"name": "refused", "valueBoolean": True}]})
    assert refusal.status_code == 200, refusal.text
    _, report, _ = await validated_report(dl.lab, {"UREA": 5.2}, pid=pid)
    assert report["basedOn"] != [{"reference": f"ServiceRequest/{request}"}]  # its own order, no refusal on it
    rid = await dl.lab.result(pid, request, "GLU", 1.2, when="2026-11-20T08:00:00+01:00")
    assert (await dl.lab.validate(rid)).status_code == 200
    refused = await dl.lab.report_of(rid)
    answer = await dl.lab.client.post(f"DiagnosticReport/{refused['id']}/$validate-biological", json=parameters())
    assert answer.status_code == 200, answer.text
    await wait_for_documents(dl.lab.client, refused["id"])
    await wait_until(dl.lab.client, report["id"], _finished())  # the other dossier of the patient goes
    assert to("dmp", await wait_until(dl.lab.client, refused["id"], lambda found: True)) == []
    assert _held(dmp, refused["id"]) == [] and len(_held(dmp, report["id"])) == 2


async def _validated_with(dl: DeliveryLab, security: list[dict[str, str]], tags: list[dict[str, str]], *,
                          code: str = "GLU", requester: str | None = None) -> str:
    """A report whose dossier settings (security labels, tags) are set before its biological validation, as
    the workbench does when the biologist ticks them (``requester``: the order's prescriber); returns its id."""
    pid = await patient(dl.lab)
    (request,) = await dl.lab.order(pid)
    if requester:
        order = (await dl.lab.client.get(f"ServiceRequest/{request}")).json()
        put = await dl.lab.client.put(f"ServiceRequest/{request}",
                                      json={**order, "requester": {"reference": requester}})
        assert put.status_code == 200, put.text
    rid = await dl.lab.result(pid, request, code, 1.1, when="2026-11-20T08:00:00+01:00")
    assert (await dl.lab.validate(rid)).status_code == 200
    report = await dl.lab.report_of(rid)
    meta = report.get("meta", {})
    report["meta"] = {**meta, "security": [*meta.get("security", []), *security], "tag": [*meta.get("tag", []), *tags]}
    put = await dl.lab.client.put(f"DiagnosticReport/{report['id']}", json=report)
    assert put.status_code == 200, put.text
    answer = await dl.lab.client.post(f"DiagnosticReport/{report['id']}/$validate-biological", json=parameters())
    assert answer.status_code == 200, answer.text
    return str(report["id"])


@pytest.mark.req("SGL.DOC.15", "SGL.DOC.16")
async def test_a_masked_dossier_is_sent_with_its_confidentiality_codes_SGL_DOC_15_SGL_DOC_16(
        dl: DeliveryLab, dmp: DmpSimulator) -> None:
    labels = [{"system": VISIBILITY_SYSTEM, "code": c} for c in ("MASQUE_PS", "INVISIBLE_PATIENT")]
    report_id = await _validated_with(dl, labels, [])
    [delivery] = to("dmp", await wait_until(dl.lab.client, report_id, _finished()))
    assert delivery["state"] == "delivered"
    assert {tuple(d["confidentialityCode"]) for d in _held(dmp, report_id)} == {
        ("N", "MASQUE_PS", "INVISIBLE_PATIENT")}


def _blocked(dl: DeliveryLab, report_id: str) -> Any:
    return wait_until(dl.lab.client, report_id, lambda found: [d["state"] for d in to("dmp", found)] == ["blocked"])


@pytest.mark.req("SGL.DMP.02")
async def test_a_blocked_dossier_waits_blocked_with_its_reason_until_released_SGL_DMP_02(
        dl: DeliveryLab, dmp: DmpSimulator) -> None:
    block = {"system": BLOCK_SYSTEM, "code": "DMP_BLOQUE", "display": "expertise assurance"}
    report_id = await _validated_with(dl, [], [block])
    [blocked] = to("dmp", await _blocked(dl, report_id))
    assert blocked["settings"]["blocked_reason"] == "dossier : expertise assurance" and blocked["attempts"] == 0
    assert _held(dmp, report_id) == []
    released = await dl.lab.client.post(f"DiagnosticReport/{report_id}/$delivery-retry",
                                        json=parameters(delivery=blocked["id"]))
    assert released.status_code == 200 and released.json()["parameter"][0]["valueString"] == blocked["id"]
    [sent] = to("dmp", await wait_until(dl.lab.client, report_id, _finished()))
    assert sent["state"] == "delivered" and [h.get("manual") for h in sent["history"]][0] == "retry"
    assert len(_held(dmp, report_id)) == 2  # N3 and N1, once


@pytest.mark.req("SGL.DMP.02")
async def test_dmp_feeding_blocked_for_a_prescriber_and_for_an_analysis_only_by_a_biologist_SGL_DMP_02(
        dl: DeliveryLab, dmp: DmpSimulator) -> None:
    extension = {"url": BLOCK_EXTENSION, "valueString": "envoi automatique désactivé (réanimation)"}
    icu = {"resourceType": "Organization", "name": "Service de réanimation", "extension": [extension]}
    secretary, admin = await dl.act_as("secretaire"), await dl.act_as("administrateur")
    referent = await dl.act_as("biologiste-responsable")
    refused = await secretary.post("Organization", json=icu)  # a secretary edits prescribers, not their DMP feeding
    assert refused.status_code == 403 and "dmp-block" in refused.text
    created = await dl.lab.client.post("Organization", json=icu)
    assert created.status_code == 201, created.text
    stored = created.json()
    lifted = await secretary.put(f"Organization/{stored['id']}", json={**stored, "extension": []})
    assert lifted.status_code == 403 and "dmp-block" in lifted.text
    renamed = await secretary.put(f"Organization/{stored['id']}", json={**stored, "name": "Réanimation"})
    assert renamed.status_code == 200, renamed.text  # other edits stay open; the block is kept

    report_id = await _validated_with(dl, [], [], requester=f"Organization/{stored['id']}")
    [blocked] = to("dmp", await _blocked(dl, report_id))
    assert blocked["settings"]["blocked_reason"] == (
        f"prescripteur Organization/{stored['id']} : envoi automatique désactivé (réanimation)")

    found = await referent.get("ObservationDefinition", params={"identifier": f"{CATALOG}|CREA"})
    [definition] = [e["resource"] for e in found.json()["entry"]]
    marked = {**definition, "extension": [*definition.get("extension", []),
                                          {"url": BLOCK_EXTENSION, "valueString": "hors périmètre DMP"}]}
    assert (await admin.put(f"ObservationDefinition/{definition['id']}", json=marked)).status_code == 403
    put = await referent.put(f"ObservationDefinition/{definition['id']}", json=marked)
    assert put.status_code == 200, put.text
    try:
        report_id = await _validated_with(dl, [], [], code="CREA")
        [blocked] = to("dmp", await _blocked(dl, report_id))
        assert blocked["settings"]["blocked_reason"] == "analyse CREA : hors périmètre DMP"
        assert _held(dmp, report_id) == []
    finally:
        current = (await referent.get(f"ObservationDefinition/{definition['id']}")).json()
        current["extension"] = [e for e in current.get("extension", []) if e["url"] != BLOCK_EXTENSION]
        assert (await referent.put(f"ObservationDefinition/{definition['id']}", json=current)).status_code == 200


async def test_a_registry_refusal_is_a_failure_task_at_once(dl: DeliveryLab, dmp: DmpSimulator) -> None:
    before = await dashboard_counts(dl, "dmp")
    dmp.queue_faults("registry_error", code="XDSUnknownPatientId")
    _, report, _ = await validated_report(dl.lab, {"UREA": 6.1})
    [delivery] = to("dmp", await wait_until(dl.lab.client, report["id"], _finished()))
    assert delivery["state"] == "failed" and delivery["attempts"] == 1
    assert "XDSUnknownPatientId" in delivery["history"][0]["text"]
    tasks = [t for t in await worklist(dl.lab.client, "delivery-failed", f"DiagnosticReport/{report['id']}")
             if any(i["valueString"] == delivery["id"] for i in t["input"])]
    assert len(tasks) == 1 and "XDSUnknownPatientId" in tasks[0]["description"]
    assert _held(dmp, report["id"]) == []
    after = await dashboard_counts(dl, "dmp")  # TBB.03: the business refusal is one DMP failure, once
    assert counted(before, after) == {"sent": 1, "delivered": 0, "failed": 1, "pending": 0, "stopped": 0}
    assert after["failed_pct"] == round(100 * after["failed"] / (after["failed"] + after["delivered"]), 1)


async def test_a_busy_dmp_is_retried_and_holds_the_report_once(dl: DeliveryLab, dmp: DmpSimulator) -> None:
    dmp.queue_faults("registry_error", 2, code="XDSRegistryBusy")
    _, report, _ = await validated_report(dl.lab, {"NA": 139})
    [delivery] = to("dmp", await wait_until(dl.lab.client, report["id"], _finished()))
    assert delivery["state"] == "delivered" and delivery["attempts"] == 3
    assert len(_held(dmp, report["id"])) == 2


async def test_unreadable_answers_are_retried_and_the_report_is_held_once(dl: DeliveryLab, dmp: DmpSimulator) -> None:
    """Bad input from the DMP: an answer that is not XML, then a truncated MTOM answer, then success."""
    dmp.queue_faults("garbage")
    dmp.queue_faults("truncated")
    _, report, _ = await validated_report(dl.lab, {"NA": 143})
    [delivery] = to("dmp", await wait_until(dl.lab.client, report["id"], _finished()))
    assert delivery["state"] == "delivered" and delivery["attempts"] == 3
    first, second, third = delivery["history"]
    assert (first["outcome"], second["outcome"], third["outcome"]) == ("retry", "retry", "delivered")
    assert first["text"] and second["text"] and first["text"] != second["text"]  # each answer's own words kept
    assert len(_held(dmp, report["id"])) == 2  # N3 and N1, once: nothing lost, nothing doubled


async def test_a_dmp_answering_soap_faults_ends_failed_then_a_retry_sends_it_once(
        dl: DeliveryLab, dmp: DmpSimulator) -> None:
    before = await dashboard_counts(dl, "dmp")
    dmp.queue_faults("soap_fault", 3)
    _, report, _ = await validated_report(dl.lab, {"GLU": 0.95})
    [failed] = to("dmp", await wait_until(dl.lab.client, report["id"], _finished()))
    assert failed["state"] == "failed" and failed["attempts"] == 3 and _held(dmp, report["id"]) == []
    assert all(h["outcome"] == "retry" and "indisponible" in h["text"] for h in failed["history"]), failed["history"]
    tasks = [t for t in await worklist(dl.lab.client, "delivery-failed", f"DiagnosticReport/{report['id']}")
             if any(i["valueString"] == failed["id"] for i in t["input"])]
    assert len(tasks) == 1 and "dmp" in tasks[0]["description"]
    failing = await dashboard_counts(dl, "dmp")  # TBB.03: three tries ending in failure are one failure
    assert counted(before, failing) == {"sent": 1, "delivered": 0, "failed": 1, "pending": 0, "stopped": 0}
    retried = await dl.lab.client.post(f"DiagnosticReport/{report['id']}/$delivery-retry",
                                       json=parameters(delivery=failed["id"]))
    assert retried.status_code == 200
    [done] = to("dmp", await wait_until(dl.lab.client, report["id"],
                                        lambda found: to("dmp", found)[0]["state"] == "delivered"))
    assert done["attempts"] == 1 and len(_held(dmp, report["id"])) == 2
    # sent again by a person and delivered: the same delivery, now counted delivered and no longer failed
    assert counted(before, await dashboard_counts(dl, "dmp")) == {
        "sent": 1, "delivered": 1, "failed": 0, "pending": 0, "stopped": 0}


@pytest.mark.req("SGL.INS.37")
async def test_no_qualified_ins_nothing_to_the_dmp_SGL_INS_37(dl: DeliveryLab, dmp: DmpSimulator) -> None:
    _, report, _ = await validated_report(dl.lab, {"GLU": 0.9}, qualified=False)
    await wait_for_documents(dl.lab.client, report["id"])
    found = await wait_until(dl.lab.client, report["id"], lambda found: True)
    assert to("dmp", found) == [] and _held(dmp, report["id"]) == []
