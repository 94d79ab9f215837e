"""HL7 v2 analyzer messages: ORU^R01 and OUL^R22 results in (AA once stored), QBP^Q11 host query
answered by RSP^K11.

A message that cannot be read as results (an OBX-5 that is not a number although OBX-2 says NM,
no specimen id...) is answered AR with the ERR location, before anything is written. A store
failure raises: the dispatcher answers AE with the reason and the analyzer resends.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from facades.hl7v2 import AckDecision, AckError, Hl7ParseError, InboundMessage, hl7_datetime_from_fhir
from facades.hl7v2.results import (
    LabResult,
    OrderedTest,
    ResultMessage,
    SpecimenOrder,
    build_order_response,
    parse_order_query,
    parse_results,
)
from resources.store.base import FhirStore
from server.analyzers.catalog_view import CatalogCache
from server.analyzers.host_query import PendingOrder, pending_order
from server.analyzers.incoming import IncomingResult
from server.analyzers.ingest import ResultIngest

Hl7Handler = Callable[[InboundMessage], Awaitable[AckDecision]]
SEX = {"male": "M", "female": "F", "other": "O", "unknown": "U"}
"""FHIR gender -> HL7 table 0001."""


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


def order_query_handler(store: FhirStore, catalog: CatalogCache) -> Hl7Handler:
    """QBP^Q11 (IHE LAW work order step) answered by an RSP^K11 with the tube's pending tests for the
    analyzer that asks (QAK-2 NF when there are none), as the ASTM host query is."""
    async def handle(inbound: InboundMessage) -> AckDecision:
        try:
            query = parse_order_query(inbound.message)
        except Hl7ParseError as exc:
            return AckDecision.reject(exc.diagnostics, exc.code, exc.location)
        pending = await pending_order(store, await catalog.get(), query.specimen_id.strip(), query.analyzer)
        return AckDecision.respond(build_order_response(inbound.message, _specimen_order(query.specimen_id, pending)))
    return handle


def _specimen_order(specimen_id: str, pending: PendingOrder | None) -> SpecimenOrder | None:
    if pending is None:
        return None
    patient = pending.patient or {}
    name = (patient.get("name") or [{}])[0]
    birth = patient.get("birthDate", "")
    collected = pending.specimen.get("collection", {}).get("collectedDateTime", "")
    return SpecimenOrder(
        specimen_id=specimen_id, tests=tuple(OrderedTest(code, label) for code, label in pending.tests),
        order_number=pending.order_number, patient_id=patient.get("id", ""), family=name.get("family", ""),
        given=" ".join(name.get("given", ())), sex=SEX.get(patient.get("gender", ""), "U"),
        birth_date=hl7_datetime_from_fhir(birth, expression="Patient.birthDate") if birth else "",
        collected_at=hl7_datetime_from_fhir(collected, expression="Specimen.collection") if collected else "")
