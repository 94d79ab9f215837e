"""Named FastAPI dependencies: the store, the settings, the base URL, the caller and its permission check,
the catalogue.

Each is an ``async def`` although none awaits anything: FastAPI runs a plain ``def`` dependency in its thread
pool, one thread hand-off per dependency per request (four on a FHIR search, about a fifth of ``sgl``'s time
per ``Observation?subject&code`` search before; issue 17 item 4). ``tests/server/test_deps.py`` keeps every
dependency of every route a coroutine."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from resources.interactions import AccessCheck, WriteRule
from resources.store.mongo import MongoFhirStore
from server.access.caller import Caller
from server.access.enforce import access_check, request_caller
from server.context import AppContext
from server.settings import Settings
from server.stored_catalog import CatalogRepository


async def _store(request: Request) -> MongoFhirStore:
    store: MongoFhirStore = request.app.state.database.store
    return store


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _base(request: Request) -> str:
    configured = request.app.state.settings.public_base_url
    return (configured or str(request.base_url)).rstrip("/") + "/fhir"


def _app_context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.context
    return ctx


async def _context(request: Request) -> AppContext:
    return _app_context(request)


async def _catalogue(request: Request) -> CatalogRepository:
    return _app_context(request).catalogue


async def _caller(request: Request) -> Caller:
    """The authenticated caller (set by the access enforcement that runs before every handler)."""
    return request_caller(request)


async def _access(request: Request) -> AccessCheck:
    return access_check(request_caller(request))


async def _write_rule(request: Request) -> WriteRule:
    return _app_context(request).write_rules.for_caller(request_caller(request))


StoreDep = Annotated[MongoFhirStore, Depends(_store)]
ContextDep = Annotated[AppContext, Depends(_context)]
CallerDep = Annotated[Caller, Depends(_caller)]
AccessDep = Annotated[AccessCheck, Depends(_access)]
WriteRuleDep = Annotated[WriteRule, Depends(_write_rule)]
SettingsDep = Annotated[Settings, Depends(_settings)]
CatalogueDep = Annotated[CatalogRepository, Depends(_catalogue)]
BaseUrl = Annotated[str, Depends(_base)]
