"""The outbox and its HL7 v2 channel to hospital EHRs, end to end over real sockets: a validated report reaches a
DPI's MLLP listener as an ORU^R01 with the stored N3, a correction follows as a replacement, refusals and
silences end in failure Tasks, and people retry or cancel through FHIR operations (with their permission)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.delivery_lab import (
    DeliveryLab,
    counted,
    dashboard_counts,
    delivery_lab,
    shown,
    three_versions,
    to,
    wait_until,
)
from tests.support.documents_wait import crbio, wait_for_documents
from tests.support.dossiers import validated_report
from tests.support.mllp_receiver import MllpReceiver
from tests.support.validation_lab import parameters
from tests.support.worklist import worklist

INS = "279035121518989"


@pytest.fixture(scope="module")
async def dl(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DeliveryLab]:
    async with delivery_lab(tmp_path_factory.mktemp("delivery") / "var") as lab:
        yield lab


@pytest.fixture
async def receiver(dl: DeliveryLab, request: pytest.FixtureRequest) -> AsyncIterator[MllpReceiver]:
    """A DPI partner named after the test, listening on its own port; removed at the end."""
    async with dl.dpi("DPI" + str(abs(hash(request.node.name)) % 10**6), await MllpReceiver().start()) as dpi:
        yield dpi


def _finished(recipient: str, count: int = 1) -> Any:
    return lambda found: len(to(recipient, found)) >= count and all(
        d["state"] in ("delivered", "failed", "cancelled") for d in to(recipient, found))


def _obx(message: Any) -> list[Any]:
    return message.segments("OBX")


@pytest.mark.req("SGL.DOC.17")
@pytest.mark.req("SGL.RES.01")
@pytest.mark.req("SGL.INS.56")
@pytest.mark.req("SGL.INS.50")
async def test_validated_report_reaches_the_dpi_as_oru_with_the_stored_n3_SGL_DOC_17_SGL_RES_01_SGL_INS_56_SGL_INS_50(
        dl: DeliveryLab, receiver: MllpReceiver) -> None:
    name = receiver.name  # type: ignore[attr-defined]
    _, report, _ = await validated_report(dl.lab, {"GLU": 1.05, "NA": 140})
    [delivery] = to(name, await wait_until(dl.lab.client, report["id"], _finished(name)))
    assert delivery["state"] == "delivered" and delivery["action"] == "publish" and delivery["version"] == 1
    [message] = receiver.received
    assert str(message.msh.field(9)) == "ORU^R01^ORU_R01" and str(message.msh.field(21)) == "2.1^CISIS_CDA_HL7_V2"
    assert message.msh.get("5") == name
    pid3 = str(message.segment("PID").field(3))  # type: ignore[union-attr]
    assert f"{INS}^^^ASIP-SANTE-INS-NIR&1.2.250.1.213.1.4.10&ISO^INS" in pid3  # qualified: INS in PID-3
    assert message.segment("ORC").get("1") == "NW"  # type: ignore[union-attr]
    document, *flags_and_results = _obx(message)
    assert document.get("2") == "ED" and str(document.field(3)) == "11502-2^CR d'examens biologiques^LN"
    assert document.get("11") == "F" and document.get("5.2") == "TEXT" and document.get("5.4") == "Base64"
    stored_n3 = (await crbio(dl.lab.client, report["id"], "n3")).content
    assert base64.b64decode(document.get("5.5")) == stored_n3  # byte-identical to the stored CDA
    flags = [o.get("3.1") for o in flags_and_results if o.get("3.3") == "MetaDMPMSS"]
    assert flags[:3] == ["MASQUE_PS", "INVISIBLE_PATIENT", "INVISIBLE_REP_LEGAUX"]
    values = {o.get("3.1"): o.get("5") for o in flags_and_results if o.get("2") == "NM"}
    assert len(values) == 2 and "140" in values.values()
    # the exchange is kept (SGL.INS.50): when, to whom, what the partner answered, the message id it acknowledged
    [attempt] = delivery["history"]
    assert attempt["outcome"] == "delivered" and attempt["text"] == "AA" and attempt["ended"]
    assert delivery["remote_id"] == message.control_id and delivery["recipient"] == name


@pytest.mark.req("SGL.DOC.17")
async def test_a_correction_follows_as_a_replacement_after_the_first_version(
        dl: DeliveryLab, receiver: MllpReceiver) -> None:
    name = receiver.name  # type: ignore[attr-defined]
    report = {"id": await three_versions(dl.lab)}
    found = await wait_until(dl.lab.client, report["id"], _finished(name, 3))
    versions = [(d["version"], d["action"], d["state"]) for d in to(name, found)]
    assert versions == [(1, "publish", "delivered"), (2, "replace", "delivered"), (3, "replace", "delivered")]
    assert [m.segment("ORC").get("1") for m in receiver.received] == ["NW", "RO", "RO"]  # type: ignore[union-attr]
    assert [_obx(m)[0].get("11") for m in receiver.received] == ["F", "C", "C"]
    assert len(receiver.by_control_id) == 3  # each version once, in order


@pytest.mark.req("SGL.DOC.17")
async def test_a_withdrawn_report_reaches_the_dpi_as_a_deletion_with_obx_11_d_SGL_DOC_17(
        dl: DeliveryLab, receiver: MllpReceiver) -> None:
    name = receiver.name  # type: ignore[attr-defined]
    _, report, _ = await validated_report(dl.lab, {"NA": 138})
    await wait_until(dl.lab.client, report["id"], _finished(name))
    path = f"DiagnosticReport/{report['id']}/$withdraw"
    technician = await dl.act_as("technicien")
    assert (await technician.post(path, json=parameters(reason="erreur de patient"))).status_code == 403
    assert (await dl.lab.client.post(path, json=parameters())).status_code == 400  # a reason is required
    answer = await dl.lab.client.post(path, json=parameters(reason="erreur d'identification du patient"))
    assert answer.status_code == 200 and answer.json()["status"] == "entered-in-error", answer.text
    found = to(name, await wait_until(dl.lab.client, report["id"], _finished(name, 2)))
    assert [(d["action"], d["version"], d["state"]) for d in found] == [("publish", 1, "delivered"),
                                                                       ("delete", 1, "delivered")]
    first, withdrawal = receiver.received
    assert withdrawal.segment("ORC").get("1") == "CA" and _obx(withdrawal)[0].get("11") == "D"  # type: ignore[union-attr]
    assert _obx(withdrawal)[0].get("5.5") == _obx(first)[0].get("5.5")  # the document it withdraws
    assert withdrawal.control_id != first.control_id and found[1]["remote_id"] == withdrawal.control_id
    again = await dl.lab.client.post(path, json=parameters(reason="encore"))
    assert again.status_code == 422 and "VAL-09" in again.text


async def test_a_replacement_waits_for_the_version_it_replaces(dl: DeliveryLab, receiver: MllpReceiver) -> None:
    name = receiver.name  # type: ignore[attr-defined]
    receiver.delay = 6.0  # version 1 stays unacknowledged while version 2 is made and queued
    _, report, _ = await validated_report(dl.lab, {"NA": 142}, pending={"K": 4.3})
    await wait_until(dl.lab.client, report["id"], lambda f: receiver.attempts >= 1)
    answer = await dl.lab.client.post(f"DiagnosticReport/{report['id']}/$validate-biological", json=parameters())
    assert answer.status_code == 200
    await wait_for_documents(dl.lab.client, report["id"])
    found = to(name, await wait_until(dl.lab.client, report["id"], _finished(name, 2)))
    assert [(d["version"], d["state"]) for d in found] == [(1, "delivered"), (2, "delivered")]
    first, second = (d["remote_id"] for d in found)
    assert receiver.arrived[second] >= receiver.answered[first]  # sent only once the first was acknowledged


async def test_a_refusal_is_a_failure_task_with_the_partners_text_at_once(
        dl: DeliveryLab, receiver: MllpReceiver) -> None:
    name = receiver.name  # type: ignore[attr-defined]
    receiver.mode = "ae"
    _, report, _ = await validated_report(dl.lab, {"UREA": 6.1})
    [delivery] = to(name, await wait_until(dl.lab.client, report["id"], _finished(name)))
    assert delivery["state"] == "failed" and delivery["attempts"] == 1  # AE: not retried
    assert "Patient inconnu du DPI" in delivery["history"][0]["text"]
    tasks = [t for t in await worklist(dl.lab.client, "delivery-failed", f"DiagnosticReport/{report['id']}")
             if any(i["valueString"] == delivery["id"] for i in t["input"])]
    [task] = tasks
    assert task["status"] == "requested" and name in task["description"]
    assert "Patient inconnu du DPI" in task["description"]
    assert task["code"]["text"] == "Envoi du CR-Bio en échec : à relancer ou annuler"


async def test_silence_is_retried_with_backoff_then_a_task_then_a_manual_retry_delivers_once(
        dl: DeliveryLab, receiver: MllpReceiver) -> None:
    name = receiver.name  # type: ignore[attr-defined]
    receiver.mode = "drop"
    before = await dashboard_counts(dl, "dpi")
    _, report, _ = await validated_report(dl.lab, {"CREA": 75})
    found = await wait_until(dl.lab.client, report["id"], _finished(name))
    [delivery] = to(name, found)
    # TBB.03: three tries ending in failure are one DPI failure, as $deliveries shows
    assert counted(before, await dashboard_counts(dl, "dpi")) == shown(found, "dpi")
    assert shown(found, "dpi")["failed"] == 1
    assert delivery["state"] == "failed" and delivery["attempts"] == 3 and receiver.attempts == 3
    assert [h["outcome"] for h in delivery["history"]] == ["retry", "retry", "retry"]
    starts = [h["started"] for h in delivery["history"]]
    assert starts == sorted(starts) and len(set(starts)) == 3
    assert await worklist(dl.lab.client, "delivery-failed", f"DiagnosticReport/{report['id']}")
    receiver.mode = "ack"
    retried = await dl.lab.client.post(f"DiagnosticReport/{report['id']}/$delivery-retry", json=parameters(
        delivery=delivery["id"]))
    assert retried.status_code == 200 and retried.json()["parameter"][0]["valueString"] == delivery["id"]
    [again] = to(name, await wait_until(dl.lab.client, report["id"],
                                        lambda f: to(name, f)[0]["state"] == "delivered"))
    assert again["history"][-2]["manual"] == "retry" and len(receiver.received) == 1
    found = await wait_until(dl.lab.client, report["id"], lambda f: True)
    assert counted(before, await dashboard_counts(dl, "dpi")) == shown(found, "dpi")  # delivered now, not failed


async def test_a_wrong_msa2_is_never_taken_for_a_delivery(dl: DeliveryLab, receiver: MllpReceiver) -> None:
    name = receiver.name  # type: ignore[attr-defined]
    receiver.mode = "wrong-id"
    _, report, _ = await validated_report(dl.lab, {"K": 4.0})
    [delivery] = to(name, await wait_until(dl.lab.client, report["id"], _finished(name)))
    assert delivery["state"] == "failed" and "instead of" in delivery["history"][0]["text"]


async def test_cancel_needs_a_reason_and_is_kept_in_the_history(dl: DeliveryLab, receiver: MllpReceiver) -> None:
    name = receiver.name  # type: ignore[attr-defined]
    receiver.mode = "ar"
    _, report, _ = await validated_report(dl.lab, {"NA": 139})
    [failed] = to(name, await wait_until(dl.lab.client, report["id"], _finished(name)))
    assert failed["state"] == "failed"
    path = f"DiagnosticReport/{report['id']}/$delivery-cancel"
    refused = await dl.lab.client.post(path, json=parameters(delivery=failed["id"]))
    assert refused.status_code == 400 and "reason" in refused.text
    answer = await dl.lab.client.post(path, json=parameters(delivery=failed["id"], reason="patient transféré"))
    assert answer.status_code == 200 and [p["valueString"] for p in answer.json()["parameter"]] == [failed["id"]]
    [cancelled] = to(name, await wait_until(dl.lab.client, report["id"], _finished(name)))
    assert cancelled["state"] == "cancelled" and cancelled["history"][-1]["reason"] == "patient transféré"
    again = await dl.lab.client.post(path, json=parameters(delivery=failed["id"], reason="encore"))
    assert again.status_code == 200 and "parameter" not in again.json() or again.json()["parameter"] == []
    unknown = await dl.lab.client.post(path, json=parameters(delivery="nope", reason="x"))
    assert unknown.status_code == 404


@pytest.mark.req("SGL.INS.05")
async def test_delivery_operations_refuse_callers_without_the_permission(dl: DeliveryLab) -> None:
    technician = await dl.act_as("technicien")
    secretary = await dl.act_as("secretaire")
    _, report, _ = await validated_report(dl.lab, {"GLU": 0.9})
    path = f"DiagnosticReport/{report['id']}"
    assert (await technician.get(f"{path}/$deliveries")).status_code == 403
    assert (await technician.post(f"{path}/$delivery-retry", json=parameters())).status_code == 403
    assert (await secretary.get(f"{path}/$deliveries")).status_code == 200
    refused = await secretary.post(f"{path}/$delivery-cancel", json=parameters(reason="x"))
    assert refused.status_code == 403
    assert (await secretary.post(f"{path}/$produce-documents")).status_code == 403


async def test_sgl_deliveries_lists_shows_cancels_and_retries(dl: DeliveryLab, receiver: MllpReceiver) -> None:
    name = receiver.name  # type: ignore[attr-defined]
    receiver.mode = "ar"
    _, report, _ = await validated_report(dl.lab, {"GLU": 1.2})
    [failed] = to(name, await wait_until(dl.lab.client, report["id"], _finished(name)))
    code, out = await dl.sgl("deliveries", "list", "--state", "failed", "--report", report["id"])
    assert code == 0, out
    header, *rows = [line for line in out.splitlines() if line.count(";") >= 9]
    assert header.startswith("id;state;channel;recipient;report_id;version")
    assert [r.split(";")[:4] for r in rows] == [[failed["id"], "failed", "hl7v2", name]]
    code, out = await dl.sgl("deliveries", "show", failed["id"])
    assert code == 0 and '"outcome": "failed"' in out and "Patient inconnu du DPI" in out
    code, out = await dl.sgl("deliveries", "cancel", failed["id"], "--reason", "doublon")
    assert code == 0 and "1 delivery(ies) cancelled" in out
    code, out = await dl.sgl("deliveries", "retry")
    assert code != 0 and "--all-failed" in out
    receiver.mode = "ack"
    code, out = await dl.sgl("deliveries", "retry", failed["id"])
    assert code == 0 and "1 delivery(ies) queued again" in out
    [done] = to(name, await wait_until(dl.lab.client, report["id"], lambda f: to(name, f)[0]["state"] == "delivered"))
    assert [h.get("manual") for h in done["history"] if h.get("manual")] == ["cancel", "retry"]
    assert (await dl.sgl("deliveries", "show", "nope"))[0] != 0
