"""A dedicated ``sgl serve`` for the delivery tests: fast retries, short leases, one document process, role
clients (``ActAs``), DPI partners registered with ``sgl partners add --send-to``, and helpers that read the
deliveries of a report through ``$deliveries`` as a client would (polling with a deadline)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.dedicated_lab import Dedicated, dedicated_server
from tests.support.dmp import DmpSimulator, running_dmp_simulator
from tests.support.documents_wait import wait_for_documents
from tests.support.dossiers import validated_report
from tests.support.mllp_receiver import MllpReceiver
from tests.support.validation_lab import UCUM, parameters

FAST = {"SGL_DELIVERY_BACKOFF": "0.2", "SGL_DELIVERY_BACKOFF_MAX": "0.5", "SGL_DELIVERY_ATTEMPTS": "3",
        "SGL_DELIVERY_POLL": "0.1", "SGL_DELIVERY_LEASE": "20", "SGL_DELIVERY_TIMEOUT": "16",
        "SGL_DOCUMENT_WORKERS": "1"}
DEADLINE_S = 240.0
"""Bound of the waits for deliveries, which come after the documents (see ``documents_wait.DEADLINE_S``)."""


class DeliveryLab(Dedicated):
    """A dedicated server with the ``sgl`` command on its data dir."""

    async def sgl(self, *args: str) -> tuple[int, str]:
        """Run an ``sgl`` command on the server's data dir without blocking the loop (the test's own database
        client must keep answering its heartbeats)."""
        sgl = Path(sys.executable).parent / "sgl"
        proc = await asyncio.create_subprocess_exec(str(sgl), *args, "--data-dir", str(self.server.data_dir),
                                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                                    env={**os.environ, **self.env})
        out, _ = await asyncio.wait_for(proc.communicate(), 120)
        return proc.returncode or 0, out.decode()

    async def add_dpi(self, name: str, address: str, *options: str) -> None:
        """``sgl partners add NAME --role dpi --send-to ADDRESS`` with more ``options`` (``--identity-updates``)."""
        code, out = await self.sgl("partners", "add", name, "--role", "dpi", "--hl7-application", name,
                                   "--send-to", address, *options)
        assert code == 0, out
        # no wait: the outbox reads the DPI recipients from the partners collection at each document (only the
        # listeners' sender check goes through the one-second cache), and the command returns once committed

    async def remove_dpi(self, name: str) -> None:
        code, out = await self.sgl("partners", "remove", name)
        assert code == 0, out

    @asynccontextmanager
    async def dpi(self, name: str, receiver: MllpReceiver) -> AsyncIterator[MllpReceiver]:
        """The started ``receiver`` as the DPI partner ``name`` (also set as its ``name``) for the block; then
        removed and stopped."""
        await self.add_dpi(name, receiver.address)
        receiver.name = name  # type: ignore[attr-defined]
        try:
            yield receiver
        finally:
            await self.remove_dpi(name)
            await receiver.stop()


@asynccontextmanager
async def delivery_lab(data_dir: Path, env: dict[str, str] | None = None) -> AsyncIterator[DeliveryLab]:
    async with dedicated_server(data_dir, {**FAST, **(env or {})}, DeliveryLab) as holder:
        yield holder


async def deliveries(client: httpx.AsyncClient, report_id: str, kind: str = "DiagnosticReport"
                     ) -> list[dict[str, Any]]:
    """``$deliveries`` of a report (or of a patient with ``kind="Patient"``), each as its JSON."""
    answer = await client.get(f"{kind}/{report_id}/$deliveries")
    assert answer.status_code == 200, answer.text
    return [json.loads(p["valueString"]) for p in answer.json().get("parameter", ())]


async def wait_until(client: httpx.AsyncClient, report_id: str,
                     done: Callable[[list[dict[str, Any]]], bool], deadline: float = DEADLINE_S,
                     kind: str = "DiagnosticReport") -> list[dict[str, Any]]:
    """The report's (or patient's) deliveries once ``done(deliveries)`` holds; fails the test after the deadline."""
    end = time.monotonic() + deadline
    while True:
        found = await deliveries(client, report_id, kind)
        if done(found):
            return found
        assert time.monotonic() < end, f"deliveries of {kind}/{report_id} after {deadline} s: {found}"
        await asyncio.sleep(0.2)


def to(recipient: str, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in found if d["recipient"] == recipient]


async def wait_for(condition: Callable[[], bool], deadline: float = DEADLINE_S) -> None:
    end = time.monotonic() + deadline
    while not condition():
        assert time.monotonic() < end, "condition not met before the deadline"
        await asyncio.sleep(0.1)


async def three_versions(lab: Any) -> str:
    """A report validated with its potassium still pending (partial), then completely, then the potassium
    corrected: three versions of its documents, each to be delivered after the one it replaces. Returns
    the report id."""
    _, report, [potassium] = await validated_report(lab, {"NA": 141}, pending={"K": 4.1})
    answer = await lab.client.post(f"DiagnosticReport/{report['id']}/$validate-biological", json=parameters())
    assert answer.status_code == 200, answer.text
    await wait_for_documents(lab.client, report["id"])
    value = {"valueQuantity": {"value": 4.6, "unit": "mmol/L", "system": UCUM, "code": "mmol/L"}}
    correction = parameters(observation={"valueReference": {"reference": f"Observation/{potassium}"}},
                            reason="erreur de saisie", value=value)
    corrected = await lab.client.post(f"DiagnosticReport/{report['id']}/$correct", json=correction)
    assert corrected.status_code == 200, corrected.text
    return str(report["id"])


def dmp_delivery_fixtures(name: str, **settings: str) -> tuple[Any, Any]:
    """The module fixtures ``dmp`` (a running ``sgl dmp-simulator``) and ``dl`` (a ``DeliveryLab`` delivering to
    it, with ``settings``). Assign both at module level: ``dmp, dl = dmp_delivery_fixtures("dmp-crash")``."""
    @pytest.fixture(scope="module", name="dmp")
    def dmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DmpSimulator]:
        with running_dmp_simulator(tmp_path_factory.mktemp(f"{name}-dmp") / "pki") as sim:
            yield sim

    @pytest.fixture(scope="module", name="dl")
    async def lab(tmp_path_factory: pytest.TempPathFactory, dmp: DmpSimulator) -> AsyncIterator[DeliveryLab]:
        async with delivery_lab(tmp_path_factory.mktemp(name) / "var", dmp.server_env(**settings)) as site:
            yield site

    return dmp, lab


async def dashboard_counts(dl: Dedicated, route: str) -> dict[str, Any]:
    """This month's ``$delivery-dashboard`` counts of one channel (``dmp``, ``mss-pro``, ``mss-patient``,
    ``dpi``) on the site's total row, as a manager downloads them: sent, delivered, failed, pending, stopped
    and the failure rate (%)."""
    manager = await dl.act_as("biologiste-responsable")
    answer = await manager.get("$delivery-dashboard", params={"period": "mois"})
    assert answer.status_code == 200, answer.text
    rows = [{p["name"]: next(v for k, v in p.items() if k.startswith("value")) for p in row["part"]}
            for row in answer.json()["parameter"]]
    [total] = [r for r in rows if "rpps" not in r]
    prefix = route.replace("-", "_")
    return {name: total.get(f"{prefix}_{name}") for name in (
        "sent", "delivered", "failed", "pending", "stopped", "failed_pct")}


def counted(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    """What the dashboard added between two ``dashboard_counts`` (the rate left out)."""
    return {name: after[name] - before[name] for name in ("sent", "delivered", "failed", "pending", "stopped")}


def shown(found: list[dict[str, Any]], route: str) -> dict[str, int]:
    """The same counts as ``counted``, worked out from deliveries as ``$deliveries`` lists them (CR-Bio sent:
    first versions and replacements, on ``route``)."""
    def route_of(d: dict[str, Any]) -> str:
        if d["channel"] == "mssante":
            return "mss-patient" if d["recipient"].startswith("patient:") else "mss-pro"
        return {"hl7v2": "dpi"}.get(d["channel"], d["channel"])

    mine = [d for d in found if route_of(d) == route and d["action"] in ("publish", "replace")]
    return {"sent": len(mine), **{name: sum(d["state"] == name for d in mine) for name in (
        "delivered", "failed", "pending")}, "stopped": sum(d["state"] in ("blocked", "cancelled") for d in mine)}
