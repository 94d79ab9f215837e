"""HL7 v2 over MLLP/TLS to a hospital EHR whose listener requires a client certificate, end to end: ``sgl serve``
(``SGL_DPI_TLS_CA`` + the lab's certificate ``SGL_MLLP_TLS_CERT``/``_KEY``) delivers to an EHR that trusts
another authority only, under TLS 1.3, as when the hospital renewed its trust store without the lab's CA.

Under TLS 1.3 the EHR checks the client certificate after the lab's handshake ended and just closes the
connection: the lab sees what a dropped ACK looks like. The MLLP client tells the refusal apart with one fresh
connection that sends nothing, so the certificate Task opens at the first try, while the delivery retries."""

from __future__ import annotations

import shutil
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.delivery_lab import (
    DeliveryLab,
    counted,
    dashboard_counts,
    delivery_lab,
    shown,
    to,
    wait_until,
)
from tests.support.dossiers import validated_report
from tests.support.mllp_receiver import MllpReceiver
from tests.support.pki import TestPki, create_test_pki
from tests.support.worklist import worklist

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    """The lab's authority: the EHR's server certificate and the lab's client certificate."""
    return create_test_pki(tmp_path_factory.mktemp("dpi-tls-pki"))


@pytest.fixture(scope="module")
def foreign(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    """The only authority the EHR trusts at first (not the lab's)."""
    return create_test_pki(tmp_path_factory.mktemp("dpi-tls-foreign"))


@pytest.fixture(scope="module")
async def dl(tmp_path_factory: pytest.TempPathFactory, pki: TestPki) -> AsyncIterator[DeliveryLab]:
    """The lab's server; its ``SGL_DPI_TLS_CA`` is the administrator's own copy of the CA file (a test may spoil
    it and put it right)."""
    files = tmp_path_factory.mktemp("dpi-tls-files")
    env = {"SGL_TEST_MODE": "true", "SGL_DPI_TLS_CA": str(shutil.copy(pki.ca.cert, files / "dpi-ca.pem")),
           "SGL_MLLP_TLS_CERT": str(pki.client.cert),
           "SGL_MLLP_TLS_KEY": str(pki.client.key),
           "SGL_DELIVERY_ATTEMPTS": "6", "SGL_DELIVERY_BACKOFF": "2", "SGL_DELIVERY_BACKOFF_MAX": "3"}
    async with delivery_lab(tmp_path_factory.mktemp("dpi-tls") / "var", env) as lab:
        yield lab


def ehr_context(pki: TestPki, trusted: TestPki) -> ssl.SSLContext:
    """The EHR's listener: its server certificate from the lab's authority, TLS 1.3 only, a client certificate
    required from ``trusted``'s authority."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(trusted.ca.cert))
    context.load_cert_chain(str(pki.server.cert), str(pki.server.key))
    context.verify_mode = ssl.CERT_REQUIRED
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    return context


@pytest.fixture
async def ehr(dl: DeliveryLab, pki: TestPki, foreign: TestPki, request: pytest.FixtureRequest
              ) -> AsyncIterator[MllpReceiver]:
    """An EHR named after the test that refuses the lab's client certificate (it trusts ``foreign`` only)."""
    async with dl.dpi("EHR-TLS" + str(abs(hash(request.node.name)) % 10**6),
                      await MllpReceiver(ssl_context=ehr_context(pki, foreign)).start()) as receiver:
        yield receiver


async def delivery_tasks(client: Any, report_id: str, delivery_id: str) -> list[dict[str, Any]]:
    return [t for t in await worklist(client, "delivery-failed", f"DiagnosticReport/{report_id}")
            if any(i["valueString"] == delivery_id for i in t["input"])]


REFUSED = "refuses the TLS client certificate"


async def test_a_client_certificate_refused_under_tls_1_3_opens_the_certificate_task_at_the_first_try(
        dl: DeliveryLab, ehr: MllpReceiver, pki: TestPki) -> None:
    """Before: each try read 'peer closed the connection before acknowledging', retried like a dropped ACK, and
    no one was told until the retries ran out. Now the first try's history names the refused certificate and
    the Task is open while the delivery is still pending; once the EHR trusts the lab's authority the next try
    delivers and the Task closes. The dashboard (TBB.03) counts the delivery pending, then delivered."""
    counts = await dashboard_counts(dl, "dpi")
    _, report, _ = await validated_report(dl.lab, {"GLU": 1.12})
    name = ehr.name  # type: ignore[attr-defined]
    [delivery] = to(name, await wait_until(dl.lab.client, report["id"], lambda found: any(
        d["attempts"] >= 1 for d in to(name, found))))
    assert delivery["state"] == "pending" and REFUSED in delivery["history"][0]["text"], delivery["history"]
    [task] = await delivery_tasks(dl.lab.client, report["id"], delivery["id"])
    assert task["status"] == "requested" and task["code"]["text"].startswith("Connexion refusée (certificat)")
    assert "certificat refusé à l'essai 1" in task["description"] and REFUSED in task["description"]
    assert ehr.received == []  # nothing reached the EHR's application
    found = await wait_until(dl.lab.client, report["id"], lambda found: True)
    assert counted(counts, await dashboard_counts(dl, "dpi")) == shown(found, "dpi") == {
        "sent": 1, "delivered": 0, "failed": 0, "pending": 1, "stopped": 0}

    assert ehr.ssl_context is not None
    ehr.ssl_context.load_verify_locations(str(pki.ca.cert))  # the hospital adds the lab's authority
    [done] = to(name, await wait_until(dl.lab.client, report["id"], lambda found: all(
        d["state"] != "pending" for d in to(name, found))))
    assert done["state"] == "delivered" and len(ehr.by_control_id) == 1 and set(ehr.by_control_id.values()) == {1}
    [closed] = await delivery_tasks(dl.lab.client, report["id"], delivery["id"])
    assert closed["id"] == task["id"] and closed["status"] == "completed"
    found = await wait_until(dl.lab.client, report["id"], lambda found: True)
    assert counted(counts, await dashboard_counts(dl, "dpi")) == shown(found, "dpi") == {
        "sent": 1, "delivered": 1, "failed": 0, "pending": 0, "stopped": 0}


async def delete_task(dl: DeliveryLab, task_id: str) -> None:
    """A person removes the Task from the worklist (``DELETE /fhir/Task`` is the responsible biologist's)."""
    manager = await dl.act_as("biologiste-responsable")
    answer = await manager.delete(f"Task/{task_id}")
    assert answer.status_code in (200, 204), answer.text
    assert (await dl.lab.client.get(f"Task/{task_id}")).status_code == 410


async def refused_then_task_deleted(dl: DeliveryLab, ehr: MllpReceiver) -> tuple[str, dict[str, Any]]:
    """A report whose delivery to ``ehr`` was refused (certificate Task open), the Task deleted by a person, and
    one more refused try after that: no Task is reopened while the retries go on. Returns the report id and the
    delivery as it was then (still pending)."""
    _, report, _ = await validated_report(dl.lab, {"GLU": 1.12})
    name = ehr.name  # type: ignore[attr-defined]
    [delivery] = to(name, await wait_until(dl.lab.client, report["id"], lambda found: any(
        d["attempts"] >= 1 for d in to(name, found))))
    [task] = await delivery_tasks(dl.lab.client, report["id"], delivery["id"])
    await delete_task(dl, task["id"])
    [after] = to(name, await wait_until(dl.lab.client, report["id"], lambda found: True))
    [later] = to(name, await wait_until(dl.lab.client, report["id"], lambda found: all(
        d["attempts"] > after["attempts"] for d in to(name, found))))
    assert after["state"] == later["state"] == "pending" and REFUSED in later["history"][-1]["text"]
    assert await delivery_tasks(dl.lab.client, report["id"], delivery["id"]) == []
    return str(report["id"]), later


async def test_a_deleted_certificate_task_leaves_nothing_to_close_when_the_delivery_later_succeeds(
        dl: DeliveryLab, ehr: MllpReceiver, pki: TestPki) -> None:
    """Before: the success's transaction read the deleted Task (an assertion) and rolled back; the delivery stayed
    leased, was taken again when its lease ran out, sent again (the same MSH-10 acknowledged again) and never
    recorded delivered. Now it is recorded delivered at once, the EHR got the message once, no Task reopens."""
    counts = await dashboard_counts(dl, "dpi")
    report_id, delivery = await refused_then_task_deleted(dl, ehr)
    name = ehr.name  # type: ignore[attr-defined]
    assert ehr.ssl_context is not None
    ehr.ssl_context.load_verify_locations(str(pki.ca.cert))  # the hospital adds the lab's authority
    [done] = to(name, await wait_until(dl.lab.client, report_id, lambda found: all(
        d["state"] != "pending" for d in to(name, found)), deadline=120))
    assert done["state"] == "delivered" and done["history"][-1]["outcome"] == "delivered", done["history"]
    assert len(ehr.by_control_id) == 1 and set(ehr.by_control_id.values()) == {1}
    assert await delivery_tasks(dl.lab.client, report_id, delivery["id"]) == []
    found = await wait_until(dl.lab.client, report_id, lambda found: True)
    assert counted(counts, await dashboard_counts(dl, "dpi")) == shown(found, "dpi") == {
        "sent": 1, "delivered": 1, "failed": 0, "pending": 0, "stopped": 0}


async def test_a_deleted_certificate_task_is_replaced_by_a_failure_task_when_the_retries_run_out(
        dl: DeliveryLab, ehr: MllpReceiver) -> None:
    """Before: the failure's transaction read the deleted Task and rolled back: the delivery stayed leased, was
    taken again at each lease expiry and tried again, never failed, and no one was told. Now it fails after its
    attempts (SGL_DELIVERY_ATTEMPTS = 6) with a new failure Task, recorded in the same transaction."""
    counts = await dashboard_counts(dl, "dpi")
    report_id, delivery = await refused_then_task_deleted(dl, ehr)
    name = ehr.name  # type: ignore[attr-defined]
    [failed] = to(name, await wait_until(dl.lab.client, report_id, lambda found: all(
        d["state"] != "pending" for d in to(name, found)), deadline=120))
    assert failed["state"] == "failed" and failed["attempts"] == 6, failed
    [task] = await delivery_tasks(dl.lab.client, report_id, delivery["id"])
    assert task["id"] == failed["task"] and task["status"] == "requested"
    assert task["code"]["text"].startswith("Envoi du CR-Bio en échec") and REFUSED in task["description"]
    assert ehr.received == []
    found = await wait_until(dl.lab.client, report_id, lambda found: True)
    assert counted(counts, await dashboard_counts(dl, "dpi")) == shown(found, "dpi") == {
        "sent": 1, "delivered": 0, "failed": 1, "pending": 0, "stopped": 0}


async def test_a_trust_file_the_administrator_fixes_is_read_at_the_next_try_without_a_restart(
        dl: DeliveryLab, pki: TestPki, foreign: TestPki) -> None:
    """The lab's SGL_DPI_TLS_CA holds another authority's CA (the EHR's certificate not trusted): the certificate
    Task opens at the first try. The administrator puts the right CA back in that file. Before, the channel's TLS
    context was made once at start: the file was not read again until sgl serve restarted (a file spoiled after
    the start went unnoticed, a file fixed after it kept failing). Now each exchange reads it: the next try
    delivers and the Task closes."""
    ca_file = Path(dl.env["SGL_DPI_TLS_CA"])
    good = ca_file.read_bytes()
    name = "EHR-TRUST-FILE"
    trusting = await MllpReceiver(ssl_context=ehr_context(pki, pki)).start()  # an EHR that trusts the lab
    async with dl.dpi(name, trusting) as receiver:
        ca_file.write_bytes(foreign.ca.cert.read_bytes())
        try:
            _, report, _ = await validated_report(dl.lab, {"GLU": 1.12})
            [delivery] = to(name, await wait_until(dl.lab.client, report["id"], lambda found: any(
                d["attempts"] >= 1 for d in to(name, found))))
            assert delivery["state"] == "pending" and "CERTIFICATE_VERIFY_FAILED" in delivery["history"][0]["text"]
            [task] = await delivery_tasks(dl.lab.client, report["id"], delivery["id"])
            assert task["code"]["text"].startswith("Connexion refusée (certificat)")
        finally:
            ca_file.write_bytes(good)
        [done] = to(name, await wait_until(dl.lab.client, report["id"], lambda found: all(
            d["state"] != "pending" for d in to(name, found)), deadline=120))
        assert done["state"] == "delivered" and set(receiver.by_control_id.values()) == {1}
        [closed] = await delivery_tasks(dl.lab.client, report["id"], delivery["id"])
        assert (closed["id"], closed["status"]) == (task["id"], "completed")
