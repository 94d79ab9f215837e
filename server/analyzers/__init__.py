"""Analyzer results in: HL7 v2 (ORU^R01, OUL^R22) and ASTM results -> preliminary Observations.

Matched to the tube by accession number, to the catalogue by instrument test code and to the
order by exam; unmatched results are stored too and listed on the ``unmatched-result`` Task
worklist. Each message is stored in one transaction, acknowledged after commit, idempotent on
resend. Host queries (ASTM Q records) are answered with the tube's pending tests.
"""

from server.analyzers.catalog_view import CatalogView, catalog_view, current_view
from server.analyzers.incoming import RESULT_ID_SYSTEM, IncomingResult
from server.analyzers.ingest import IngestReport, ResultIngest
from server.analyzers.observation import EXT_INSTRUMENT_RESULT, UNMATCHED_TASK
from server.analyzers.register import register_analyzers

__all__ = [
    "EXT_INSTRUMENT_RESULT",
    "RESULT_ID_SYSTEM",
    "UNMATCHED_TASK",
    "CatalogView",
    "IncomingResult",
    "IngestReport",
    "ResultIngest",
    "catalog_view",
    "current_view",
    "register_analyzers",
]
