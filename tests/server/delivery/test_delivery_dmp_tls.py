"""The DMP over a TLS failure, end to end: ``sgl serve`` delivers to a running ``sgl dmp-simulator`` (mutual TLS)
with a configuration the DMP's TLS refuses, as happens when a certificate is renewed or installed wrong:

- the server's certificate is not trusted (``SGL_DMP_CA`` names another authority);
- the structure's client certificate is refused (``SGL_DMP_CERT``/``SGL_DMP_KEY`` issued by another authority).

A certificate refusal does not heal by retrying: a Task tells a person at the first refusal, with the reason,
while the delivery keeps retrying (the administrator may fix the files meanwhile); one Task, not one per attempt.
If the retries run out, that Task becomes the failure Task; if the fix comes first, the delivery ends delivered
and the Task closes itself. Nothing reaches the DMP while the TLS is refused."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.delivery_lab import counted, dashboard_counts, delivery_lab, shown, to, wait_until
from tests.support.dmp import DmpSimulator, running_dmp_simulator
from tests.support.dossiers import validated_report
from tests.support.pki import TestPki, create_test_pki
from tests.support.sgl_server import start_sgl
from tests.support.worklist import worklist

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def dmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DmpSimulator]:
    with running_dmp_simulator(tmp_path_factory.mktemp("dmp-tls-sim") / "pki") as sim:
        yield sim


@pytest.fixture(scope="module")
def foreign(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    """Another authority's CA and client certificate (what a wrong file in the configuration holds)."""
    return create_test_pki(tmp_path_factory.mktemp("foreign-pki"))


def _finished(found: list[dict[str, Any]]) -> bool:
    return len(to("dmp", found)) == 1 and to("dmp", found)[0]["state"] in ("delivered", "failed", "cancelled")


REASONS = {  # what the history and the Task say: the likely cause, then the lowest-level error
    "server-not-trusted": ("TLS handshake failed", "CERTIFICATE_VERIFY_FAILED"),
    "client-refused": ("the TLS client certificate was probably refused", "("),
}


@pytest.mark.parametrize("wrong", sorted(REASONS))
async def test_a_tls_refusal_fails_with_the_reason_and_a_task_after_bounded_tries(
        tmp_path: Path, dmp: DmpSimulator, foreign: TestPki, wrong: str) -> None:
    env = dmp.server_env(SGL_DMP_TIMEOUT="4")
    if wrong == "server-not-trusted":
        env["SGL_DMP_CA"] = str(foreign.ca.cert)
    else:
        env |= {"SGL_DMP_CERT": str(foreign.client.cert), "SGL_DMP_KEY": str(foreign.client.key)}
    before = len(dmp.documents())
    async with delivery_lab(tmp_path / "var", env) as dl:
        _, report, _ = await validated_report(dl.lab, {"GLU": 1.12})
        [delivery] = to("dmp", await wait_until(dl.lab.client, report["id"], _finished))
        assert delivery["state"] == "failed" and delivery["attempts"] == 3  # SGL_DELIVERY_ATTEMPTS (FAST) = 3
        assert all(h["outcome"] == "retry" and all(r in h["text"] for r in REASONS[wrong])
                   for h in delivery["history"]), delivery["history"]
        tasks = [t for t in await worklist(dl.lab.client, "delivery-failed", f"DiagnosticReport/{report['id']}")
                 if any(i["valueString"] == delivery["id"] for i in t["input"])]
        assert len(tasks) == 1 and REASONS[wrong][0] in tasks[0]["description"]  # the first refusal's Task, now
        assert tasks[0]["code"]["text"].startswith("Envoi du CR-Bio en échec")  # the failure Task (one Task)
    assert len(dmp.documents()) == before


async def _delivery_tasks(client: Any, report_id: str, delivery_id: str) -> list[dict[str, Any]]:
    return [t for t in await worklist(client, "delivery-failed", f"DiagnosticReport/{report_id}")
            if any(i["valueString"] == delivery_id for i in t["input"])]


@pytest.mark.parametrize("wrong", sorted(REASONS))
async def test_a_certificate_refusal_tells_a_person_at_once_and_the_task_closes_once_fixed(
        tmp_path: Path, dmp: DmpSimulator, foreign: TestPki, wrong: str) -> None:
    """Before: 8 attempts over about an hour (SGL_DELIVERY_ATTEMPTS, backoff from 30 s) before anyone was told.
    Now the Task is there after the first refusal while the delivery is still pending and retrying; the files
    are fixed (the right CA, or the structure's certificate) and the server restarted: delivered, Task completed.
    The dashboard (TBB.03) counts the delivery as pending, then delivered, never failed."""
    files = {"SGL_DMP_CA": (foreign.ca.cert, dmp.ca)} if wrong == "server-not-trusted" else {
        "SGL_DMP_CERT": (foreign.client.cert, dmp.client_cert), "SGL_DMP_KEY": (foreign.client.key, dmp.client_key)}
    env = dmp.server_env(SGL_DMP_TIMEOUT="4", SGL_DELIVERY_ATTEMPTS="8", SGL_DELIVERY_BACKOFF="1",
                         SGL_DELIVERY_BACKOFF_MAX="2")
    for name, (bad, _) in files.items():  # the administrator's configured file, wrong for now
        env[name] = str(shutil.copy(bad, tmp_path / f"{name}.pem"))
    async with delivery_lab(tmp_path / "var", env) as dl:
        counts = await dashboard_counts(dl, "dmp")
        _, report, _ = await validated_report(dl.lab, {"GLU": 1.12})
        [delivery] = to("dmp", await wait_until(dl.lab.client, report["id"], lambda found: any(
            d["attempts"] >= 2 for d in to("dmp", found))))
        assert delivery["state"] == "pending" and all(REASONS[wrong][0] in h["text"] for h in delivery["history"])
        [task] = await _delivery_tasks(dl.lab.client, report["id"], delivery["id"])  # one, not one per attempt
        assert task["status"] == "requested" and task["code"]["text"].startswith("Connexion refusée (certificat)")
        assert REASONS[wrong][0] in task["description"] and "certificat refusé à l'essai 1" in task["description"]
        assert "redémarrer sgl serve" in task["description"]  # the DMP client reads its files at start
        found = await wait_until(dl.lab.client, report["id"], lambda found: True)
        assert counted(counts, await dashboard_counts(dl, "dmp")) == shown(found, "dmp") == {
            "sent": 1, "delivered": 0, "failed": 0, "pending": 1, "stopped": 0}

        server = dl.server  # the administrator puts the right file in place and restarts the server
        server.stop()
        for name, (_, good) in files.items():
            shutil.copy(good, env[name])
        dl.server = start_sgl(server.data_dir, env=dl.env, ports=(server.port, server.mllp_port, server.astm_port),
                              partners=None)
        [done] = to("dmp", await wait_until(dl.lab.client, report["id"], _finished))
        assert done["state"] == "delivered" and done["history"][-1]["outcome"] == "delivered"
        [closed] = await _delivery_tasks(dl.lab.client, report["id"], delivery["id"])
        assert closed["id"] == task["id"] and closed["status"] == "completed"
        assert "résolu : envoi réussi" in closed["statusReason"]["text"]
        found = await wait_until(dl.lab.client, report["id"], lambda found: True)
        assert counted(counts, await dashboard_counts(dl, "dmp")) == shown(found, "dmp") == {
            "sent": 1, "delivered": 1, "failed": 0, "pending": 0, "stopped": 0}
    assert len([d for d in dmp.documents() if f"^{report['id']}." in d["uniqueId"]]) == 2  # the N3 and N1, once
