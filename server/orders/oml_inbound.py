"""OML^O21 from a hospital EHR: orders in over MLLP, stored, then acknowledged.

The message (already journaled raw by the dispatcher) is read by ``facades.hl7v2.orders``; the
Patient is found by IPP or created with its traits only; each OBR-4 must be an exam of the
catalogue; then the order is written in ONE transaction (placement.py), with the clinical information sent
under each OBR (OBX: weight, pregnancy...) as Observations its ServiceRequest lists in ``supportingInfo``, and
only then answered AA.
Errors and what the sender gets back, nothing being written in any of these cases:

- unreadable structure or values (missing PID-3 IPP, OBR out of place, bad date...): AR, ERR-2 at
  the field, ERR-3 the HL7 table 0357 code;
- a clinical OBX that cannot be read (no code, no value, a value not of its OBX-2 type, an OBX-11 other than
  F/C/P/R/S/I/O, an OBX before any OBR): AE, ERR-2 at that OBX field;
- an exam the catalogue does not know: AE, ERR-2 = OBR-4 of that order, code 103;
- an order whose placer number (ORC-2) is already stored: the sender is retrying after a lost ACK
  when every order of the message is known (AA again, nothing written twice); when only some are,
  AE with code 205 at that ORC-2;
- an identitovigilance rule refusing the new Patient, or any other refusal: AE with the reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from facades.hl7v2 import AckDecision, Hl7ContentError, InboundMessage
from facades.hl7v2.errors import DUPLICATE_KEY_IDENTIFIER, TABLE_VALUE_NOT_FOUND
from facades.hl7v2.orders import OmlMessage, OmlOrder, read_oml_o21
from resources.errors import PreconditionFailed, Unprocessable
from resources.fhirjson import instant
from resources.interactions.search import matching_ids, plan_search
from resources.search.date import now_utc
from resources.search.query import MAX_COUNT
from server.access.caller import partner
from server.access.roles import DPI
from server.context import AppContext
from server.orders.counters import REQUISITION, REQUISITION_SYSTEM, take_numbers
from server.orders.exams import ExamCode, find_exams
from server.orders.placement import write_order
from server.orders.requisition import OrderLine, Requisition, SenderSpecimen
from terminology import CATALOG_SYSTEM, LOINC_SYSTEM

OmlHandler = Callable[[InboundMessage], Awaitable[AckDecision]]


def oml_handler(ctx: AppContext) -> OmlHandler:
    """The OML^O21 handler bound to the application context (register with ``ctx.hl7.route``)."""

    async def handle(inbound: InboundMessage) -> AckDecision:
        oml = read_oml_o21(inbound.message)  # Hl7ParseError: AR (the facade's outcome table)
        store = ctx.store
        known = await _known(ctx, oml.orders)
        if all(known):
            return AckDecision.accept()
        if any(known):
            order = oml.orders[known.index(True)]
            raise Hl7ContentError(f"order {order.placer_number} is already stored; the others are not",
                                  order.placer_location, code=DUPLICATE_KEY_IDENTIFIER)
        try:
            lines = await _lines(ctx, oml.orders)
        except Unprocessable as exc:
            bad = next(o for o in oml.orders if o.exam_location.expression() in exc.expression)
            raise Hl7ContentError(exc.diagnostics, bad.exam_location, code=TABLE_VALUE_NOT_FOUND) from exc
        caller = partner(f"hl7:{oml.sender}", DPI, inbound.peer)
        patient_ref, new_patient = await _patient(ctx, oml)
        first = oml.orders[0]
        requisition = first.placer_group or {
            "system": REQUISITION_SYSTEM, "value": (await take_numbers(store.db, REQUISITION, 1))[0]}
        copies = tuple(dict.fromkeys(_key(r) for o in oml.orders for r in o.copies_to))
        placed = Requisition(patient=patient_ref, requisition=requisition, authored=instant(now_utc()),
                            lines=lines, requester=first.requester,
                            correspondents=tuple(_unkey(c) for c in copies))
        await write_order(store, placed, caller=caller, write_rule=ctx.write_rules.for_caller(caller),
                          also_create=new_patient, source=f"HL7 OML^O21 {oml.control_id} from {oml.sender}")
        return AckDecision.accept()

    return handle


async def _known(ctx: AppContext, orders: tuple[OmlOrder, ...]) -> list[bool]:
    """For each order, whether a ServiceRequest already carries its placer number (one query)."""
    idents = [o.placer_number for o in orders]
    tokens = [f"{i['system']}|{i['value']}" if i.get("system") else i["value"] for i in idents if i]
    if not tokens:
        return [False] * len(orders)
    req = await plan_search(ctx.store, "ServiceRequest", [("identifier", ",".join(dict.fromkeys(tokens))),
                                                          ("_count", str(MAX_COUNT))], strict=True)
    stored = {(i.get("system"), i.get("value")) for r in (await ctx.store.search(req)).matches
              for i in r.get("identifier", [])}
    return [i is not None and (i.get("system"), i.get("value")) in stored for i in idents]


async def _lines(ctx: AppContext, orders: tuple[OmlOrder, ...]) -> tuple[OrderLine, ...]:
    """Each OBR's exam from the catalogue (OBR-4.3 ``LN``: by LOINC, else by the lab's own code)."""
    exams = await find_exams(ctx.store, [ExamCode(LOINC_SYSTEM if o.is_loinc else CATALOG_SYSTEM, o.exam_code,
                                                  o.exam_location.expression()) for o in orders])
    return tuple(OrderLine(exam, o.placer_number, SenderSpecimen(o.specimen_number, o.collected),
                           requester=o.requester, notes=o.notes, clinical=o.clinical)
                 for exam, o in zip(exams, orders, strict=True))


async def _patient(ctx: AppContext, oml: OmlMessage) -> tuple[str, tuple[dict[str, Any], ...]]:
    """``Patient/<id>`` of the IPP, and the Patient to create with the order when it is unknown."""
    ids = await matching_ids(ctx.store, "Patient", urlencode({"identifier": f"{oml.ipp['system']}|{oml.ipp['value']}"}))
    if len(ids) > 1:
        raise PreconditionFailed(f"IPP {oml.ipp['value']} matches several patients", expression="PID-3")
    if ids:
        return f"Patient/{ids[0]}", ()
    rid = str(uuid.uuid4())
    return f"Patient/{rid}", ({**oml.patient, "id": rid},)


def _key(ref: dict[str, Any]) -> tuple[str, str, str]:
    ident = ref.get("identifier") or {}
    return (ident.get("system", ""), ident.get("value", ""), ref.get("display", ""))


def _unkey(key: tuple[str, str, str]) -> dict[str, Any]:
    system, value, display = key
    ref: dict[str, Any] = {}
    if value:
        ref["identifier"] = {"system": system, "value": value} if system else {"value": value}
    if display:
        ref["display"] = display
    return ref
