"""Open the database the settings name: production MongoDB, or the embedded default.

Durable before acknowledged: every write waits for the journal (``j: true``) of a majority of the
replica set (``w: "majority"``), so what the server acknowledges survives a crash and a failover;
the embedded database also fsyncs every commit (``--sync-on-commit``, ``server/embedded.py``).
Unavailable fails fast: a request finds out within ``SERVER_SELECTION_TIMEOUT_MS`` that no
database answers and is refused (503 / AE / NAK) instead of hanging.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from pymongo import AsyncMongoClient, WriteConcern
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure

from resources.errors import Unavailable
from resources.store.decimals import DECIMAL_CODECS
from resources.store.mongo import MongoFhirStore
from server.embedded import EmbeddedDatabase, open_embedded
from server.embedded_auth import Credentials
from server.embedded_watch import supervise
from server.settings import Settings
from server.stored_catalog import CATALOG_TYPES

log = logging.getLogger(__name__)
DURABLE_WRITES = WriteConcern(w="majority", j=True)
SERVER_SELECTION_TIMEOUT_MS = 2_000
CONNECT_TIMEOUT_MS = 10_000
"""Also the driver's heartbeat timeout, and a heartbeat that times out interrupts every statement in flight
(PyMongo clears the pool with ``interrupt_connections``). At 2 s a database merely starved of CPU (two cores,
documents rendering) failed in-flight commits with ``_OperationCancelled``. A dead database is still found at
once (the connection is refused or reset), and a request waits at most ``SERVER_SELECTION_TIMEOUT_MS`` for one.
On MongoDB the heartbeat is also how a failover is noticed, hence not longer."""
EMBEDDED_CONNECT_TIMEOUT_MS = 60_000
"""The same for the embedded database, which has no failover to notice: one process on loopback, whose death is
seen at once (connection refused or reset). A streamed heartbeat waits this plus its 10 s period, so at 10 s a
SecantusDB that answers nothing for 20 s (a starved machine, a long fsync) fails every statement in flight with
``_OperationCancelled``, although each would have finished: reproduced by stopping the database process for 25 s
(tests/server/test_database_stall.py).

And the driver polls it (``EMBEDDED_MONITORING``) rather than streaming. Reproduced: a client whose event loop
was blocked for 320 s (a test process running synchronous CLI tests back to back; SecantusDB closes a connection
idle for 300 s) failed its next statement with ``_OperationCancelled`` with streamed heartbeats, whatever the
timeout, and not with polled ones (blocks of up to 130 s passed both ways). A polled ``hello`` is answered at
once, every 10 s, a cost nobody measures on loopback."""
EMBEDDED_MONITORING = "poll"
MAX_IDLE_TIME_MS = 240_000
"""A pooled connection idle longer than this is dropped by the driver before use. SecantusDB closes a client
connection idle for 300 s (``DEFAULT_CLIENT_IDLE_TIMEOUT_S``), and the driver does not see it before writing on
it: the first write after a quiet five minutes (a lab at night) failed with "connection closed" (writes are not
retried on the embedded database). Load balancers in front of MongoDB close idle connections too."""
RETRY_AFTER_S = 5
"""What a refused caller is told to wait (HTTP ``Retry-After``): about the time a dead embedded database takes to
come back."""
DATABASE_DOWN = ConnectionFailure
"""What PyMongo raises when no database answers (server selection timeout, connection reset...)."""


def unavailable(exc: ConnectionFailure) -> Unavailable:
    """The store's ``Unavailable`` for a database that does not answer: 503, AE, NAK; never a success."""
    unavailable = Unavailable(f"the database does not answer ({type(exc).__name__}): not acknowledged, "
                              f"retry in {RETRY_AFTER_S} s")
    unavailable.__cause__ = exc
    return unavailable


@dataclass
class Database:
    client: AsyncMongoClient[Any]
    db: AsyncDatabase[Any]
    store: MongoFhirStore
    embedded: EmbeddedDatabase | None
    _supervisor: asyncio.Task[None] | None = field(default=None, repr=False)

    def supervise(self) -> None:
        """Restart the embedded database whenever it dies, until ``close`` (``sgl serve`` does this)."""
        if self.embedded is not None and self._supervisor is None:
            self._supervisor = asyncio.create_task(supervise(self.embedded), name="embedded-db-supervisor")

    async def close(self) -> None:
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None
        await self.client.close()
        if self.embedded is not None:
            await asyncio.to_thread(self.embedded.stop)


def make_client(uri: str, *, embedded: bool = False, credentials: Credentials | None = None,
                max_idle_ms: int | None = MAX_IDLE_TIME_MS) -> AsyncMongoClient[Any]:
    """The one way the server builds its MongoDB client: journaled majority writes, fast failure.

    No retryable writes on the embedded database: SecantusDB forgets which writes it already applied
    when it restarts, so PyMongo's automatic retry of a write cut by its death hit the write's own
    committed first attempt (E11000 on a fresh ``_id``, seen as 500s in the fault-injection run). There the
    interrupted write fails instead (503 / AE / NAK) and the sender's resend is made safe by the
    handlers' idempotency. MongoDB keeps that record durably and replicated: its retries stay on.

    ``credentials``: the embedded database's user (passed as options, never in the URI, which gets logged)."""
    options: dict[str, Any] = credentials.client_options() if credentials is not None else {}
    if max_idle_ms is not None:  # None: PyMongo's default, keep idle connections for ever
        options["maxIdleTimeMS"] = max_idle_ms
    if embedded:
        options["serverMonitoringMode"] = EMBEDDED_MONITORING
    # DECIMAL_CODECS: the exact decimals the store wrote come back as ExactDecimal, printed back as sent
    return AsyncMongoClient(uri, **options, tz_aware=False, type_registry=DECIMAL_CODECS,
                            w=DURABLE_WRITES.document["w"], journal=True,
                            retryWrites=not embedded, serverSelectionTimeoutMS=SERVER_SELECTION_TIMEOUT_MS,
                            connectTimeoutMS=EMBEDDED_CONNECT_TIMEOUT_MS if embedded else CONNECT_TIMEOUT_MS)


async def open_database(settings: Settings, embedded: EmbeddedDatabase | None = None) -> Database:
    """The database of ``settings``: SGL_MONGODB_URI, or the data dir's embedded one (``embedded`` when the caller
    has opened it already, as ``sgl serve`` does)."""
    uri = settings.mongodb_uri
    if uri:
        embedded = None
    else:
        if embedded is None:  # not in a worker thread: the database must die with this process's long-lived thread
            embedded = open_embedded(settings.data_dir)
        uri = embedded.uri
    client = make_client(uri, embedded=embedded is not None,
                         credentials=embedded.credentials if embedded is not None else None)
    db = client[settings.database]
    # every process that opens the database (server, CLI) counts the catalogue's writes the same way:
    # what lets the application's CatalogRepository check in one read that its copy is current
    store = MongoFhirStore(db, revisioned=CATALOG_TYPES, engine="mongodb" if embedded is None else "embedded")
    await store.ensure_indexes()
    concern = client.write_concern.document
    log.info("FHIR store ready on %s (writes: w=%s, j=%s)", "embedded SecantusDB" if embedded else "MongoDB",
             concern.get("w"), concern.get("j"))
    return Database(client, db, store, embedded)
