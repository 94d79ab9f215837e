"""End to end: a validated report reaches the MSSanté operator once per recipient, through the real outbox.

A dedicated ``sgl serve`` configured with ``SGL_MSS_*`` and a real ``sgl mssante-simulator`` process; the
dossier is made the way the lab makes it (prescriber and correspondents on the ServiceRequest, a qualified
patient), the report biologically validated; the mails are read back from the simulator's
``/_sim/messages`` and the deliveries through ``$deliveries`` as a client would.
"""

from __future__ import annotations

import asyncio
import base64
import io
import os
import signal
import zipfile
from collections import Counter
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

from facades.cda import validate_cda
from facades.mssante import MssTlsRefused
from facades.mssante.dev_crl import write_crl
from facades.mssante.ocsp import check_ocsp
from server.delivery.dmp_settings import VISIBILITY_SYSTEM
from tests.support.delivery_lab import (
    DeliveryLab,
    counted,
    dashboard_counts,
    deliveries,
    shown,
    wait_for,
    wait_until,
)
from tests.support.dossiers import validated_report
from tests.support.mssante_dossiers import (
    attachment,
    body_text,
    correspondents_report,
    doctor,
    mss,
    ordered,
    states,
    validated,
)
from tests.support.mssante_operator import OperatorProcess
from tests.support.mssante_site import mssante_fixtures
from tests.support.sgl_server import start_sgl
from tests.support.validation_lab import parameters
from tests.support.worklist import worklist

BAL = "labo-resultats@labo-opensgl.mssante.fr"
CONTACT = "secretariat@labo-opensgl.mssante.fr"
INS = "279035121518989"
PATIENT_ADDRESS = f"{INS}@patient.mssante.fr"
COPIES_TO = "https://opensgl.org/fhir/StructureDefinition/result-copies-to"


# a killed server's leases expire soon (SGL_DELIVERY_LEASE, SGL_DELIVERY_TIMEOUT)
operator, dl = mssante_fixtures("mss-delivery", BAL, unknown=("inconnu@cabinet.mssante.fr",), SGL_MSS_CONTACT=CONTACT,
                                SGL_MSS_RECEIPTS_POLL="0.5", SGL_DELIVERY_ATTEMPTS="60", SGL_DELIVERY_LEASE="10",
                                SGL_DELIVERY_TIMEOUT="8")


