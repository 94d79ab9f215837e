"""HL7 v2 analyzer messages: ORU^R01/R30/R32 and OUL^R22/R23/R24 results in (acknowledged once stored),
QBP^Q11 host query answered by RSP^K11.

What is answered is decided by the HL7 facade's outcome table (``facades.hl7v2.outcome``): this
handler returns AA (with one W ERR per result stored on the worklist, one I ERR per result stored without a
value, naming its dataAbsentReason) or raises:

- a message that is not a readable result message at all: ``Hl7ParseError`` -> AR;
- some OBX that cannot be read as sent (OBX-5 not of its OBX-2 type, no test code, no specimen id):
  the others are stored, each refused one goes to the worklist with its reason, and
  ``PartlyProcessed`` -> AE with one ERR per refused OBX (its location and table 0357 code);
- a store failure: the exception -> AE with the reason, nothing written, and the analyzer resends.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

from facades.hl7v2 import AckDecision, AckError, InboundMessage, PartlyProcessed, hl7_datetime_from_fhir
from facades.hl7v2.errors import (
    DATA_TYPE_ERROR,
    DUPLICATE_KEY_IDENTIFIER,
    TABLE_VALUE_NOT_FOUND,
    UNKNOWN_KEY_IDENTIFIER,
)
from facades.hl7v2.results import (
    LabResult,
    OrderedTest,
    PatientIds,
    RefusedResult,
    ResultMessage,
    SpecimenOrder,
    build_order_response,
    parse_order_query,
    parse_results,
)
from resources.store.base import FhirStore, StoreSession
from server.analyzers.catalog_view import current_view
from server.analyzers.host_query import PendingOrder, pending_order
from server.analyzers.incoming import IncomingResult, PatientHint, RefusedIncoming
from server.analyzers.ingest import IngestReport, ResultIngest
from server.analyzers.observation import absent_reason
from server.analyzers.options import PartnerOptions, options_for
from server.inbound.hl7_dispatch import SettlingHl7Handler
from server.inbound.settlement import Settlement
from server.stored_catalog import CatalogRepository

Hl7Handler = Callable[[InboundMessage], Awaitable[AckDecision]]
SEX = {"male": "M", "female": "F", "other": "O", "unknown": "U"}
"""FHIR gender -> HL7 table 0001."""

WORKLIST_CODES = {
    "unknown-analyzer": TABLE_VALUE_NOT_FOUND, "unknown-test-code": TABLE_VALUE_NOT_FOUND,
    "unknown-accession": UNKNOWN_KEY_IDENTIFIER, "ambiguous-accession": DUPLICATE_KEY_IDENTIFIER,
    "not-ordered": UNKNOWN_KEY_IDENTIFIER, "unit-mismatch": TABLE_VALUE_NOT_FOUND, "not-numeric": DATA_TYPE_ERROR,
    "corrected-after-validation": DUPLICATE_KEY_IDENTIFIER,
}
"""Why a stored result went to the worklist -> the HL7 table 0357 code of its W-severity ERR."""


def _hint(patient: PatientIds | None) -> PatientHint | None:
    if patient is None or not (patient.identifiers or patient.family):
        return None
    return PatientHint(tuple(value for value, _, _ in patient.identifiers),
                       " ".join(p for p in (patient.family, patient.given) if p))


def incoming_from_hl7(result: LabResult, message: ResultMessage, kind: str) -> IncomingResult:
    typed = result.typed
    # the analyzer's own test codes stay in its code system whatever local name OBX-3.3 gives (99BIO...)
    test_system = result.test_coding.system if result.test_coding is not None else ""
    timed = result.analyzed_at or result.observed_at
    return IncomingResult(
        analyzer=result.analyzer, specimen_id=result.specimen_id, test_code=result.test_code,
        value=result.value, run_at=timed or message.sent_at, run_id="" if timed else message.control_id,
        source=f"{kind} {message.control_id} {result.location.expression()}", test_name=result.test_name,
        comparator=result.comparator, units=result.units, reference_range=result.reference_range,
        flags=result.flags, instrument_status=result.status, sub_id=result.sub_id, kind=typed.kind,
        high=typed.high, value_type=result.value_type, test_system=test_system,
        codings=tuple((c.system or f"local:{c.local_system}", c.code, c.display) for c in typed.codings),
        patient=_hint(result.patient), comments=result.comments)


def refused_from_hl7(refused: RefusedResult, message: ResultMessage, kind: str) -> RefusedIncoming:
    return RefusedIncoming(analyzer=refused.analyzer, specimen_id=refused.specimen_id, test_code=refused.test_code,
                           sub_id=refused.sub_id, reason=refused.diagnostics, raw=refused.raw,
                           source=f"{kind} {message.control_id} {refused.location.expression()}",
                           patient=_hint(refused.patient))


def _warnings(report: IngestReport, located: dict[str, LabResult]) -> list[AckError]:
    """One W ERR per stored result that went to the worklist, at its OBX, with the reason's code."""
    out = []
    for result, reason, detail in report.worklist:
        where = located.get(result.source)
        out.append(AckError(f"stored on the unmatched-result worklist ({reason}): {detail}",
                            WORKLIST_CODES.get(reason, TABLE_VALUE_NOT_FOUND), "W",
                            where.location if where is not None else None))
    return out


