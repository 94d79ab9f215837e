"""Two ``sgl serve`` processes on one embedded database share the outbox (issue 13 faults, issue 17 item 6): 200
report deliveries to one hospital EHR (a test MLLP listener) are each sent once (one MSH-10 each, none
twice), and both processes send some.

The 200 deliveries are not made by validating 200 reports (about a minute and a half of document rendering
on this machine): each report's CR-Bio version (the N3 made once by the project's CDA writer) is stored and
its deliveries written by :meth:`Outbox.record` with the production ``hl7v2`` channel, in one transaction per
report, which is what the document step does once it has rendered a report (``server/documents/producer.py``).
Both are started at the same moment on a new data dir, as a deployment starting N workers would: the one that
takes the data dir's lock first starts the embedded database, the other finds it through ``secantus.json``; both
seed the catalogue at once and the loser waits for the winner's (``server/catalog/seed.py``: before, its retries
ran out while the winner's transaction was open and it failed to start)."""

from __future__ import annotations

import asyncio
import base64
import copy
import os
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from facades.cda import write_n3
from server.database import open_database
from server.delivery.channel import Action
from server.delivery.hl7v2_channel import Hl7v2Channel
from server.delivery.outbox import COLLECTION, Outbox
from server.partners.model import Partner
from server.partners.registry import PartnerRegistry
from server.settings import Settings
from tests.support import crbio_samples as samples
from tests.support.delivery_lab import FAST
from tests.support.mllp_receiver import MllpReceiver
from tests.support.sgl_server import SglProcess, start_together

REPORTS = 200
DEADLINE_S = 90.0
ENV = {**FAST, "SGL_DELIVERY_CONCURRENCY": "4"}


def _version(report_id: str, patient_id: str, n3: bytes) -> list[tuple[dict[str, Any], str | None]]:
    """A validated report's stored version 1: the report and its N3 (Binary + DocumentReference, pinned ids)."""
    report = copy.deepcopy(samples.report([], status="final"))
    report.update({"id": report_id, "subject": {"reference": f"Patient/{patient_id}"}, "result": []})
    pinned = f"{report_id}-n3-v1"
    return [(report, report_id),
            ({"resourceType": "Binary", "contentType": "text/xml", "data": base64.b64encode(n3).decode()}, pinned),
            ({"resourceType": "DocumentReference", "status": "current", "subject": report["subject"],
              "content": [{"attachment": {"contentType": "text/xml", "url": f"Binary/{pinned}"}}]}, pinned)]


async def _wait(condition: Any, deadline: float) -> None:
    end = time.monotonic() + deadline
    while not await condition():
        assert time.monotonic() < end, f"not done within {deadline} s"
        await asyncio.sleep(0.2)


@asynccontextmanager
async def _two_servers(data: Path, env: dict[str, str], dpi: MllpReceiver, reports: int
                       ) -> AsyncIterator[tuple[list[SglProcess], Any]]:
    """Both ``sgl serve`` started at once on ``data`` (the one that does not own the database first in the list),
    the EHR partner registered and ``reports`` deliveries to it written; yields (servers, deliveries collection).
    The servers are stopped at the end, the connected one first, the database's owner last."""
    servers: list[SglProcess] = []
    try:
        servers += await start_together(data, env)  # stopped first: the one that does not own the database
        database = await open_database(Settings(data_dir=data))
        try:
            db, store = database.db, database.store
            await PartnerRegistry(db).add(Partner("DPI2P", "dpi", hl7_application="DPI2P", send_to=dpi.address))
            patient = samples.patient(True)
            patient.pop("id")
            patient_id = (await store.create(patient)).id
            n3 = write_n3(samples.crbio_input(samples.biochemistry()))
            outbox = Outbox(db, store, [Hl7v2Channel(PartnerRegistry(db), "opensgl-lab", None, 8.0)])
            for n in range(reports):
                report_id = f"twoproc-{n:03d}"
                async with store.transaction() as session:  # as the document step: version and deliveries together
                    stored = await store.create_many(_version(report_id, patient_id, n3), session=session)
                    assert await outbox.record(session, Action.PUBLISH, stored[0].resource, 1) == [
                        f"hl7v2:DPI2P:{report_id}:v1:publish"]
            yield servers, db[COLLECTION]
        finally:
            await database.close()
    finally:
        for server in servers:
            if server.process.poll() is None:
                server.stop()


