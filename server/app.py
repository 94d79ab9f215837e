"""The ASGI application: opens the database at start-up, wires the workflows in (``server/wiring.py``),
starts the listeners, and closes it all (and the embedded server) at exit."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

from fastapi import FastAPI

from server.access import passwords
from server.access.outbound import InsMaskingMiddleware
from server.access.throttle import FailureThrottle
from server.context import AppContext
from server.database import open_database
from server.embedded import EmbeddedDatabase
from server.error_handler import install_error_handlers
from server.http_limits import RequestLimits
from server.listeners import start_listeners
from server.openapi import fhir_openapi
from server.settings import Settings
from server.wiring import add_api_routes, prepare_access, register_inbound, run_startup, start_workers, write_rules_for
from server.worklist_events import WorklistEvents

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, embedded: EmbeddedDatabase | None = None) -> FastAPI:
    """The application; ``embedded``: the data dir's database when the caller has already started it (``sgl serve``
    starts it while the server's modules load), closed with the application like one it opens itself."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = await open_database(settings, embedded)
        app.state.database = database
        app.state.signing_key = await prepare_access(settings, database)
        database.supervise()
        try:
            ctx = await AppContext.build(settings, database, write_rules_for(settings, database))
            app.state.context = ctx
            app.state.worklist_events.bind(database.store)
            register_inbound(ctx)
            journal_waiting = await run_startup(ctx)  # ends with the journal replay: before the listeners open
            listeners = await start_listeners(ctx)
            app.state.listeners = listeners
            workers = await start_workers(ctx, journal_waiting)
            log.info("OpenSGL %s ready (HTTP %s:%s%s)", version("opensgl"), settings.host, settings.port,
                     "".join(f", {k.upper()} {v}" for k, v in listeners.ports.items()))
            try:
                yield
            finally:
                await app.state.worklist_events.close()
                await workers.stop()
                await listeners.stop()
        finally:
            await database.close()

    app = FastAPI(title="OpenSGL", version=version("opensgl"), lifespan=lifespan,
                  docs_url="/docs", openapi_url="/openapi.json")
    app.state.settings = settings
    # created here, not in the lifespan: the CLI's signal handler ends its streams before uvicorn waits for them
    app.state.worklist_events = WorklistEvents(heartbeat_s=settings.worklist_heartbeat_s,
                                               per_caller=settings.worklist_streams_per_user)
    app.state.auth_throttle = FailureThrottle(limit=settings.auth_failures_per_address,
                                              window=settings.auth_failure_window)
    passwords.POOL.configure(settings.password_hash_threads, settings.password_hash_queue)
    install_error_handlers(app)
    app.openapi = lambda: fhir_openapi(app)  # type: ignore[method-assign]
    app.add_middleware(RequestLimits, max_body=settings.max_body_bytes,
                       max_document_body=settings.max_document_body_bytes)
    app.add_middleware(InsMaskingMiddleware)
    add_api_routes(app.router)
    return app