@pytest.mark.req("SGL.MSS.17")
@pytest.mark.req("SGL.MSS.20")
@pytest.mark.req("SGL.MSS.22")
async def test_validated_report_is_mailed_once_to_each_recipient_with_receipts_SGL_MSS_17_SGL_MSS_20_SGL_MSS_22(
        dl: DeliveryLab, operator: OperatorProcess) -> None:
    pros = [f"correspondant{n}@cabinet{n}.mssante.fr" for n in range(3)] + ["inconnu@cabinet.mssante.fr"]
    refs = [await doctor(dl.lab, n, a) for n, a in enumerate(pros)] + [await doctor(dl.lab, 9, None)]
    before = {route: await dashboard_counts(dl, route) for route in ("mss-pro", "mss-patient")}
    report_id = await validated(dl.lab, qualified=True, correspondents=refs)

    found = await wait_until(dl.lab.client, report_id, lambda f: len([d for d in f if d["channel"] == "mssante"])
                             == 5 and states([d for d in f if d["channel"] == "mssante"], "delivered", "failed"))
    sent = mss(found)
    assert sorted(d["recipient"] for d in sent) == sorted([*pros, f"patient:{sent[0]['patient']}"])
    assert all(INS not in d["id"] for d in sent)  # the INS address is not the delivery's name
    for address in [*pros[:3], PATIENT_ADDRESS]:
        [mail] = await asyncio.to_thread(operator.messages, address, raw=True)  # exactly once each
        assert mail["attachments"][0] == "IHE_XDM.ZIP" and mail["attachments"][1].startswith("CR-BIO_")
        headers = mail["headers"]
        assert (headers["X-MSS-CODECDA"], headers["X-MSS-INS"]) == ("11502-2", "O")
        assert headers["Reply-To"] == CONTACT and headers["Disposition-Notification-To"] == BAL
        assert mail["clientCertificate"] == "BAL-APPLICATIVE"
    raw = base64.b64decode(mail["raw"])
    archive = zipfile.ZipFile(io.BytesIO(attachment(raw, "IHE_XDM.ZIP")))
    assert sorted(archive.namelist()) == ["IHE_XDM/SUBSET01/DOC0001.XML", "IHE_XDM/SUBSET01/METADATA.XML",
                                          "INDEX.HTM", "README.TXT"]
    n3 = archive.read("IHE_XDM/SUBSET01/DOC0001.XML")
    assert (await asyncio.to_thread(validate_cda, n3, level="N3")).ok  # the N3 passes the ANS conformance check
    assert attachment(raw, mail["attachments"][1]).startswith(b"%PDF")

    def receipts_in(f: list[dict[str, Any]]) -> bool:
        return all((d.get("receipt") or {}).get("status") in ("processed", "failed")
                   for d in f if d["channel"] == "mssante")

    found = await wait_until(dl.lab.client, report_id, receipts_in)
    by_recipient = {d["recipient"]: d for d in found if d["channel"] == "mssante"}
    assert by_recipient[pros[0]]["receipt"]["status"] == "processed"
    bounced = by_recipient["inconnu@cabinet.mssante.fr"]
    assert bounced["receipt"]["status"] == "failed" and bounced["receipt"]["code"] == "5.1.1"
    assert bounced["state"] == "failed" and bounced.get("task")  # the bounce became a failure Task
    tasks = await worklist(dl.lab.client, "delivery-failed", f"DiagnosticReport/{report_id}")
    assert any("inconnu@cabinet.mssante.fr" in t.get("description", "") for t in tasks)
    # TBB.03: the bounce (mail taken by the operator, DSN 5.1.1 later) is one MSSanté failure, counted once
    for route, counts in before.items():
        assert counted(counts, await dashboard_counts(dl, route)) == shown(found, route), route
    assert shown(found, "mss-pro")["failed"] == 1 and shown(found, "mss-patient")["delivered"] == 1


@pytest.mark.req("SGL.MSS.06")
async def test_revoked_operator_certificate_leaves_the_delivery_pending_with_the_reason_SGL_MSS_06(
        dl: DeliveryLab, operator: OperatorProcess) -> None:
    crl = operator.cert_dir / "crl.pem"
    good = crl.read_bytes()
    write_crl(operator.cert_dir / "ca.pem", operator.cert_dir / "ca-key.pem", crl,
              revoked=[operator.cert_dir / "server.pem"])
    address = "revocation@cabinet.mssante.fr"
    try:
        report_id = await validated(dl.lab, qualified=False, correspondents=[await doctor(dl.lab, 7, address)])
        found = await wait_until(dl.lab.client, report_id, lambda f: any(
            d["state"] == "pending" and "SGL.MSS.06" in d.get("last_answer", "") for d in f))
        [pending] = [d for d in found if d["channel"] == "mssante"]
        assert "revoked" in pending["last_answer"]
        assert await asyncio.to_thread(operator.messages, address) == []
        # a person is told at the first refusal, while the delivery retries (one Task, not one per try)
        [alert] = await worklist(dl.lab.client, "delivery-failed", f"DiagnosticReport/{report_id}")
        assert alert["status"] == "requested" and alert["code"]["text"].startswith("Connexion refusée (certificat)")
        assert "revoked" in alert["description"]
    finally:
        crl.write_bytes(good)
    await wait_until(dl.lab.client, report_id, lambda f: states([d for d in f if d["channel"] == "mssante"],
                                                                 "delivered"))
    assert len(await asyncio.to_thread(operator.messages, address)) == 1  # sent once, after the retries
    [closed] = await worklist(dl.lab.client, "delivery-failed", f"DiagnosticReport/{report_id}")
    assert (closed["id"], closed["status"]) == (alert["id"], "completed")  # the CRL fixed: the Task closed itself


