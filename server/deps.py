"""Named FastAPI dependencies: the store, the settings, the base URL and the caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from resources.interactions import WriteGuard
from resources.store.mongo import MongoFhirStore
from server.context import AppContext
from server.guards import Caller
from server.settings import Settings


def _store(request: Request) -> MongoFhirStore:
    store: MongoFhirStore = request.app.state.database.store
    return store


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _base(request: Request) -> str:
    configured = request.app.state.settings.public_base_url
    return (configured or str(request.base_url)).rstrip("/") + "/fhir"


def _context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.context
    return ctx


def _caller(request: Request) -> Caller:
    settings: Settings = request.app.state.settings
    return Caller(settings.client_id, settings.client_role, request.client.host if request.client else None)


def _guard(request: Request) -> WriteGuard:
    return _context(request).guards.for_caller(_caller(request))


StoreDep = Annotated[MongoFhirStore, Depends(_store)]
ContextDep = Annotated[AppContext, Depends(_context)]
CallerDep = Annotated[Caller, Depends(_caller)]
GuardDep = Annotated[WriteGuard, Depends(_guard)]
SettingsDep = Annotated[Settings, Depends(_settings)]
BaseUrl = Annotated[str, Depends(_base)]
