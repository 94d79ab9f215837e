"""ASTM analyzer messages: R records in (final frame ACKed once stored), Q records answered with orders.

The analyzer is named by the R record's instrument field (R.14), else by the sender of the H
record (H.5). Instrument times carry no zone: they are read in the lab's zone (``LAB_ZONE``).
A failure raises: the ASTM server NAKs the final frame and the analyzer sends it again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from facades.astm import Header, Message, Order, Patient, PersonName, Result, TestId
from resources.store.base import FhirStore
from server.analyzers.catalog_view import CatalogCache
from server.analyzers.host_query import PendingOrder, pending_order
from server.analyzers.incoming import IncomingResult, split_comparator
from server.analyzers.ingest import ResultIngest

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


def incoming_from_astm(message: Message) -> list[IncomingResult]:
    sender = analyzer_of(message)
    out = []
    for p_no, patient in enumerate(message.patients, 1):
        for o_no, order in enumerate(patient.orders, 1):
            for r_no, result in enumerate(order.results, 1):
                out.append(_incoming(result, order, sender, message.header, f"ASTM P{p_no} O{o_no} R{r_no}"))
    return out


def _incoming(result: Result, order: Order, sender: str, header: Header, source: str) -> IncomingResult:
    comparator, value = split_comparator(result.value)
    return IncomingResult(
        analyzer=result.instrument.strip() or sender,
        specimen_id=(order.specimen_id or order.instrument_specimen_id).strip(),
        test_code=result.test.local_code.strip(), value=value,
        run_at=_fhir_time(result.completed_at or result.started_at or header.timestamp),
        source=f"{source} ({sender or 'unnamed analyzer'})", test_name=result.test.name, comparator=comparator,
        units=result.units.strip(), reference_range=result.reference_range,
        flags=tuple(f for f in result.abnormal_flags.split("\\") if f), instrument_status=result.status)


def results_handler(ingest: ResultIngest) -> Callable[[str, Message], Awaitable[None]]:
    async def handle(text: str, message: Message) -> None:
        await ingest.ingest(incoming_from_astm(message))
    return handle


def _astm_patient(pending: PendingOrder, order: Order) -> Patient:
    patient = pending.patient or {}
    name = (patient.get("name") or [{}])[0]
    birth = patient.get("birthDate", "")
    return Patient(practice_id=patient.get("id", ""),
                   name=PersonName(last=name.get("family", ""), first=" ".join(name.get("given", ()))),
                   birthdate=date.fromisoformat(birth) if len(birth) == 10 else None,
                   sex=SEX.get(patient.get("gender", ""), ""), orders=[order])


def query_handler(store: FhirStore, catalog: CatalogCache) -> Callable[[str, Message], Awaitable[Message | None]]:
    """Answer each Q record with the order of its tube (action N: new), or ``I`` when there is none."""
    async def handle(text: str, message: Message) -> Message | None:
        view = await catalog.get()
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
