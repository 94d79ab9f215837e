"""The wiring of the application, in one place: which workflow serves which door.

Everything else in ``server/`` is either core (``context``, ``guards``, ``deps``, the inbound
dispatchers and journal) or one workflow, and no workflow imports another's registration. This
module is the only one that knows them all; ``server/app.py`` calls it to build the application and
the CLI commands call ``guards_for`` so they obey the same write rules as the HTTP API.

To add a door: an HTTP router to ``api_router``, an HL7/ASTM handler to ``register_inbound``, a
write rule to ``register_guards``, a start-up step to ``run_startup``.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from server import operation_definitions
from server.access import routes as access_routes
from server.access.enforce import enforce
from server.analyzers import register_analyzers
from server.annuaire import routes as annuaire_routes
from server.catalog import routes as catalog_routes
from server.catalog.seed import run_seed
from server.context import AppContext
from server.documents import router as documents_router
from server.documents.kit_check import check_cda_kit
from server.documents.trigger import install_document_trigger
from server.guards import Guards
from server.identity import routes as identity_routes
from server.identity.guard import register_identity_guard
from server.identity_feed import register_identity_feed
from server.inbound.replay import replay_received
from server.orders import register_orders_inbound
from server.orders import router as orders_router
from server.portability import routes as portability_routes
from server.portability.runner import resume_exports
from server.psc import routes as psc_routes
from server.routes import fhir
from server.settings import Settings
from server.validation import register_validation_guards
from server.validation import router as validation_router

# Every router the application serves, with its prefix and tags, all behind the one access enforcement
# (server/access/enforce.py). Order matters: the first route that matches a path wins, so the access and
# workflow routers come before the generic FHIR interactions.
api_router = APIRouter(dependencies=[Depends(enforce)])
api_router.include_router(access_routes.router)
api_router.include_router(psc_routes.router)
api_router.include_router(catalog_routes.router, prefix="/fhir", tags=["Catalogue and LOINC"])
api_router.include_router(validation_router, prefix="/fhir", tags=["Validation"])
api_router.include_router(orders_router, prefix="/fhir", tags=["Orders"])
api_router.include_router(identity_routes.router, prefix="/fhir", tags=["Identity (RNIV, INSi)"])
api_router.include_router(documents_router, prefix="/fhir", tags=["CR-Bio documents"])
api_router.include_router(annuaire_routes.router, prefix="/fhir", tags=["Annuaire Santé"])
api_router.include_router(portability_routes.router, prefix="/fhir", tags=["Portability (Bulk Data export)"])
api_router.include_router(operation_definitions.router, prefix="/fhir", tags=["FHIR"])
api_router.include_router(fhir.router, prefix="/fhir", tags=["FHIR"])


def register_guards(guards: Guards, settings: Settings) -> None:
    """Every workflow's write rules (see ``server/guards.py``); rules of one type run in this order."""
    register_identity_guard(guards, settings)
    register_validation_guards(guards)


def guards_for(settings: Settings) -> Guards:
    """All the write rules, for the app and for a process that is not the HTTP app (CLI commands)."""
    guards = Guards()
    register_guards(guards, settings)
    return guards


def register_inbound(ctx: AppContext) -> None:
    """Wire the handlers of each workflow into the HL7 and ASTM dispatchers of ``ctx``."""
    register_analyzers(ctx)  # ORU^R01/R30/R32, OUL^R22/R23/R24, QBP^Q11; ASTM results and host queries
    register_identity_feed(ctx)  # PAM-FR ADT A28/A31/A01/A04/A05/A03/A08/A40/A47 -> Patient
    register_orders_inbound(ctx)  # OML^O21 laboratory orders -> ServiceRequest + Specimen


async def run_startup(ctx: AppContext) -> None:
    """Work done once the database is open and the handlers registered, before requests are served and
    before the listeners open, in order.

    Each step is idempotent: it checks what is already stored, so a restart does nothing new.
    """
    await run_seed(ctx)  # the lab's catalogue and LOINC coding
    check_cda_kit(ctx.settings.data_dir)  # one log line: the ANS CDA kit is complete, or what is missing
    install_document_trigger(ctx)  # CR-Bio production when a DiagnosticReport becomes final
    await resume_exports(ctx.database.db)  # Bulk Data exports a previous run left in progress
    # messages journaled but not processed before a crash; before the listeners, so a resend cannot race it
    await replay_received(ctx.journal, ctx.hl7, ctx.astm)
