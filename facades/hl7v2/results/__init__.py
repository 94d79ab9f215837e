"""Analyzer results and host queries over HL7 v2: ORU^R01/R30/R32 and OUL^R22/R23/R24 in, QBP^Q11 in and RSP^K11 out.

Pure translation between HL7 messages and typed values; matching results to specimens, orders and
the catalogue is the server's job (``server/analyzers``).
"""

from facades.hl7v2.results.dtm import fhir_datetime
from facades.hl7v2.results.model import (
    LabResult,
    OrderedTest,
    OrderQuery,
    PatientIds,
    RefusedResult,
    ResultMessage,
    SpecimenOrder,
)
from facades.hl7v2.results.parse import RESULT_MESSAGES, TestCodeComponent, parse_results
from facades.hl7v2.results.query import build_order_response, parse_order_query
from facades.hl7v2.results.values import CODE_SYSTEMS, Coding, TypedValue

__all__ = [
    "CODE_SYSTEMS",
    "RESULT_MESSAGES",
    "Coding",
    "PatientIds",
    "RefusedResult",
    "TestCodeComponent",
    "TypedValue",
    "LabResult",
    "OrderQuery",
    "OrderedTest",
    "ResultMessage",
    "SpecimenOrder",
    "build_order_response",
    "fhir_datetime",
    "parse_order_query",
    "parse_results",
]
