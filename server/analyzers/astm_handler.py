"""ASTM analyzer messages: R records in (final frame ACKed once stored), Q records answered with orders.

The analyzer is named by the R record's instrument field (R.14), else by the sender of the H
record (H.5). Instrument times carry no zone: they are read in the lab's zone (``LAB_ZONE``).
A failure raises: the ASTM server NAKs the final frame and the analyzer sends it again.

The test code is R.3 component 4, else component 5 (``^^^^HBA1C``); the components after the code
(dilution, replicate... ``^^^WBC^2``) tell apart results of one test in one run, as OBX-4 does in
HL7; when there are none, the n-th R record of a test code on one tube (n >= 2) is ``#n``. An R
record the facade could not read goes to the worklist with its reason (ASTM has no AE: the message
is ACKed once the valid records and that worklist entry are stored).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from facades.astm import Header, Message, Order, Patient, PersonName, Result, TestId
from resources.store.base import FhirStore, StoreSession
from server.analyzers.catalog_view import current_view
from server.analyzers.host_query import PendingOrder, pending_order
from server.analyzers.incoming import IncomingResult, PatientHint, RefusedIncoming, split_comparator
from server.analyzers.ingest import IngestReport, ResultIngest
from server.analyzers.options import DEFAULTS, PartnerOptions, options_for
from server.inbound.astm_dispatch import astm_outcome
from server.inbound.settlement import Settlement
from server.stored_catalog import CatalogRepository

LAB_ZONE = ZoneInfo("Europe/Paris")
HOST_NAME = "OpenSGL"
SEX = {"male": "M", "female": "F", "other": "U", "unknown": "U"}


def _fhir_time(moment: datetime | None) -> str:
    if moment is None:
        return ""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=LAB_ZONE)
    return aware.isoformat(timespec="seconds")


def analyzer_of(message: Message) -> str:
    return message.header.sender[0].strip() if message.header.sender else ""


def _hint(patient: Patient) -> PatientHint | None:
    ids = tuple(i.strip() for i in (patient.practice_id, patient.lab_id) if i.strip())
    name = " ".join(p for p in (patient.name.last, patient.name.first) if p)
    return PatientHint(ids, name) if ids or name else None


def _test_code(test: TestId, choice: str) -> tuple[str, str]:
    """(test code, sub-id): component 4 else 5 (``choice`` may pin one), the later components as sub-id;
    the universal test id (component 1) when both are empty."""
    parts = [test.local_code.strip(), *(e.strip() for e in test.extra)]
    first = 1 if choice == "alternate" or (choice == "auto" and not parts[0]) else 0
    code = parts[first] if first < len(parts) else ""
    if not code:
        return test.universal_id.strip(), ""
    return code, "^".join(p for p in parts[first + 1:] if p)


def incoming_from_astm(message: Message, options: PartnerOptions = DEFAULTS) -> list[IncomingResult]:
    out = []
    seen: dict[tuple[str, str], int] = {}
    for p_no, patient in enumerate(message.patients, 1):
        for o_no, order in enumerate(patient.orders, 1):
            for r_no, result in enumerate(order.results, 1):
                code, sub_id = _test_code(result.test, options.test_code)
                specimen = (order.specimen_id or order.instrument_specimen_id).strip()
                seen[(specimen, code)] = n = seen.get((specimen, code), 0) + 1
                out.append(_incoming(result, order, message, f"ASTM P{p_no} O{o_no} R{r_no}",
                                     code, sub_id or ("" if n == 1 else f"#{n}"), _hint(patient)))
    return out


def refused_from_astm(message: Message) -> list[RefusedIncoming]:
    sender = analyzer_of(message)
    return [RefusedIncoming(analyzer=sender, specimen_id=r.specimen_id.strip(), test_code="", sub_id="",
                            reason=r.diagnostics, raw=r.raw, source=f"ASTM line {r.line} ({sender or 'unnamed'})",
                            patient=PatientHint((r.patient_id,)) if r.patient_id else None)
            for r in message.refused]


def _incoming(result: Result, order: Order, message: Message, source: str, code: str, sub_id: str,
              patient: PatientHint | None) -> IncomingResult:
    """R.4 is kept whole: a serology instrument's ``Negative^0.52`` (interpretation^index) is one value, and
    reading its first component alone acknowledged the index and dropped it. Flags (R.7) are split on the
    repeat delimiter the H record declared."""
    sender, header, d = analyzer_of(message), message.header, message.delimiters
    comparator, value = split_comparator(d.component.join((result.value, *result.value_extra)))
    timed = result.completed_at or result.started_at
    return IncomingResult(
        analyzer=result.instrument.strip() or sender,
        specimen_id=(order.specimen_id or order.instrument_specimen_id).strip(),
        test_code=code, sub_id=sub_id, patient=patient, value=value,
        run_at=_fhir_time(timed or header.timestamp), run_id="" if timed else header.message_id.strip(),
        source=f"{source} ({sender or 'unnamed analyzer'})", test_name=result.test.name, comparator=comparator,
        units=result.units.strip(), reference_range=result.reference_range,
        flags=tuple(f for f in result.abnormal_flags.split(d.repeat) if f), instrument_status=result.status,
        comments=tuple(text for text in (d.component.join(c.text).strip() for c in result.comments) if text))


def results_handler(ingest: ResultIngest, options: Callable[[Message], PartnerOptions] = options_for,
                    ) -> Callable[[str, Message, Settlement], Awaitable[list[str]]]:
    """Store the R records (and the unreadable ones on the worklist); returns what was written."""
    async def handle(text: str, message: Message, settlement: Settlement) -> list[str]:
        partner = options(message)

        async def settle(report: IngestReport, session: StoreSession) -> None:
            """The journal entry settled in the results' transaction, as the dispatcher would settle it."""
            await settlement.settle(*astm_outcome(message, report.produced), session=session)

        report = await ingest.ingest(incoming_from_astm(message, partner), refused_from_astm(message),
                                     on_commit=settle)
        return report.produced
    return handle


def _astm_patient(pending: PendingOrder, order: Order) -> Patient:
    patient = pending.patient or {}
    name = (patient.get("name") or [{}])[0]
    birth = patient.get("birthDate", "")
    return Patient(practice_id=patient.get("id", ""),
                   name=PersonName(last=name.get("family", ""), first=" ".join(name.get("given", ()))),
                   birthdate=date.fromisoformat(birth) if len(birth) == 10 else None,
                   sex=SEX.get(patient.get("gender", ""), ""), orders=[order])


def query_handler(store: FhirStore, catalog: CatalogRepository) -> Callable[[str, Message], Awaitable[Message | None]]:
    """Answer each Q record with the order of its tube (action N: new), or ``I`` when there is none."""
    async def handle(text: str, message: Message) -> Message | None:
        view = await current_view(catalog)
        analyzer = analyzer_of(message)
        patients = []
        for query in message.queries:
            pending = await pending_order(store, view, query.specimen_id.strip(), analyzer)
            if pending is None:
                continue
            collected = pending.specimen.get("collection", {}).get("collectedDateTime", "")
            order = Order(specimen_id=query.specimen_id, instrument_specimen_extra=query.extra_ids,
                          tests=[TestId(code, name=label) for code, label in pending.tests], action_code="N",
                          collected_at=datetime.fromisoformat(collected) if len(collected) > 10 else None)
            patients.append(_astm_patient(pending, order))
        if not patients:
            return Message(header=Header(sender=(HOST_NAME,), receiver=message.header.sender), termination_code="I")
        return Message(header=Header(sender=(HOST_NAME,), receiver=message.header.sender), patients=patients)
    return handle
