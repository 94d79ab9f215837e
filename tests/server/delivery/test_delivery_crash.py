"""``kill -9`` of ``sgl serve`` while it delivers: the restarted server delivers every pending item, and the DPI
sees each document version once (a message it had received but not yet acknowledged comes again with the
same MSH-10, which is how an HL7 receiver recognises a resend)."""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator

import pytest

from tests.support.delivery_lab import DeliveryLab, delivery_lab, to, wait_for, wait_until
from tests.support.dossiers import patient
from tests.support.mllp_receiver import MllpReceiver
from tests.support.sgl_server import start_sgl
from tests.support.validation_lab import parameters

REPORTS = 4


@pytest.fixture(scope="module")
async def dl(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DeliveryLab]:
    async with delivery_lab(tmp_path_factory.mktemp("crash") / "var", {"SGL_DELIVERY_CONCURRENCY": "2"}) as lab:
        yield lab


async def _validated(dl: DeliveryLab, value: float) -> str:
    """A report biologically validated, without waiting for its documents (they are made in the background)."""
    lab = dl.lab
    pid = await patient(lab)
    (request,) = await lab.order(pid)
    rid = await lab.result(pid, request, "NA", value)
    assert (await lab.validate(rid)).status_code == 200
    report = await lab.report_of(rid)
    answer = await lab.client.post(f"DiagnosticReport/{report['id']}/$validate-biological", json=parameters())
    assert answer.status_code == 200, answer.text
    return str(report["id"])


async def test_kill_9_during_delivery_then_restart_delivers_each_version_once(dl: DeliveryLab) -> None:
    dpi = await MllpReceiver(delay=1.5).start()  # holds each ACK: the kill lands while messages are in flight
    try:
        await dl.add_dpi("DPICRASH", dpi.address)
        reports = [await _validated(dl, 135 + n) for n in range(REPORTS)]
        await wait_for(lambda: dpi.attempts >= 2)
        os.kill(dl.server.process.pid, signal.SIGKILL)
        dl.server.process.wait(timeout=30)
        in_flight_at_kill = dpi.attempts
        dpi.delay = 0.0
        server = dl.server
        dl.server = start_sgl(server.data_dir, env=dl.env, ports=(server.port, server.mllp_port, server.astm_port),
                              partners=None)
        for report_id in reports:
            found = await wait_until(dl.lab.client, report_id, lambda f: bool(to("DPICRASH", f)) and all(
                d["state"] == "delivered" for d in to("DPICRASH", f)), deadline=120)
            [delivery] = to("DPICRASH", found)
            assert delivery["version"] == 1 and delivery["remote_id"] in dpi.by_control_id
        ids = dpi.by_control_id
        assert len(ids) == REPORTS  # each report's version reached the DPI under one control id: none lost
        resent = sum(count - 1 for count in ids.values())
        assert resent <= 2  # only what was in flight at the kill (concurrency 2) came again, with the same MSH-10
        assert in_flight_at_kill >= 2
        assert dl.server.process.poll() is None
    finally:
        await dl.remove_dpi("DPICRASH")
        await dpi.stop()
