"""A quiet spell does not fail the next write: the database client drops pooled connections before the
embedded database closes them as idle (SecantusDB closes a connection idle for 300 s; writes are not retried
on the embedded database, so a write on such a connection failed with "connection closed")."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pymongo.errors import AutoReconnect
from secantus.server import DEFAULT_CLIENT_IDLE_TIMEOUT_S, SecantusDBServer

from server.database import make_client

pytestmark = pytest.mark.db

IDLE_S = 1.0
"""The test database's idle timeout: the 300 s of the real one, scaled down."""


def test_the_client_drops_idle_connections_before_the_embedded_database_does() -> None:
    client = make_client("mongodb://127.0.0.1:1/?directConnection=true", embedded=True)
    assert client.options.pool_options.max_idle_time_seconds is not None
    assert client.options.pool_options.max_idle_time_seconds < DEFAULT_CLIENT_IDLE_TIMEOUT_S


async def _write_after_a_quiet_spell(port: int, max_idle_ms: int | None) -> None:
    client = make_client(f"mongodb://127.0.0.1:{port}/?directConnection=true", embedded=True,
                         max_idle_ms=max_idle_ms)
    try:
        await client.idle.probe.insert_one({"n": 1})
        await asyncio.sleep(IDLE_S * 2.5)  # the database closes the pooled connection meanwhile
        await client.idle.probe.insert_one({"n": 2})
        assert await client.idle.probe.count_documents({}) == 2
    finally:
        await client.close()


async def test_a_write_after_the_database_closed_an_idle_connection_succeeds(tmp_path: Path) -> None:
    database = SecantusDBServer(port=0, storage_path=str(tmp_path / "db"), client_idle_timeout_s=IDLE_S)
    database.start()
    try:
        # the same ratio as in production: the client gives a connection up before the database would
        await _write_after_a_quiet_spell(database.port, int(IDLE_S * 1000 * 240 / DEFAULT_CLIENT_IDLE_TIMEOUT_S))
        # and without it the write fails: what the setting is for
        with pytest.raises(AutoReconnect):
            await _write_after_a_quiet_spell(database.port, None)
    finally:
        database.stop()
