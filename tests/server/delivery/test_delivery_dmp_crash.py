"""``kill -9`` of ``sgl serve`` after the DMP did what it was asked but before its answer was recorded: the
restarted server finishes the delivery as done, it does not end it as a refusal.

The DMP (``sgl dmp-simulator``, mutual TLS) deletes the withdrawn report (ITI-57) and holds its answer; the
server dies meanwhile. The restarted server takes the delivery again; a second ITI-57 ``Approved -> Deleted`` of
an entry already ``Deleted`` is refused by the registry (XDSMetadataUpdateError), so the resend must first ask
the DMP (ITI-18) whether the interrupted try got through, as a retry after a lost answer does."""

from __future__ import annotations

import os
import signal

import pytest

from tests.support.delivery_lab import DeliveryLab, dmp_delivery_fixtures, to, wait_for, wait_until
from tests.support.dmp import DmpSimulator
from tests.support.dossiers import validated_report
from tests.support.sgl_server import start_sgl
from tests.support.validation_lab import parameters
from tests.support.worklist import worklist

DELETED = "urn:asip:ci-sis:2010:StatusType:Deleted"
DONE = ("delivered", "failed", "cancelled")


dmp, dl = dmp_delivery_fixtures("dmp-crash", SGL_DMP_TIMEOUT="15", SGL_DELIVERY_LEASE="4")


@pytest.mark.req("SGL.DMP.03")
async def test_kill_9_after_the_dmp_deleted_but_before_its_answer_the_restart_ends_delivered_SGL_DMP_03(
        dl: DeliveryLab, dmp: DmpSimulator) -> None:
    _, report, _ = await validated_report(dl.lab, {"K": 4.6})
    await wait_until(dl.lab.client, report["id"], lambda found: any(
        d["state"] == "delivered" for d in to("dmp", found)))
    held = [d for d in dmp.documents() if f"^{report['id']}." in d["uniqueId"]]
    assert len(held) == 2
    dmp.queue_faults("slow", delay=30)  # the next request is processed, its answer held 30 s
    answer = await dl.lab.client.post(f"DiagnosticReport/{report['id']}/$withdraw",
                                      json=parameters(reason="erreur d'identification du tube"))
    assert answer.status_code == 200, answer.text
    await wait_for(lambda: all(d["availabilityStatus"] == DELETED for d in dmp.documents()
                               if f"^{report['id']}." in d["uniqueId"]))
    os.kill(dl.server.process.pid, signal.SIGKILL)  # the DMP deleted; the server never read its answer
    dl.server.process.wait(timeout=30)
    server = dl.server
    dl.server = start_sgl(server.data_dir, env=dl.env, ports=(server.port, server.mllp_port, server.astm_port),
                          partners=None)
    found = to("dmp", await wait_until(dl.lab.client, report["id"], lambda found: len(to("dmp", found)) == 2 and all(
        d["state"] in DONE for d in to("dmp", found)), deadline=120))
    [delete] = [d for d in found if d["action"] == "delete"]
    assert delete["state"] == "delivered", delete["history"]
    assert "ITI-18" in delete["history"][-1]["text"]  # recognised as done, not sent again
    tasks = await worklist(dl.lab.client, "delivery-failed", f"DiagnosticReport/{report['id']}")
    assert tasks == []
    assert {d["availabilityStatus"] for d in dmp.documents() if f"^{report['id']}." in d["uniqueId"]} == {DELETED}
    assert dl.server.process.poll() is None
