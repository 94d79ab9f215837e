"""Wire the analyzer handlers into the HL7 and ASTM dispatchers (called from ``server/inbound/routes.py``)."""

from __future__ import annotations

from facades.hl7v2.results import RESULT_MESSAGES
from server.analyzers import astm_handler, hl7_handler
from server.analyzers.ingest import ResultIngest
from server.context import AppContext


def register_analyzers(ctx: AppContext) -> None:
    catalog = ctx.catalogue
    ingest = ResultIngest(ctx.store, ctx.write_rules, catalog)
    handle_results = hl7_handler.results_handler(ingest)
    for message_type, event in RESULT_MESSAGES:  # ORU^R01/R30/R32, OUL^R22/R23/R24
        ctx.hl7.route_settling(message_type, event, handle_results)
    ctx.hl7.route("QBP", "Q11", hl7_handler.order_query_handler(ctx.store, catalog))
    ctx.astm.results = astm_handler.results_handler(ingest)
    ctx.astm.results_journal = True  # the results' transaction writes the journal entry (settlement.py)
    ctx.astm.query = astm_handler.query_handler(ctx.store, catalog)