def _absences(incoming: list[IncomingResult], located: dict[str, LabResult]) -> list[AckError]:
    """One I ERR at OBX-5 per result stored without a value, naming the reason stored with it (status X, N, or
    a value still to come): the analyzer's log shows how each valueless result was taken."""
    out = []
    for result in incoming:
        reason = absent_reason(result)
        if reason is not None:
            code = reason["coding"][0]["code"]
            out.append(AckError(f"OBX-5 empty: stored without a value, dataAbsentReason {code} ({reason['text']})",
                                0, "I", replace(located[result.source].location, field=5)))
    return out


def results_handler(ingest: ResultIngest,
                    options: Callable[[InboundMessage], PartnerOptions] = options_for) -> SettlingHl7Handler:
    """Register with ``Hl7Dispatcher.route_settling``: the journal entry is settled with the results."""
    async def handle(inbound: InboundMessage, settlement: Settlement) -> AckDecision:
        message = inbound.message
        kind = f"{message.message_type}^{message.trigger_event}"
        partner = options(inbound)
        parsed = parse_results(message, test_code=partner.test_code)  # Hl7ParseError: AR
        incoming = [incoming_from_hl7(r, parsed, kind) for r in parsed.results]
        located = {i.source: r for i, r in zip(incoming, parsed.results, strict=True)}
        problems = [AckError(f"{r.diagnostics} (kept on the unmatched-result worklist)", r.code, "E", r.location)
                    for r in parsed.refused]

        absences = _absences(incoming, located)

        def answer(report: IngestReport) -> AckDecision | PartlyProcessed:
            warnings = [*_warnings(report, located), *absences]
            if problems:
                return PartlyProcessed(problems, warnings, report.produced)
            return AckDecision.accept(*warnings, produced=report.produced)

        async def settle(report: IngestReport, session: StoreSession) -> None:
            """The journal entry settled in the results' transaction, as the dispatcher would settle it."""
            decided = answer(report)
            if isinstance(decided, PartlyProcessed):
                await settlement.settle("partial", decided.diagnostics, list(decided.produced), session)
            else:
                await settlement.settle("processed" if decided.code == "AA" else "error",
                                        "; ".join(e.message for e in decided.errors) or None,
                                        list(decided.produced), session)

        report = await ingest.ingest(incoming, [refused_from_hl7(r, parsed, kind) for r in parsed.refused],
                                     on_commit=settle)
        decided = answer(report)
        if isinstance(decided, PartlyProcessed):
            raise decided
        return decided
    return handle


def order_query_handler(store: FhirStore, catalog: CatalogRepository) -> Hl7Handler:
    """QBP^Q11 (IHE LAW work order step) answered by an RSP^K11 with the tube's pending tests for the
    analyzer that asks (QAK-2 NF when there are none), as the ASTM host query is."""
    async def handle(inbound: InboundMessage) -> AckDecision:
        query = parse_order_query(inbound.message)  # Hl7ParseError: AR
        pending = await pending_order(store, await current_view(catalog), query.specimen_id.strip(), query.analyzer)
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
