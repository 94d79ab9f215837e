"""``sgl serve`` supervises its embedded database: when the process dies, it is started again.

The new process listens on the same port, so the server's MongoDB client (whose address is fixed)
reconnects by itself; between the death and the restart, writes fail fast and are answered 503 /
AE / NAK, never acknowledged. The database may also be another ``sgl``'s (this server attached to
it): when that one goes away, this server starts the database and owns it from then on.
"""

from __future__ import annotations

import asyncio
import logging
import time

from server.embedded import EmbeddedDatabase, data_dir_lock, find_running, spawn, wait_until_ready

log = logging.getLogger(__name__)
CHECK_INTERVAL_S = 0.25
RETRY_PAUSE_S = 2.0


async def _restart(database: EmbeddedDatabase) -> None:
    """Start the database again on its port, unless another process already did; update ``database``."""
    data_dir = database.data_dir
    lock = data_dir_lock(data_dir)
    await asyncio.to_thread(lock.__enter__)
    try:
        found = await asyncio.to_thread(find_running, data_dir)
        if found is not None:
            if found.port != database.port:
                log.error("the embedded SecantusDB of %s now runs on port %s (pid %s, started by another sgl), "
                          "not on %s: restart sgl serve to reach it", data_dir, found.port, found.pid, database.port)
                return
            database.pid, database.owned, database.process = found.pid, False, None
            log.warning("embedded SecantusDB is running again (pid %s, started by another sgl)", found.pid)
            return
        proc = spawn(data_dir, database.port)  # this (the event loop's) thread: see server/embedded.py
        started = await asyncio.to_thread(wait_until_ready, proc, data_dir, database.port)
    finally:
        lock.__exit__(None, None, None)
    database.pid, database.owned, database.process = started.pid, True, started.process


async def supervise(database: EmbeddedDatabase) -> None:
    """Run until cancelled: notice the database's death within ``CHECK_INTERVAL_S`` and restart it."""
    while True:
        await asyncio.sleep(CHECK_INTERVAL_S)
        if database.running():
            continue
        code = database.process.returncode if database.process is not None else None
        log.error("embedded SecantusDB (pid %s, port %s) died%s: restarting it", database.pid, database.port,
                  f" with exit code {code}" if code is not None else "")
        began = time.monotonic()
        while True:
            try:
                await _restart(database)
                break
            except Exception as exc:
                log.error("embedded SecantusDB could not be restarted (%s); trying again in %.0f s",
                          exc, RETRY_PAUSE_S)
                await asyncio.sleep(RETRY_PAUSE_S)
        log.warning("embedded SecantusDB restarted on port %s (pid %s) %.1f s after its death was noticed",
                    database.port, database.pid, time.monotonic() - began)
