"""A stalled embedded database delays the statements in flight; it does not fail them.

PyMongo interrupts every statement in flight when a heartbeat times out. On the embedded database a stall (a
loaded machine, a long fsync) is not a failover: the client waits it out (``EMBEDDED_CONNECT_TIMEOUT_MS``)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest

from server.database import CONNECT_TIMEOUT_MS, EMBEDDED_CONNECT_TIMEOUT_MS, EMBEDDED_MONITORING, make_client
from server.embedded import open_embedded

pytestmark = pytest.mark.db

FROZEN_S = 25.0
"""Longer than the streamed heartbeat's old limit (10 s connect timeout + 10 s period), with some margin."""


def test_only_the_embedded_client_waits_longer_for_a_heartbeat() -> None:
    embedded = make_client("mongodb://127.0.0.1:1/?directConnection=true", embedded=True)
    mongodb = make_client("mongodb://127.0.0.1:1/?directConnection=true")
    assert embedded.options.pool_options.connect_timeout == EMBEDDED_CONNECT_TIMEOUT_MS / 1000
    assert mongodb.options.pool_options.connect_timeout == CONNECT_TIMEOUT_MS / 1000  # failover still seen
    assert embedded.options.server_monitoring_mode == EMBEDDED_MONITORING == "poll"
    assert mongodb.options.server_monitoring_mode == "auto"  # MongoDB streams its heartbeats, as it is made to


async def test_a_statement_in_flight_outlasts_a_database_frozen_for_25_s(tmp_path: Path) -> None:
    database = await asyncio.to_thread(open_embedded, tmp_path / "var")
    client = make_client(database.uri, embedded=True, credentials=database.credentials)
    try:
        await client.stall.probe.insert_one({"n": 1})
        await asyncio.sleep(0.5)  # the monitor's streamed hello is now waiting on the database
        os.kill(database.pid, signal.SIGSTOP)
        thawed = asyncio.get_running_loop().call_later(FROZEN_S, os.kill, database.pid, signal.SIGCONT)
        started = time.monotonic()
        try:
            # the statement is sent while the database is frozen and answered once it runs again
            assert await client.stall.probe.count_documents({}) == 1
        finally:
            thawed.cancel()
            os.kill(database.pid, signal.SIGCONT)
        assert time.monotonic() - started >= FROZEN_S - 1  # it did wait for the database
        await client.stall.probe.insert_one({"n": 2})  # and the pool is still usable
        assert await client.stall.probe.count_documents({}) == 2
    finally:
        await client.close()
        await asyncio.to_thread(database.stop)
