"""The wiring of the application, in one place: which workflow serves which door.

Everything else in ``server/`` is either core (``context``, ``write_rules``, ``deps``, the inbound
dispatchers and journal) or one workflow, and no workflow imports another's registration. This
module is the only one that knows them all; ``server/app.py`` calls it to build the application and
the CLI commands call ``write_rules_for`` so they obey the same write rules as the HTTP API.

To add a door: an HTTP router to ``ROUTERS`` (in precedence order), an HL7/ASTM handler to
``register_inbound``, a write rule to ``register_write_rules``, a start-up step to ``run_startup``
(``prepare_access`` for what access control needs before anything else), a background worker to
``start_workers``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from enum import Enum
from typing import Any

from bson import ObjectId
from fastapi import APIRouter, Depends
from fastapi.routing import APIRoute, iter_route_contexts
from joserfc.jwk import ECKey

from server import operation_definitions
from server.access import routes as access_routes
from server.access.collections import ensure_access_indexes
from server.access.enforce import enforce
from server.access.keys import signing_key
from server.admin import lab_profile as lab_profile_routes
from server.admin import routes as admin_routes
from server.analyzers import register_analyzers
from server.annuaire import routes as annuaire_routes
from server.annuaire.schedule import schedule_loop
from server.audit_chain import seal_periodically
from server.catalog import routes as catalog_routes
from server.catalog.seed import run_seed
from server.catalog.write_rules import register_catalogue_rules
from server.context import AppContext
from server.dashboard import routes as dashboard_routes
from server.dashboard.backfill import backfill_at_start
from server.database import Database
from server.delivery import dmp_access
from server.delivery import routes as delivery_routes
from server.delivery.dmp_block_rule import register_dmp_block_rule
from server.delivery.identity_updates import register_identity_updates
from server.delivery.mssante_channel import operator_config
from server.delivery.mssante_receipts import receipt_poller
from server.delivery.notices import NoticeDeliveries
from server.delivery.service import Runners, outbox_for, start_delivery
from server.documents import router as documents_router
from server.documents.kit_check import check_cda_kit
from server.documents.service import install_document_trigger, seal_config, start_document_step
from server.fhir_api import fhir
from server.identity import routes as identity_routes
from server.identity.write_rules import register_identity_rules
from server.identity_feed import register_identity_feed
from server.inbound.replay import replay_later, replay_received
from server.orders import register_orders_inbound
from server.orders import router as orders_router
from server.orders.rejection_notice import register_rejection_notice
from server.portability import routes as portability_routes
from server.portability.runner import resume_exports
from server.psc import routes as psc_routes
from server.retention import identity_documents
from server.retention.schedule import retention_loop
from server.settings import Settings
from server.validation import register_validation_rules
from server.validation import router as validation_router
from server.web import router as web_router
from server.worklist_events import router as worklist_events_router
from server.write_rules import WriteRules

# Every router the application serves, with its prefix and tags, all behind the one access enforcement
# (server/access/enforce.py), IN PRECEDENCE ORDER: for a request that several routes match, the first
# one listed here (and, inside one router, the first declared) answers. The workflow operations
# (``Patient/$duplicates``, ``CodeSystem/$loinc-export``...) are paths the generic interactions would
# also take (``GET /fhir/{rtype}/{rid}`` with rid ``$duplicates``), so they come first and the generic
# FHIR router last. Each such overlap is declared in ``ROUTE_OVERLAPS`` below, and
# tests/server/test_wiring.py fails when the routes make one that is not declared.
ROUTERS: tuple[tuple[APIRouter, str, list[str | Enum]], ...] = (
    (access_routes.router, "", []),
    (psc_routes.router, "", []),
    (catalog_routes.router, "/fhir", ["Catalogue and LOINC"]),
    (validation_router, "/fhir", ["Validation"]),
    (orders_router, "/fhir", ["Orders"]),
    (identity_routes.router, "/fhir", ["Identity (RNIV, INSi)"]),
    (documents_router, "/fhir", ["CR-Bio documents"]),
    (delivery_routes.router, "/fhir", ["Delivery"]),
    (dmp_access.router, "/fhir", ["Delivery"]),
    (dashboard_routes.router, "/fhir", ["Delivery dashboards"]),
    (identity_documents.router, "/fhir", ["Identity (RNIV, INSi)"]),
    (annuaire_routes.router, "/fhir", ["Annuaire Santé"]),
    (portability_routes.router, "/fhir", ["Portability (Bulk Data export)"]),
    (worklist_events_router, "/fhir", ["Worklists"]),
    (admin_routes.router, "/fhir", ["Administration"]),
    (lab_profile_routes.router, "/fhir", ["Administration"]),
    (operation_definitions.router, "/fhir", ["FHIR"]),
    (fhir.router, "/fhir", ["FHIR"]),  # the generic interactions: last, they match any type
    (web_router, "", []),  # the web workbench's files and screens (/, /assets/..., /patients...): no API path
)



def add_api_routes(router: APIRouter) -> None:
    """Add every route of ``ROUTERS`` to ``router`` (the application's), in precedence order, each behind the
    access enforcement, as ``include_router`` would, but as one flat list.

    Why flat: FastAPI (0.16x) keeps an included router as a nested branch and walks it, one nested level at a
    time with its own bookkeeping, for every request; ``GET /fhir/Observation`` (the generic router comes last)
    went through about 120 routes that way, about 0.55 ms of CPU per request on this 2-core machine, a fifth
    of ``sgl``'s CPU per search (issue 17 item 4). A flat list is matched by one plain loop. The routers inside
    a router (``validation``, ``documents``) add no prefix, tag or dependency of their own; their routes come
    in their order (``iter_route_contexts``)."""
    for sub, prefix, tags in ROUTERS:
        for ctx in iter_route_contexts(sub.routes):
            route = ctx.original_route
            if not isinstance(route, APIRoute):
                raise TypeError(f"{prefix}{ctx.path}: only API routes are served behind the access enforcement")
            router.add_api_route(
                prefix + str(ctx.path), route.endpoint, response_model=route.response_model,
                status_code=route.status_code, tags=[*tags, *route.tags],
                dependencies=[Depends(enforce), *route.dependencies], summary=route.summary,
                description=route.description, response_description=route.response_description,
                responses=route.responses, deprecated=route.deprecated, methods=route.methods,
                operation_id=route.operation_id, response_model_include=route.response_model_include,
                response_model_exclude=route.response_model_exclude,
                response_model_by_alias=route.response_model_by_alias,
                response_model_exclude_unset=route.response_model_exclude_unset,
                response_model_exclude_defaults=route.response_model_exclude_defaults,
                response_model_exclude_none=route.response_model_exclude_none,
                include_in_schema=route.include_in_schema, response_class=route.response_class, name=route.name,
                route_class_override=type(route), callbacks=route.callbacks, openapi_extra=route.openapi_extra,
                generate_unique_id_function=route.generate_unique_id_function,
                strict_content_type=route.strict_content_type)


ROUTE_OVERLAPS: dict[tuple[str, str, str], str] = {
    # (method, the route that answers, the route it shadows): why the first one must win.
    ("GET", "/fhir/.well-known/smart-configuration", "/fhir/{rtype}/{rid}"):
        "the public OAuth discovery document (SMART), not a read of a type '.well-known'",
    ("GET", "/fhir/CodeSystem/$loinc-export", "/fhir/{rtype}/{rid}"):
        "an operation on the type, not a read of CodeSystem/$loinc-export",
    ("GET", "/fhir/ConceptMap/$translate", "/fhir/{rtype}/{rid}"):
        "an operation on the type, not a read of ConceptMap/$translate",
    ("GET", "/fhir/Patient/$duplicates", "/fhir/{rtype}/{rid}"):
        "an operation on the type, not a read of Patient/$duplicates",
    ("GET", "/fhir/OperationDefinition", "/fhir/{rtype}"):
        "the server's own OperationDefinitions are served from code, not searched in the database",
    ("GET", "/fhir/OperationDefinition/{rid}", "/fhir/{rtype}/{rid}"):
        "the server's own OperationDefinitions are served from code, not read from the database",
    ("GET", "/fhir/OperationDefinition/{rid}", "/fhir/{rtype}/_history"):
        "the server's own OperationDefinitions have no stored history: _history is read as an id (404)",
    ("GET", "/fhir/metadata", "/fhir/{rtype}"): "the CapabilityStatement, not a search of a type 'metadata'",
    ("GET", "/fhir/{rtype}/_history", "/fhir/{rtype}/{rid}"): "the type's history, not a read of id '_history'",
    ("HEAD", "/fhir/metadata", "/fhir/{rtype}"): "the CapabilityStatement's headers, not a search of a type 'metadata'",
    ("HEAD", "/fhir/{rtype}/_history", "/fhir/{rtype}/{rid}"):
        "the type's history's headers, not a read of id '_history'",
    ("GET", "/fhir/Practitioner/$mssante-lookup", "/fhir/{rtype}/{rid}"):
        "an operation on the type (SGL.ANN.05), not a read of Practitioner/$mssante-lookup",
    ("GET", "/fhir/Practitioner/$annuaire-status", "/fhir/{rtype}/{rid}"):
        "an operation on the type (SGL.ANN.04), not a read of Practitioner/$annuaire-status",
    ("GET", "/fhir/$delivery-dashboard", "/fhir/{rtype}"):
        "the system-level delivery dashboards (SGL.TBB.01-03), not a search of a type '$delivery-dashboard'",
    ("GET", "/fhir/$export", "/fhir/{rtype}"): "the system-level Bulk Data export, not a search of a type '$export'",
    ("POST", "/fhir/$export", "/fhir/{rtype}"): "the system-level Bulk Data export, not a create of a type '$export'",
    ("GET", "/fhir/Patient/$export", "/fhir/{rtype}/{rid}"):
        "the Patient-level Bulk Data export, not a read of Patient/$export",
    ("GET", "/fhir/$export-status/{rid}", "/fhir/{rtype}/{rid}"): "an export's status URL, not a read",
    ("GET", "/fhir/$export-status/{rid}", "/fhir/{rtype}/_history"):
        "an export's status URL, not the history of a type '$export-status'",
    ("DELETE", "/fhir/$export-status/{rid}", "/fhir/{rtype}/{rid}"): "cancelling an export, not a delete",
    ("GET", "/fhir/$worklist-events", "/fhir/{rtype}"):
        "the workbench's live worklist counts (server-sent events), not a search of a type '$worklist-events'",
    ("GET", "/fhir/Person", "/fhir/{rtype}"): "the local accounts (server/admin), not a search of stored Persons",
    ("GET", "/fhir/Endpoint", "/fhir/{rtype}"): "the socket partners (server/admin), not a search of stored Endpoints",
    ("DELETE", "/fhir/Endpoint/{rid}", "/fhir/{rtype}/{rid}"): "unregistering a socket partner (server/admin)",
    ("GET", "/fhir/Organization/$lab-profile", "/fhir/{rtype}/{rid}"):
        "the lab profile's texts (server/admin/lab_profile.py), not a read of Organization/$lab-profile",
    ("GET", "/fhir/$export-file/{rid}/{name}", "/fhir/{rtype}/{rid}/_history"):
        "an export's output file, not the history of a resource",
}
"""Every pair of routes that can match the same request, declared with the reason of the order."""


def register_write_rules(write_rules: WriteRules, settings: Settings, database: Database | None = None) -> None:
    """Every workflow's write rules (see ``server/write_rules.py``); rules of one type run in this order.
    With the ``database``, also those that write beside the resource (the identity messages to the EHRs)."""
    register_identity_rules(write_rules, settings)
    if database is not None:  # SGL.INS.34/36: after the identity rules, it sees the Patient as they decided it
        register_identity_updates(write_rules, database.db)
        # a refused tube is notified to its requester, and mailed over MSSanté when the lab's BAL is configured
        notices = NoticeDeliveries(database.db, database.store) if operator_config(settings) else None
        register_rejection_notice(write_rules, database.store, notices)
    register_validation_rules(write_rules)
    register_catalogue_rules(write_rules)  # SGL.LOI.08/09: LOINC codes only through $set-loinc / $loinc-import
    register_dmp_block_rule(write_rules)  # SGL.DMP.02: only a biologist blocks a prescriber's or analysis' feeding


def write_rules_for(settings: Settings, database: Database | None = None) -> WriteRules:
    """All the write rules, for the app and for a process that is not the HTTP app (CLI commands); a process
    that changes Patients passes its ``database`` so that identity changes reach the partners."""
    write_rules = WriteRules()
    register_write_rules(write_rules, settings, database)
    return write_rules


def register_inbound(ctx: AppContext) -> None:
    """Wire the handlers of each workflow into the HL7 and ASTM dispatchers of ``ctx``."""
    register_analyzers(ctx)  # ORU^R01/R30/R32, OUL^R22/R23/R24, QBP^Q11; ASTM results and host queries
    register_identity_feed(ctx)  # PAM-FR ADT A28/A31/A01/A04/A05/A03/A08/A40/A47 -> Patient
    register_orders_inbound(ctx)  # OML^O21 laboratory orders -> ServiceRequest + Specimen


async def prepare_access(settings: Settings, database: Database) -> ECKey:
    """Access control's start-up, first of all (before any workflow and any request): the unique
    indexes of accounts, clients and sessions, and the key that signs access tokens (made at the
    first start, kept in the data dir). Returns that key."""
    await ensure_access_indexes(database.db)
    return signing_key(settings)


async def run_startup(ctx: AppContext) -> list[ObjectId]:
    """Work done once the database is open and the handlers registered, before requests are served and
    before the listeners open, in order.

    Each step is idempotent: it checks what is already stored, so a restart does nothing new. Returns the inbound
    journal entries another live process was handling (for ``start_workers``: replayed if it leaves them).
    """
    seal_config(ctx.settings)  # the CR-Bio seal certificate, when configured, can seal (SGL.DOC.19), or stop here
    await run_seed(ctx)  # the lab's catalogue and LOINC coding
    check_cda_kit(ctx.settings.data_dir)  # one log line: the ANS CDA kit is complete, or what is missing
    install_document_trigger(ctx, outbox_for(ctx))  # a document job pinned in each validating transaction
    await resume_exports(ctx.database.db)  # Bulk Data exports a previous run left in progress
    # messages journaled but not processed before a crash; before the listeners, so a resend cannot race it
    return await replay_received(ctx.journal, ctx.hl7, ctx.astm)


def _background(runners: Runners, work: Coroutine[Any, Any, None], name: str) -> None:
    """A loop that lives as long as the process, cancelled when the runners stop."""
    task = asyncio.create_task(work, name=name)

    def cancel() -> None:
        task.cancel()

    runners.closers.append(cancel)


async def start_workers(ctx: AppContext, journal_waiting: list[ObjectId] | None = None) -> Runners:
    """The background work of this process, once the listeners are open: the document step (jobs made in a
    process pool), the delivery outbox, the audit chain sealer and the Annuaire Santé reload
    schedule; the replay of the journal entries ``run_startup`` left to another live process, if it leaves them
    (ends when none is left). ``await runners.stop()`` at shutdown."""
    runners = Runners()
    if journal_waiting:
        _background(runners, replay_later(ctx.journal, ctx.hl7, ctx.astm, journal_waiting), "journal-replay-later")
    _background(runners, seal_periodically(ctx.database.db), "audit-sealer")
    _background(runners, schedule_loop(ctx.database.store, ctx.settings), "annuaire-schedule")  # ANN.04 reloads
    _background(runners, retention_loop(ctx.database.store, ctx.settings), "retention")  # DOC.20, INS.57
    outbox = await start_delivery(ctx, runners)
    # once per database: the deliveries stored before the dashboard facts existed get theirs
    _background(runners, backfill_at_start(ctx.database.db, ctx.store, outbox.site), "dashboard-backfill")
    start_document_step(ctx, outbox, runners)
    receipts = receipt_poller(ctx)  # MSSanté DSN/MDN read back from the BAL (SGL.MSS.22), when configured
    if receipts is not None:
        _background(runners, receipts.run(), "mssante-receipts")
    return runners
