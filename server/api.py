"""Every router the application serves, with its prefix and tags, in one place, all behind the one
access enforcement."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from server.access import routes as access_routes
from server.access.enforce import enforce
from server.catalog import routes as catalog_routes
from server.documents import router as documents_router
from server.identity import routes as identity_routes
from server.orders import router as orders_router
from server.routes import fhir
from server.validation import router as validation_router

api_router = APIRouter(dependencies=[Depends(enforce)])
"""Every route below runs the access enforcement first (``server/access/enforce.py``)."""
api_router.include_router(access_routes.router)  # before the generic /fhir/{rtype}/{rid}
api_router.include_router(catalog_routes.router, prefix="/fhir", tags=["Catalogue and LOINC"])
api_router.include_router(validation_router, prefix="/fhir", tags=["Validation"])
api_router.include_router(orders_router, prefix="/fhir", tags=["Orders"])
api_router.include_router(identity_routes.router, prefix="/fhir", tags=["Identity (RNIV, INSi)"])
api_router.include_router(documents_router, prefix="/fhir", tags=["CR-Bio documents"])
api_router.include_router(fhir.router, prefix="/fhir", tags=["FHIR"])
