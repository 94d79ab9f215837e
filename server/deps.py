"""Named FastAPI dependencies: the store, the settings, the base URL and the caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from resources.store.mongo import MongoFhirStore
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


StoreDep = Annotated[MongoFhirStore, Depends(_store)]
SettingsDep = Annotated[Settings, Depends(_settings)]
BaseUrl = Annotated[str, Depends(_base)]
