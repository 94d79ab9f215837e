"""Every router the application serves, with its prefix and tags, in one place."""

from __future__ import annotations

from fastapi import APIRouter

from server.routes import fhir

api_router = APIRouter()
api_router.include_router(fhir.router, prefix="/fhir", tags=["FHIR"])
