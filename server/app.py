"""The ASGI application: opens the database at start-up, closes it (and the embedded server) at exit."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

from fastapi import FastAPI

from server.api import api_router
from server.database import open_database
from server.errors import install_error_handlers
from server.settings import Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.database = await open_database(settings)
        log.info("OpenSGL %s ready", version("opensgl"))
        try:
            yield
        finally:
            await app.state.database.close()

    app = FastAPI(title="OpenSGL", version=version("opensgl"), lifespan=lifespan,
                  docs_url="/docs", openapi_url="/openapi.json")
    app.state.settings = settings
    install_error_handlers(app)
    app.include_router(api_router)
    return app
