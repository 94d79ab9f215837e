"""Receipts read back over IMAP and linked to what was sent (SGL.MSS.22), and the operator's refusals."""

from __future__ import annotations

import pytest

from facades.mssante import MssRejected, build_message, read_receipt, strongest
from facades.mssante.simulator import OperatorHandle
from tests.support.mssante import BAL, SENDER, OperatorPki, client_for, report_mail

KNOWN = "dr.martin@medecin.mssante.fr"
UNKNOWN = "personne@inconnu.mssante.fr"
KO = "dr.durand@medecin.mssante.fr"


@pytest.mark.req("SGL.MSS.22")
async def test_dsn_and_mdn_are_read_and_linked_per_recipient_SGL_MSS_22(ops: OperatorPki,
                                                                        operator: OperatorHandle) -> None:
    operator.boxes.unknown.add(UNKNOWN)
    operator.boxes.integration_error.add(KO)
    mss = client_for(ops, operator.smtp_port, operator.imap_port)
    sent = await mss.send(build_message(report_mail(KNOWN, UNKNOWN, KO), SENDER))
    fetched = await mss.fetch_receipts()
    receipts = {r.recipient: r for f in fetched for r in f.receipts}
    assert {r.original_message_id for r in receipts.values()} == {sent.message_id}
    assert receipts[KNOWN].status == "processed"
    assert (receipts[UNKNOWN].status, receipts[UNKNOWN].code) == ("failed", "5.1.1")
    assert "unknown BAL" in receipts[UNKNOWN].label
    assert (receipts[KO].status, receipts[KO].code) == ("integration-error", "KO-03")
    assert receipts[KO].label.startswith("Document non intégré")
    assert operator.boxes.messages(to=UNKNOWN) == []  # bounced, not delivered
    # read again until marked: a crash between reading and recording loses nothing
    assert len(await mss.fetch_receipts()) == len(fetched) == 3
    await mss.mark_read([f.uid for f in fetched])
    assert await mss.fetch_receipts() == []
    assert all(s.seen for s in operator.boxes.inbox(BAL))


async def test_operator_refusing_every_recipient_is_a_rejection(ops: OperatorPki, operator: OperatorHandle) -> None:
    operator.boxes.refuse_all = True
    with pytest.raises(MssRejected, match="every recipient refused") as refused:
        await client_for(ops, operator.smtp_port, operator.imap_port).send(build_message(report_mail(KNOWN), SENDER))
    assert KNOWN in refused.value.refused and refused.value.refused[KNOWN].startswith("550")


def test_ordinary_mail_is_not_a_receipt() -> None:
    assert read_receipt(b"From: a@b.fr\r\nSubject: bonjour\r\n\r\ntexte\r\n") == []
    odd = (b"Content-Type: multipart/report; report-type=other; boundary=x\r\n\r\n--x\r\n"
           b"Content-Type: text/plain\r\n\r\nhi\r\n--x--\r\n")
    assert read_receipt(odd) == []


def test_a_failure_is_never_hidden_by_a_later_weaker_status() -> None:
    assert strongest(None, "delivered") == "delivered"
    assert strongest("delivered", "processed") == "processed"
    assert strongest("failed", "delivered") == "failed"
    assert strongest("processed", "delayed") == "processed"


def test_mdn_displayed_is_read() -> None:
    raw = (b"Message-ID: <r1@op.fr>\r\nContent-Type: multipart/report; report-type=disposition-notification;"
           b" boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nlu\r\n--b\r\n"
           b"Content-Type: message/disposition-notification\r\n\r\nFinal-Recipient: rfc822; x@y.mssante.fr\r\n"
           b"Original-Message-ID: <m1@lab.fr>\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n"
           b"\r\n--b--\r\n")
    [receipt] = read_receipt(raw)
    assert (receipt.original_message_id, receipt.recipient, receipt.status) == ("<m1@lab.fr>", "x@y.mssante.fr",
                                                                                "read")
