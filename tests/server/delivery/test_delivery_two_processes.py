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
import json
import time
from collections import Counter
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
from tests.support.sgl_server import SglProcess, start_sgl

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


async def test_two_processes_deliver_200_reports_each_once_and_share_the_work(tmp_path: Path) -> None:
    data = tmp_path / "var"
    servers: list[SglProcess] = []
    dpi = await MllpReceiver().start()
    try:
        # started together: the one that takes the data dir's lock first starts the database, the other connects
        # from_template off: two threads copying the test template into one data dir raced (the second copy
        # landed over the database the first process had started: "authentication failed" at its start-up)
        started = await asyncio.gather(*(asyncio.to_thread(start_sgl, data, env=ENV, partners=None,
                                                           from_template=False) for _ in "ab"),
                                       return_exceptions=True)
        servers += [s for s in started if isinstance(s, SglProcess)]
        assert len(servers) == 2, started
        owner = json.loads((data / "secantus.json").read_text())["owner"]
        servers.sort(key=lambda s: s.process.pid == owner)  # stopped first: the one that does not own the database
        database = await open_database(Settings(data_dir=data))
        try:
            db, store = database.db, database.store
            await PartnerRegistry(db).add(Partner("DPI2P", "dpi", hl7_application="DPI2P", send_to=dpi.address))
            patient = samples.patient(True)
            patient.pop("id")
            patient_id = (await store.create(patient)).id
            n3 = write_n3(samples.crbio_input(samples.biochemistry()))
            outbox = Outbox(db, store, [Hl7v2Channel(PartnerRegistry(db), "opensgl-lab", None, 8.0)])
            for n in range(REPORTS):
                report_id = f"twoproc-{n:03d}"
                async with store.transaction() as session:  # as the document step: version and deliveries together
                    stored = await store.create_many(_version(report_id, patient_id, n3), session=session)
                    assert await outbox.record(session, Action.PUBLISH, stored[0].resource, 1) == [
                        f"hl7v2:DPI2P:{report_id}:v1:publish"]
            deliveries = db[COLLECTION]

            async def all_finished() -> bool:
                return await deliveries.count_documents({"recipient": "DPI2P", "state": "pending"}) == 0

            await _wait(all_finished, DEADLINE_S)
            done = await deliveries.find({"recipient": "DPI2P"}).to_list()
        finally:
            await database.close()
        assert len(done) == REPORTS and {d["state"] for d in done} == {"delivered"}
        assert all(len(d["history"]) == d["attempts"] == 1 for d in done)  # each sent by one attempt
        received = dpi.by_control_id
        assert len(received) == REPORTS and set(received.values()) == {1}  # each MSH-10 once at the EHR
        assert set(received) == {d["remote_id"] for d in done}
        senders = Counter(d["history"][0]["owner"].split(":")[1] for d in done)
        assert set(senders) == {str(s.process.pid) for s in servers}, senders  # both processes sent some
    finally:
        for server in servers:  # the connected one first, the database's owner last
            server.stop()
        await dpi.stop()
