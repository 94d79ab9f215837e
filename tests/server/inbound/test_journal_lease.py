"""Several ``sgl serve`` processes on one database (issue 17 item 6): the start-up replay of the inbound journal
takes only the entries no live process is handling, and two processes replaying at once each take an entry
once (the atomic claim), on the real database."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from resources.search.date import now_utc
from server.database import Database
from server.inbound.journal import InboundJournal

pytestmark = pytest.mark.db
HOST = socket.gethostname()


@pytest.fixture
async def scratch(sgl_db: Database) -> AsyncIterator[Database]:
    """A database of its own on the shared server's client: the live server's journal is not touched."""
    name = f"journal-lease-{uuid.uuid4().hex[:8]}"
    try:
        yield Database(sgl_db.client, sgl_db.client[name], sgl_db.store, None)
    finally:
        await sgl_db.client.drop_database(name)


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    return int(done.stdout)


async def test_only_abandoned_entries_are_replayed_and_each_by_one_process(scratch: Database) -> None:
    first = InboundJournal(scratch.db)
    second = InboundJournal(scratch.db, f"{HOST}:{os.getppid()}:00second")  # as another live process of this host
    old = now_utc() - timedelta(hours=1)
    owners = {
        "legacy": None,  # written before entries named their process
        "dead": f"{HOST}:{_dead_pid()}:0000dead",  # a crashed process of this host
        "earlier-run": f"{HOST}:{os.getpid()}:00000old",  # an earlier run of this very pid
        "live": f"{HOST}:1:0000live",  # pid 1 is alive: a live process is handling it
        "other-host": "another-host:4242:0000away",  # may be alive elsewhere: left to it while recent
    }
    for control, owner in owners.items():
        await scratch.db["inbound_messages"].insert_one({"status": "received", "control_id": control,
                                                         "owner": owner, "received_at": now_utc()})
    await scratch.db["inbound_messages"].insert_one({"status": "received", "control_id": "other-host-stale",
                                                     "owner": "another-host:4242:0000away", "received_at": old})
    own = await first.record(protocol="hl7v2", peer="127.0.0.1:1", raw=b"MSH|", control_id="mine")
    (a, a_live), (b, b_live) = await asyncio.gather(first.claim_left(), second.claim_left())
    taken = sorted(e["control_id"] for e in a + b)
    assert taken == ["dead", "earlier-run", "legacy", "other-host-stale"]  # each once, by one of the two
    assert {e["owner"] for e in a} <= {first.owner} and {e["owner"] for e in b} <= {second.owner}
    assert "mine" not in [e["control_id"] for e in a]  # first's own entry is in flight in first
    assert [e["control_id"] for e in b].count("mine") == 0 and len(a_live) >= 2 and len(b_live) >= 2
    left = await scratch.db["inbound_messages"].find({"control_id": {"$in": ["live", "other-host", "mine"]}}).to_list()
    assert {e["control_id"]: e["owner"] for e in left} == {"live": owners["live"], "other-host": owners["other-host"],
                                                          "mine": first.owner}
    assert (await first.find(own) or {})["status"] == "received"
