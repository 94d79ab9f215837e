"""Two ``sgl serve`` processes on one database replay the inbound journal without doing anything twice (issue 17
item 6), seen from the outside: the journal entries a crash left ``received`` are written into a data dir as a
crash leaves them (the durability tests' way), then both processes start at the same moment on it (as
``tests/server/delivery/test_delivery_two_processes.py`` starts them).

- an entry of a dead process of this host is replayed at start-up, once (one claim, one Observation);
- an entry just received by a process that may be alive (on another host, or a live pid of this host) is not
  replayed by either process starting at that moment; when that process never settles it, it is replayed once it
  is older than ``SGL_JOURNAL_REPLAY_GRACE`` by one of the two, still once, without a restart (before: left
  ``received`` until the next start)."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from resources.search.date import now_utc
from server.database import open_database
from server.settings import Settings
from tests.support.access import auth_for
from tests.support.sgl_server import SglProcess, start_sgl, start_together

pytestmark = pytest.mark.db
GRACE_S = 60
"""``SGL_JOURNAL_REPLAY_GRACE`` of both servers: longer than two servers take to start on an existing data dir (the
live entries must still be young when they replay), short enough for the test to wait for the later pass."""
ORU = ("MSH|^~\\&|HEM1|XN-1000^SYSMEX|SGL|LABO|20261205073000||ORU^R01^ORU_R01|{control}|P|2.5.1|||NE|AL\r"
       "OBR|1||{tube}^HEM1|NFS^NFS^L\r"
       "OBX|1|NM|WBC^Leucocytes^L|1|6.4|10*9/L|4-10|N|||F|||20261205073000||||HEM1|20261205073000\r")


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    return int(done.stdout)


def _left(control: str, owner: str) -> dict[str, Any]:
    """A journal entry as ``sgl serve`` writes it before processing, left ``received`` by its process."""
    raw = ORU.format(control=control, tube=f"T{control}").encode()
    return {"protocol": "hl7v2", "peer": "127.0.0.1:5001", "raw": raw,
            "received_at": now_utc(), "status": "received", "message_type": "ORU^R01", "control_id": control,
            "owner": owner}


def _replayed(logs: list[str]) -> int:
    """Replays the servers' logs count (start-up and later passes)."""
    return sum(int(n) for log in logs for n in re.findall(r"inbound journal: (\d+) message\(s\) [^\n]*replayed", log))


async def test_two_processes_replay_each_left_entry_once_and_not_a_live_one(tmp_path: Path) -> None:
    data = tmp_path / "var"
    start_sgl(data).stop()  # a data dir with the test partners (HEM1)
    host = socket.gethostname()
    left = {"CRASHED": _left("CRASHED", f"{host}:{_dead_pid()}:0dead000"),  # its process was killed
            "ELSEWHERE": _left("ELSEWHERE", "lis-node-2:4242:0a11ve00"),  # another host's process, maybe alive
            "LIVEHERE": _left("LIVEHERE", f"{host}:{os.getpid()}:0a11ve01")}  # a live process of this host
    database = await open_database(Settings(data_dir=data))
    try:
        await database.db["inbound_messages"].insert_many(list(left.values()))
    finally:
        await database.close()
    written = time.monotonic()
    servers: list[SglProcess] = await start_together(data, {"SGL_JOURNAL_REPLAY_GRACE": str(GRACE_S)})
    database = await open_database(Settings(data_dir=data))
    try:
        journal = database.db["inbound_messages"]
        assert time.monotonic() - written < GRACE_S, "the servers started too late for this test to mean much"
        entries = {e["control_id"]: e for e in await journal.find({"control_id": {"$in": list(left)}}).to_list()}
        assert entries["CRASHED"]["status"] == "processed"  # replayed at start-up (by one: the claims counted below)
        for live in ("ELSEWHERE", "LIVEHERE"):  # taken by neither process starting while it may be handled
            assert entries[live]["status"] == "received" and "replays" not in entries[live], entries[live]

        async def settled() -> bool:
            return await journal.count_documents({"control_id": {"$in": list(left)}, "status": "received"}) == 0

        end = time.monotonic() + GRACE_S + 60
        while not await settled():  # the later pass, once the live entries are older than the grace
            assert time.monotonic() < end, "the entries left by a live process were never replayed"
            await asyncio.sleep(0.5)
        entries = {e["control_id"]: e for e in await journal.find({"control_id": {"$in": list(left)}}).to_list()}
        assert {c: (e["status"], e["replays"]) for c, e in entries.items()} == {c: ("processed", 1) for c in left}
        produced = [p for e in entries.values() for p in e["produced"] if p.startswith("Observation/")]
        assert len(produced) == len(set(produced)) == 3
        base = servers[0].base
        found = httpx.get(f"{base}/Observation", auth=auth_for(base, data, "secretaire"),
                          params={"_summary": "count"}).json()
        assert found["total"] == 3  # one Observation a message: nothing replayed twice
        while _replayed(logs := [s.log.read_text() for s in servers]) < 3:  # logged once the journal is settled
            assert time.monotonic() < end, logs
            await asyncio.sleep(0.2)
        assert _replayed(logs) == 3
    finally:
        await database.close()
        for server in servers:
            server.stop()
