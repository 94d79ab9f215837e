"""Wire the analyzer handlers into the HL7 and ASTM dispatchers (called from ``server/inbound/routes.py``)."""

from __future__ import annotations

from server.analyzers import astm_handler, hl7_handler
from server.analyzers.catalog_view import CatalogCache
from server.analyzers.ingest import ResultIngest
from server.context import AppContext


def register_analyzers(ctx: AppContext) -> None:
    catalog = CatalogCache(ctx.store)
    ingest = ResultIngest(ctx.store, ctx.guards, catalog)
    handle_results = hl7_handler.results_handler(ingest)
    ctx.hl7.route("ORU", "R01", handle_results)
    ctx.hl7.route("OUL", "R22", handle_results)
    ctx.hl7.route("QBP", "Q11", hl7_handler.order_query_handler(ctx.store, catalog))
    ctx.astm.results = astm_handler.results_handler(ingest)
    ctx.astm.query = astm_handler.query_handler(ctx.store, catalog)