async def test_two_processes_deliver_200_reports_each_once_and_share_the_work(tmp_path: Path) -> None:
    dpi = await MllpReceiver().start()
    try:
        async with _two_servers(tmp_path / "var", ENV, dpi, REPORTS) as (servers, deliveries):

            async def all_finished() -> bool:
                return await deliveries.count_documents({"recipient": "DPI2P", "state": "pending"}) == 0

            await _wait(all_finished, DEADLINE_S)
            done = await deliveries.find({"recipient": "DPI2P"}).to_list()
        assert len(done) == REPORTS and {d["state"] for d in done} == {"delivered"}
        assert all(len(d["history"]) == d["attempts"] == 1 for d in done)  # each sent by one attempt
        received = dpi.by_control_id
        assert len(received) == REPORTS and set(received.values()) == {1}  # each MSH-10 once at the EHR
        assert set(received) == {d["remote_id"] for d in done}
        senders = Counter(d["history"][0]["owner"].split(":")[1] for d in done)
        assert set(senders) == {str(s.process.pid) for s in servers}, senders  # both processes sent some
    finally:
        await dpi.stop()


KILLED_REPORTS = 12
KILL_ENV = {**FAST, "SGL_DELIVERY_CONCURRENCY": "2", "SGL_DELIVERY_LEASE": "10", "SGL_DELIVERY_TIMEOUT": "8"}


async def test_kill_9_of_one_process_its_leased_deliveries_are_taken_over_after_the_lease_and_done_once(
        tmp_path: Path) -> None:
    """One of two ``sgl serve`` is killed (-9) while it holds leased deliveries whose ACKs the EHR holds (3 s,
    shorter than SGL_DELIVERY_TIMEOUT 8 s, itself shorter than SGL_DELIVERY_LEASE 10 s: a live holder is never
    overtaken). The survivor takes them only once their lease has run out, resends each with the same MSH-10
    and records one attempt; every report's version ends delivered, under one MSH-10 each."""
    dpi = await MllpReceiver(delay=3.0).start()
    try:
        async with _two_servers(tmp_path / "var", KILL_ENV, dpi, KILLED_REPORTS) as (servers, deliveries):
            victim, survivor = servers  # the victim does not own the embedded database
            mark = f":{victim.process.pid}:"

            async def victim_holds_sent() -> bool:  # it holds deliveries and the EHR has some unanswered
                held = await deliveries.count_documents({"state": "pending", "lease_owner": {"$regex": mark}})
                return held >= 1 and len(dpi.arrived) > len(dpi.answered)

            await _wait(victim_holds_sent, DEADLINE_S)
            os.kill(victim.process.pid, signal.SIGKILL)
            victim.process.wait(timeout=30)
            held = {d["_id"]: d["lease_until"] async for d in deliveries.find(
                {"state": "pending", "lease_owner": {"$regex": mark}})}
            assert held, "the victim held no delivery when it was killed"
            dpi.delay = 0.0

            async def all_finished() -> bool:
                return await deliveries.count_documents({"recipient": "DPI2P", "state": "pending"}) == 0

            await _wait(all_finished, DEADLINE_S)
            done = {d["_id"]: d async for d in deliveries.find({"recipient": "DPI2P"})}
            assert survivor.process.poll() is None
        assert len(done) == KILLED_REPORTS and {d["state"] for d in done.values()} == {"delivered"}
        assert all(len(d["history"]) == d["attempts"] == 1 for d in done.values())  # no try recorded twice
        for item_id, lease_until in held.items():
            taken_over = done[item_id]
            assert taken_over["history"][0]["owner"].split(":")[1] == str(survivor.process.pid)
            assert taken_over["takes"] == 2  # the victim's take and the survivor's, no other
            assert taken_over["history"][0]["started"] >= lease_until  # not before the victim's lease ran out
        assert all(d["takes"] == 1 for i, d in done.items() if i not in held)  # a live holder was never overtaken
        received = dpi.by_control_id
        assert len(received) == KILLED_REPORTS  # one MSH-10 per report's version: none lost, none under a new id
        assert set(received) == {d["remote_id"] for d in done.values()}
        assert sum(count - 1 for count in received.values()) <= len(held)  # only what the victim held came again
    finally:
        await dpi.stop()
