"""The BAL's receipts read over IMAP from a real ``sgl mssante-simulator`` by a dedicated ``sgl serve``
(``SGL_MSS_*``, a poll every 0.5 s, ``SGL_DELIVERY_TIMEOUT`` 8 s: IMAP socket operations 4 s, the session's
deadline 6.4 s as for a send): an operator that answers every IMAP command just in time cannot hold the poll past
the deadline, and a certificate refusal on IMAP tells a person with one worklist Task, closed once a poll reads
the BAL again (SGL.MSS.06, SGL.MSS.22)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from facades.mssante.dev_crl import write_crl
from tests.support.delivery_lab import DeliveryLab, wait_for
from tests.support.mssante_operator import OperatorProcess
from tests.support.mssante_site import mssante_fixtures
from tests.support.waits import log_with

BAL = "labo-accuses@labo-opensgl.mssante.fr"
KEY = "https://opensgl.org/fhir/worklist-key|mssante-imap-certificate"

operator, dl = mssante_fixtures("mss-imap", BAL, SGL_MSS_RECEIPTS_POLL="0.5", SGL_DELIVERY_TIMEOUT="8")


async def imap_tasks(dl: DeliveryLab) -> list[dict[str, Any]]:
    """The IMAP certificate Tasks, as the worklist reads them."""
    answer = await dl.lab.client.get("Task", params={"identifier": KEY})
    assert answer.status_code == 200, answer.text
    return [e["resource"] for e in answer.json().get("entry", ()) if e["search"]["mode"] == "match"]


@pytest.mark.req("SGL.MSS.22")
async def test_an_operator_answering_each_imap_command_just_in_time_is_cut_at_the_deadline_SGL_MSS_22(
        dl: DeliveryLab, operator: OperatorProcess) -> None:
    """Each answer held 2.5 s (under the 4 s socket timeout): before, a poll took as long as the operator liked
    (about 15 s here) and ended well; now the session is cut at 6.4 s and the log names the command awaited."""
    await asyncio.to_thread(operator.admin, "delay", seconds="2.5", steps="imap")
    try:
        text = await log_with(dl.server.log, "the IMAP exchange was cut at its 6.4 s deadline")
    finally:
        await asyncio.to_thread(operator.admin, "delay", seconds="0")
    line = next(t for t in text.splitlines() if "the IMAP exchange was cut" in t)
    assert "MSSanté receipts not read: operator too slow" in line and "while waiting for the answer to" in line
    assert await imap_tasks(dl) == []  # slowness is not a certificate for a person to fix


@pytest.mark.req("SGL.MSS.06")
async def test_a_certificate_refused_on_imap_opens_one_task_closed_when_a_poll_reads_the_bal_SGL_MSS_06(
        dl: DeliveryLab, operator: OperatorProcess) -> None:
    """The operator's certificate revoked (its CRL): before, each poll only logged the refusal and no one was
    told that receipts were not read any more. Now one Task (not one per poll) says so; once the CRL is right
    again the next poll reads the BAL and closes it."""
    crl = operator.cert_dir / "crl.pem"
    good = crl.read_bytes()
    write_crl(operator.cert_dir / "ca.pem", operator.cert_dir / "ca-key.pem", crl,
              revoked=[operator.cert_dir / "server.pem"])
    try:
        await log_with(dl.server.log, "MSSanté receipts: IMAP certificate refused")
        await log_with(dl.server.log, "MSSanté receipts not read: TLS refused")
        polls = dl.server.log.read_text(encoding="utf-8").count("MSSanté receipts not read: TLS refused")
        await wait_for(lambda: dl.server.log.read_text(encoding="utf-8").count(
            "MSSanté receipts not read: TLS refused") >= polls + 2)  # two more refused polls
        [task] = await imap_tasks(dl)
        assert task["status"] == "requested" and task["code"]["text"].startswith("Accusés MSSanté non lus")
        assert BAL in task["description"] and "revoked" in task["description"]
        assert task["code"]["coding"][0]["code"] == "delivery-failed"  # on the workbench's delivery worklist
    finally:
        crl.write_bytes(good)
    await log_with(dl.server.log, "MSSanté receipts: the BAL is read again")
    [closed] = await imap_tasks(dl)
    assert (closed["id"], closed["status"]) == (task["id"], "completed")
    assert "résolu : accusés lus" in closed["statusReason"]["text"]
