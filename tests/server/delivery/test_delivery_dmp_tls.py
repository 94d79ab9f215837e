"""The DMP over a TLS failure, end to end: ``sgl serve`` delivers to a running ``sgl dmp-simulator`` (mutual TLS)
with a configuration the DMP's TLS refuses, as happens when a certificate is renewed or installed wrong:

- the server's certificate is not trusted (``SGL_DMP_CA`` names another authority);
- the structure's client certificate is refused (``SGL_DMP_CERT``/``SGL_DMP_KEY`` issued by another authority).

Each time the delivery is retried a bounded number of times (``SGL_DELIVERY_ATTEMPTS``), then fails with the TLS
reason in its history and a delivery-failed Task a person reads; nothing reaches the DMP, nothing is retried
after that without a person (a ``$delivery-retry`` once the configuration is right)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.delivery_lab import delivery_lab, to, wait_until
from tests.support.dmp import DmpSimulator, running_dmp_simulator
from tests.support.dossiers import validated_report
from tests.support.pki import TestPki, create_test_pki
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
        assert len(tasks) == 1 and REASONS[wrong][0] in tasks[0]["description"]
    assert len(dmp.documents()) == before