@pytest.mark.req("SGL.MSS.25")
async def test_deletion_notice_goes_to_everyone_who_received_the_report_SGL_MSS_25(
        dl: DeliveryLab, operator: OperatorProcess) -> None:
    pros = ["supprime-a@cabinet-a.mssante.fr", "supprime-b@cabinet-b.mssante.fr"]
    _, report_id = await correspondents_report(dl.lab, pros, first=20)
    await wait_until(dl.lab.client, report_id, lambda f: len(mss(f)) == 3 and states(mss(f), "delivered"))

    # the second correspondent is taken off the dossier after he received the report: he is warned all the same
    report = await dl.lab.read("DiagnosticReport", report_id)
    request = await dl.lab.read("ServiceRequest", report["basedOn"][0]["reference"].partition("/")[2])
    request["extension"] = [e for e in request.get("extension", ()) if e.get("url") != COPIES_TO]
    assert (await dl.lab.client.put(f"ServiceRequest/{request['id']}", json=request)).status_code == 200
    late = await doctor(dl.lab, 29, "jamais-recu@cabinet-c.mssante.fr")  # added after: never received it
    request = await dl.lab.read("ServiceRequest", request["id"])
    request["extension"] = [{"url": COPIES_TO, "valueReference": {"reference": late}}]
    assert (await dl.lab.client.put(f"ServiceRequest/{request['id']}", json=request)).status_code == 200

    desk = await dl.act_as("secretaire")
    refused = await desk.post(f"DiagnosticReport/{report_id}/$withdraw", json=parameters(reason="erreur"))
    assert refused.status_code == 403  # withdrawing is a biologist's act
    no_reason = await dl.lab.client.post(f"DiagnosticReport/{report_id}/$withdraw", json=parameters())
    assert no_reason.status_code == 400
    answer = await dl.lab.client.post(f"DiagnosticReport/{report_id}/$withdraw",
                                      json=parameters(reason="compte rendu édité sur le mauvais dossier"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "entered-in-error"
    again = await dl.lab.client.post(f"DiagnosticReport/{report_id}/$withdraw", json=parameters(reason="encore"))
    assert again.status_code == 422  # already withdrawn
    resend = await dl.lab.client.post(f"DiagnosticReport/{report_id}/$mssante-send", json={
        "resourceType": "Parameters", "parameter": [{"name": "address", "valueString": pros[0]}]})
    assert resend.status_code == 409 and "withdrawn" in resend.text  # a withdrawn report is not sent again

    found = await wait_until(dl.lab.client, report_id, lambda f: len(mss(f, "delete")) == 3
                             and states(mss(f, "delete"), "delivered"))
    patient = next(d["recipient"] for d in mss(found) if d["recipient"].startswith("patient:"))
    assert sorted(d["recipient"] for d in mss(found, "delete")) == sorted([*pros, patient])
    sent_as = {(d["recipient"], d["action"]): d["remote_id"] for d in mss(found)}  # the Message-ID of each mail
    for recipient, address in [*((p, p) for p in pros), (patient, PATIENT_ADDRESS)]:
        by_id = {m["messageId"]: m for m in await asyncio.to_thread(operator.messages, address, raw=True)}
        report_mail, notice = by_id[sent_as[(recipient, "publish")]], by_id[sent_as[(recipient, "delete")]]
        assert report_mail["attachments"][0] == "IHE_XDM.ZIP"
        assert notice["subject"].startswith("Suppression d'un compte rendu") and notice["attachments"] == []
        assert "a été supprimé par le laboratoire" in body_text(base64.b64decode(notice["raw"]))
        assert notice["messageId"] != report_mail["messageId"]
    assert await asyncio.to_thread(operator.messages, "jamais-recu@cabinet-c.mssante.fr") == []


@pytest.mark.req("SGL.MSS.23")
async def test_partial_report_goes_only_on_a_deliberate_send_then_the_complete_one_SGL_MSS_23(
        dl: DeliveryLab, operator: OperatorProcess) -> None:
    chosen = "test-dsl-bio@pro.mssante.fr"
    _, report, [potassium] = await validated_report(dl.lab, {"NA": 141}, pending={"K": 4.1})
    report_id = report["id"]
    assert report["status"] == "preliminary"
    assert mss(await deliveries(dl.lab.client, report_id)) == []  # a partial report is not sent by itself

    desk = await dl.act_as("secretaire")
    send = {"resourceType": "Parameters", "parameter": [{"name": "address", "valueString": chosen}]}
    assert (await desk.post(f"DiagnosticReport/{report_id}/$mssante-send", json=send)).status_code == 403
    answer = await dl.lab.client.post(f"DiagnosticReport/{report_id}/$mssante-send", json=send)
    assert answer.status_code == 200, answer.text
    [key] = [p["valueString"] for p in answer.json()["parameter"]]
    assert key == f"mssante:{chosen}:{report_id}:v1:publish"
    await wait_until(dl.lab.client, report_id, lambda f: states(mss(f), "delivered"))
    again = await dl.lab.client.post(f"DiagnosticReport/{report_id}/$mssante-send", json=send)
    assert [p["valueString"] for p in again.json()["parameter"]] == [f"already {key}"]  # not mailed twice

    complete = await dl.lab.client.post(f"DiagnosticReport/{report_id}/$validate-biological", json=parameters())
    assert complete.status_code == 200, complete.text
    assert complete.json()["status"] == "final"
    found = await wait_until(dl.lab.client, report_id, lambda f: any(
        d["recipient"] == chosen and d["version"] == 2 and d["state"] == "delivered" for d in mss(f)))
    assert [(d["version"], d["action"]) for d in mss(found) if d["recipient"] == chosen] == [
        (1, "publish"), (2, "replace")]
    partial, whole = await asyncio.to_thread(operator.messages, chosen, raw=True)
    assert "annule et remplace" not in partial["subject"] and "annule et remplace" in whole["subject"]
    assert "ANNULE ET REMPLACE le compte rendu (version 1)" in body_text(base64.b64decode(whole["raw"]))
    for mail, status in ((partial, "preliminary"), (whole, "final")):
        archive = zipfile.ZipFile(io.BytesIO(attachment(base64.b64decode(mail["raw"]), "IHE_XDM.ZIP")))
        n3 = archive.read("IHE_XDM/SUBSET01/DOC0001.XML")
        assert (await asyncio.to_thread(validate_cda, n3, level="N3")).ok
        assert (b'statusCode code="active"' in n3) == (status == "preliminary")
    assert potassium


@pytest.mark.req("SGL.DOC.17")
async def test_a_report_invisible_to_the_patient_is_mailed_to_the_professionals_not_to_the_patient_SGL_DOC_17(
        dl: DeliveryLab, operator: OperatorProcess) -> None:
    """INVISIBLE_PATIENT (the patient is to be told by a professional first) means DESTMSSANTEPAT = N: the
    prescriber gets the CR-Bio, the patient's INS mailbox does not."""
    address = "annonce@cabinet.mssante.fr"
    pid, request = await ordered(dl.lab, qualified=True, correspondents=[await doctor(dl.lab, 8, address)])
    rid = await dl.lab.result(pid, request["id"], "GLU", 1.31)
    assert (await dl.lab.validate(rid)).status_code == 200
    report = await dl.lab.report_of(rid)
    meta = report.get("meta", {})
    report["meta"] = {**meta, "security": [*meta.get("security", []),
                                           {"system": VISIBILITY_SYSTEM, "code": "INVISIBLE_PATIENT"}]}
    assert (await dl.lab.client.put(f"DiagnosticReport/{report['id']}", json=report)).status_code == 200
    to_patient_before = len(await asyncio.to_thread(operator.messages, PATIENT_ADDRESS))
    answer = await dl.lab.client.post(f"DiagnosticReport/{report['id']}/$validate-biological", json=parameters())
    assert answer.status_code == 200, answer.text
    found = await wait_until(dl.lab.client, report["id"], lambda f: bool(mss(f)) and states(mss(f), "delivered"))
    assert [d["recipient"] for d in mss(found)] == [address]
    assert len(await asyncio.to_thread(operator.messages, address)) == 1
    assert len(await asyncio.to_thread(operator.messages, PATIENT_ADDRESS)) == to_patient_before


async def _slow_first_try(dl: DeliveryLab, operator: OperatorProcess, address: str, n: int, steps: str,
                          seconds: str) -> dict[str, Any]:
    """A report to ``address`` while the operator holds its answers to ``steps`` ``seconds`` each; once the first
    try is recorded the operator is quick again; the delivery when delivered."""
    await asyncio.to_thread(operator.admin, "delay", seconds=seconds, steps=steps)
    try:
        report_id = await validated(dl.lab, qualified=False, correspondents=[await doctor(dl.lab, n, address)])
        await wait_until(dl.lab.client, report_id, lambda f: bool(mss(f)) and mss(f)[0]["attempts"] >= 1,
                         deadline=60)
    finally:
        await asyncio.to_thread(operator.admin, "delay", seconds="0")
    [done] = mss(await wait_until(dl.lab.client, report_id, lambda f: states(mss(f), "delivered"), deadline=60))
    await asyncio.sleep(6)  # longer than any send still running could take: a late copy would show now
    return done


async def test_a_slow_operator_cannot_take_a_mail_after_the_try_was_recorded(dl: DeliveryLab,
                                                                           operator: OperatorProcess) -> None:
    """probe6: the SMTP send runs in a thread the delivery timeout (SGL_DELIVERY_TIMEOUT 8 s) stops waiting for
    but cannot stop. An operator answering each step just within the 4 s socket timeout (EHLO, EHLO after
    STARTTLS, RCPT, DATA 3 s each) kept the thread going after the outbox had recorded the try as a retry ("no
    answer within 8 s"): the operator then took that mail, and the retry sent it a second time. Now the exchange
    is cut at its own deadline (0.8 x 8 s), before the try is recorded, and the history says where it stopped:
    the operator holds one copy (the old code left it two, same Message-ID)."""
    address = "lent-etapes@cabinet-s.mssante.fr"
    done = await _slow_first_try(dl, operator, address, 70, "ehlo,rcpt,data", "3")
    assert len(await asyncio.to_thread(operator.messages, address)) == 1  # the retry's, once
    first = done["history"][0]  # cut at the 6.4 s deadline, or by a 4 s socket timeout on a loaded machine
    assert first["outcome"] == "retry" and "operator too slow" in first["text"], first
    assert "the mail was not sent" in first["text"]


async def test_an_answer_to_data_held_past_the_timeout_is_recorded_as_such(dl: DeliveryLab,
                                                                        operator: OperatorProcess) -> None:
    """The operator holds its answer to DATA 10 s (past the 4 s socket timeout and the 8 s delivery timeout):
    the try ends when the socket times out, and its history says it was waiting for the answer to DATA, so the
    operator may hold the mail (a resend carries the same Message-ID). Before: "operator unreachable
    (SMTPServerDisconnected: Connection unexpectedly closed: timed out)"."""
    address = "lent-data@cabinet-s.mssante.fr"
    done = await _slow_first_try(dl, operator, address, 71, "data", "10")
    first = done["history"][0]
    assert first["outcome"] == "retry" and "waiting for the answer to the end of the message (DATA)" in first[
        "text"], first
    assert "the operator may have taken the mail: a resend carries the same Message-ID" in first["text"]
    received = await asyncio.to_thread(operator.messages, address)
    assert len(received) == 1 and received[0]["messageId"] in first["text"]


SUBMISSION_SET_UNIQUE_ID = "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8"


def _identity(raw: bytes, pdf_name: str) -> tuple[str, bytes, bytes]:
    """What a recipient importing the mail identifies it by, besides the Message-ID: the XDM submission set's
    uniqueId, the N3 in it, and the PDF copy."""
    archive = zipfile.ZipFile(io.BytesIO(attachment(raw, "IHE_XDM.ZIP")))
    metadata = etree.fromstring(archive.read("IHE_XDM/SUBSET01/METADATA.XML"))
    [unique_id] = [e.get("value") for e in metadata.iter("{*}ExternalIdentifier")
                   if e.get("identificationScheme") == SUBMISSION_SET_UNIQUE_ID]
    return str(unique_id), archive.read("IHE_XDM/SUBSET01/DOC0001.XML"), attachment(raw, pdf_name)


async def test_a_mail_taken_by_an_operator_that_answered_data_too_late_is_resent_as_the_same_mail(
        dl: DeliveryLab, operator: OperatorProcess) -> None:
    """The operator takes the mail, then holds its answer to DATA 10 s (past the 4 s socket timeout): the try says
    "the operator may have taken the mail: a resend carries the same Message-ID", and the retry's copy is the
    same mail for the recipient: same Message-ID, same XDM submission set uniqueId, same N3 and PDF bytes. Before,
    the submission set's uniqueId was drawn at random at each build: a recipient importing the XDM saw two
    submissions of the document."""
    address = "lent-pris@cabinet-s.mssante.fr"
    done = await _slow_first_try(dl, operator, address, 72, "taken", "10")
    assert "the operator may have taken the mail: a resend carries the same Message-ID" in done["history"][0]["text"]
    first, second = await asyncio.to_thread(operator.messages, address, raw=True)  # the operator kept both
    assert first["messageId"] == second["messageId"] == done["remote_id"]
    assert first["attachments"] == second["attachments"]
    one, two = (_identity(base64.b64decode(m["raw"]), m["attachments"][1]) for m in (first, second))
    assert one == two, (one[0], two[0])


async def test_kill_9_during_a_batch_each_mail_reaches_each_recipient_once(dl: DeliveryLab,
                                                                            operator: OperatorProcess) -> None:
    """SIGKILL while mails are in flight (the operator holds each DATA 1.5 s), restart on the same data: every
    report reaches every recipient under one Message-ID, none lost; a copy comes again only for a mail the
    operator had taken when the sender died, and then with the same Message-ID (what a platform deduplicates)."""
    pros = ["crash-a@cabinet-k.mssante.fr", "crash-b@cabinet-k.mssante.fr"]
    refs = [await doctor(dl.lab, 60 + n, a) for n, a in enumerate(pros)]
    await asyncio.to_thread(operator.admin, "delay", seconds="1.5")
    try:
        reports = [await validated(dl.lab, qualified=False, correspondents=refs, wait=False) for _ in range(3)]
        await wait_for(lambda: sum(len(operator.messages(a)) for a in pros) >= 1, deadline=30)
        os.kill(dl.server.process.pid, signal.SIGKILL)
        dl.server.process.wait(timeout=30)
    finally:
        await asyncio.to_thread(operator.admin, "delay", seconds="0")
    taken_at_kill = await asyncio.to_thread(lambda: sum(len(operator.messages(a)) for a in pros))
    server = dl.server
    dl.server = start_sgl(server.data_dir, env=dl.env, ports=(server.port, server.mllp_port, server.astm_port),
                          partners=None)
    for report_id in reports:
        await wait_until(dl.lab.client, report_id, lambda f: len(mss(f)) == 2 and states(mss(f), "delivered"),
                         deadline=60)
    for address in pros:
        received = await asyncio.to_thread(operator.messages, address)
        by_id = Counter(m["messageId"] for m in received)
        assert len(by_id) == len(reports)  # each report once per recipient, under its one Message-ID
    copies = await asyncio.to_thread(lambda: sum(len(operator.messages(a)) for a in pros))
    assert copies - len(reports) * len(pros) <= 4  # at most what was in flight (SGL_DELIVERY_CONCURRENCY)
    assert taken_at_kill < len(reports) * len(pros)  # the kill did land in the middle of the batch


@pytest.mark.req("SGL.MSS.06")
def test_the_simulator_process_answers_ocsp_from_its_crl_SGL_MSS_06(operator: OperatorProcess) -> None:
    leaf = x509.load_pem_x509_certificate((operator.cert_dir / "server.pem").read_bytes()).public_bytes(Encoding.DER)
    url = f"http://127.0.0.1:{operator.admin_port}/ocsp"
    assert check_ocsp(leaf, operator.cert_dir / "ca.pem", url) == f"OCSP good ({url})"
    operator.admin("ocsp", stale="1")
    try:
        with pytest.raises(MssTlsRefused, match="out of date"):
            check_ocsp(leaf, operator.cert_dir / "ca.pem", url)
    finally:
        operator.admin("ocsp", stale="0")
