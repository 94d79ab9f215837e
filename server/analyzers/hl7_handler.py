"""HL7 v2 analyzer messages: ORU^R01 and OUL^R22 results in (AA once stored), QBP^Q11 host query.

A message that cannot be read as results (an OBX-5 that is not a number although OBX-2 says NM,
no specimen id...) is answered AR with the ERR location, before anything is written. A store
failure raises: the dispatcher answers AE with the reason and the analyzer resends.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from facades.hl7v2 import AckDecision, AckError, Hl7ParseError, InboundMessage
from facades.hl7v2.results import LabResult, ResultMessage, parse_order_query, parse_results
from server.analyzers.incoming import IncomingResult
from server.analyzers.ingest import ResultIngest

Hl7Handler = Callable[[InboundMessage], Awaitable[AckDecision]]
UNSUPPORTED_MESSAGE_TYPE = 200


def incoming_from_hl7(result: LabResult, message: ResultMessage, kind: str) -> IncomingResult:
    return IncomingResult(
        analyzer=result.analyzer, specimen_id=result.specimen_id, test_code=result.test_code,
        value=result.value, run_at=result.analyzed_at or result.observed_at or message.sent_at,
        source=f"{kind} {message.control_id} {result.location.expression()}", test_name=result.test_name,
        comparator=result.comparator, units=result.units, reference_range=result.reference_range,
        flags=result.flags, instrument_status=result.status)


def results_handler(ingest: ResultIngest) -> Hl7Handler:
    async def handle(inbound: InboundMessage) -> AckDecision:
        kind = f"{inbound.message.message_type}^{inbound.message.trigger_event}"
        try:
            parsed = parse_results(inbound.message)
        except Hl7ParseError as exc:
            return AckDecision.reject(exc.diagnostics, exc.code, exc.location)
        report = await ingest.ingest([incoming_from_hl7(r, parsed, kind) for r in parsed.results])
        if report.unmatched:
            return AckDecision.accept(AckError(f"{report.unmatched} result(s) stored on the unmatched-result "
                                               "worklist", severity="W"))
        return AckDecision.accept()
    return handle


async def order_query_handler(inbound: InboundMessage) -> AckDecision:
    """QBP^Q11 is refused with the reason: its answer is an RSP^K11, and the MLLP listener only sends ACKs.

    ``facades.hl7v2.results.build_order_response`` builds the RSP^K11 and ``host_query.pending_order``
    finds the tests; what is missing is a way for a handler to hand the MLLP server a response other
    than an ACK. Until then analyzers use the ASTM host query or receive their orders by download.
    """
    try:
        query = parse_order_query(inbound.message)
    except Hl7ParseError as exc:
        return AckDecision.reject(exc.diagnostics, exc.code, exc.location)
    return AckDecision.reject(f"QBP^Q11 for specimen {query.specimen_id}: the RSP^K11 answer cannot be sent on "
                              "this MLLP listener yet; use the ASTM host query", UNSUPPORTED_MESSAGE_TYPE)
