"""HL7 v2 over MLLP/TLS to a hospital EHR whose listener requires a client certificate, end to end: ``sgl serve``
(``SGL_DPI_TLS_CA`` + the lab's certificate ``SGL_MLLP_TLS_CERT``/``_KEY``) delivers to an EHR that trusts
another authority only, under TLS 1.3, as when the hospital renewed its trust store without the lab's CA.

Under TLS 1.3 the EHR checks the client certificate after the lab's handshake ended and just closes the
connection: the lab sees what a dropped ACK looks like. The MLLP client tells the refusal apart with one fresh
connection that sends nothing, so the certificate Task opens at the first try, while the delivery retries."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
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
    env = {"SGL_TEST_MODE": "true", "SGL_DPI_TLS_CA": str(pki.ca.cert), "SGL_MLLP_TLS_CERT": str(pki.client.cert),
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
    receiver = await MllpReceiver(ssl_context=ehr_context(pki, foreign)).start()
    name = "EHR-TLS" + str(abs(hash(request.node.name)) % 10**6)
    await dl.add_dpi(name, receiver.address)
    receiver.name = name  # type: ignore[attr-defined]
    try:
        yield receiver
    finally:
        await dl.remove_dpi(name)
        await receiver.stop()


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

