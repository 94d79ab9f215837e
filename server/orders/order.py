"""``POST /fhir/ServiceRequest/$order``: take a laboratory order in one call.

In (a ``Parameters`` resource; OpenSGL operation, modelled on FHIR operations:
https://hl7.org/fhir/R4/operations.html):

| name | cardinality | type | meaning |
|---|---|---|---|
| patient | 1..1 | Reference(Patient) | who the specimens come from (must exist) |
| requester | 1..1 | Reference(PractitionerRole) | the prescriber (must exist) |
| correspondent | 0..* | Reference(PractitionerRole, Practitioner, Organization) | copy recipients (MSS.15: 10+) |
| exam | 1..* | Coding, or code of the lab catalogue | the exams ordered (ActivityDefinition of the catalogue) |
| collected | 0..1 | dateTime | when the specimens were collected |
| priority | 0..1 | code | routine \\| urgent \\| asap \\| stat |
| requisition | 0..1 | Identifier | the dossier number; default: the next lab number |
| refusal | 0..* | code | mssante-pro (SGL.MSS.16), mssante-patient (SGL.MSS.19), dmp (SGL.DMP.02) |

Out: a ``transaction-response`` Bundle with every resource written (201), in one transaction.
"""

from __future__ import annotations

from typing import Any

from resources.errors import InvalidInput, RuleViolation
from resources.fhirjson import instant
from resources.interactions import WriteRule
from resources.search.date import now_utc
from resources.store.mongo import MongoFhirStore
from server.access.caller import Caller
from server.orders.counters import REQUISITION, REQUISITION_SYSTEM, take_numbers
from server.orders.exams import ExamCode, find_exams
from server.orders.parameters import Param, existing_references, named, one, parameters, required
from server.orders.placement import write_order
from server.orders.refusals import check_channel
from server.orders.requisition import OrderLine, Requisition
from server.orders.responses import transaction_response
from terminology import CATALOG_SYSTEM

NAMES = {"patient", "requester", "correspondent", "exam", "collected", "priority", "requisition", "refusal"}
PRIORITIES = ("routine", "urgent", "asap", "stat")
COPY_RECIPIENTS = ("PractitionerRole", "Practitioner", "Organization")


async def place_order(store: MongoFhirStore, body: Any, *, caller: Caller, write_rule: WriteRule | None) -> dict[str,
                                                                                                                 Any]:
    """Check the whole order first (nothing is written if any part is wrong), then write it."""
    params = parameters(body, NAMES)
    [patient] = await existing_references(store, [required(params, "patient")], ("Patient",))
    await _not_merged(store, str(patient["reference"]))
    [requester] = await existing_references(store, [required(params, "requester")], ("PractitionerRole",))
    copies = named(params, "correspondent")
    correspondents = await existing_references(store, copies, COPY_RECIPIENTS)
    _no_duplicates(correspondents, copies)
    exams = named(params, "exam")
    if not exams:
        raise InvalidInput("an order needs at least one exam", expression="Parameters.parameter[exam]")
    lines = tuple(OrderLine(exam) for exam in await find_exams(store, [_exam_code(p) for p in exams]))
    refusals = tuple(dict.fromkeys(check_channel(str(p.value("Code")), f"{p.where}.valueCode")
                                   for p in named(params, "refusal")))
    order = Requisition(
        patient=patient["reference"], requisition=await _requisition(store, params), authored=instant(now_utc()),
        lines=lines, requester=requester, correspondents=tuple(correspondents),
        collected=_optional(params, "collected", "DateTime"), priority=_priority(params))
    written = await write_order(store, order, caller=caller, write_rule=write_rule, refusals=refusals, source="$order")
    return transaction_response(written)


async def _not_merged(store: MongoFhirStore, reference: str) -> None:
    """An identity merged into another (RNIV: inactive, ``replaced-by``) takes no new order: the one kept does."""
    stored = (await store.read("Patient", reference.split("/", 1)[1])).resource or {}
    kept = [str((link.get("other") or {}).get("reference")) for link in stored.get("link", ())
            if link.get("type") == "replaced-by"]
    if kept or stored.get("active") is False:
        why = f"it was merged into {kept[0]}: order on that identity" if kept else "it is inactive"
        raise RuleViolation("RNIV", f"{reference} takes no new order: {why}",
                            expression="Parameters.parameter[patient].valueReference")


def _optional(params: list[Param], name: str, kind: str) -> Any:
    found = one(params, name)
    return found.value(kind) if found else None


def _no_duplicates(refs: list[dict[str, Any]], params: list[Param]) -> None:
    seen: set[str] = set()
    for ref, param in zip(refs, params, strict=True):
        if ref["reference"] in seen:
            raise InvalidInput(f"{param.where}: correspondent {ref['reference']} is given twice",
                               expression=f"{param.where}.valueReference")
        seen.add(ref["reference"])


def _exam_code(param: Param) -> ExamCode:
    if "valueCode" in param.body:
        return ExamCode(CATALOG_SYSTEM, str(param.body["valueCode"]), f"{param.where}.valueCode")
    coding = param.value("Coding")
    if not isinstance(coding, dict):
        raise InvalidInput(f"{param.where}.valueCoding is not a Coding", expression=f"{param.where}.valueCoding")
    return ExamCode(str(coding.get("system", "")), str(coding.get("code", "")), f"{param.where}.valueCoding")


async def _requisition(store: MongoFhirStore, params: list[Param]) -> dict[str, Any]:
    given = _optional(params, "requisition", "Identifier")
    if given is not None:
        if not isinstance(given, dict) or not given.get("value"):
            raise InvalidInput("requisition needs a value", expression="Parameters.parameter[requisition]")
        return {k: given[k] for k in ("system", "value") if k in given}
    return {"system": REQUISITION_SYSTEM, "value": (await take_numbers(store.db, REQUISITION, 1))[0]}


def _priority(params: list[Param]) -> str | None:
    found = one(params, "priority")
    if found is None:
        return None
    value = found.value("Code")
    if value not in PRIORITIES:
        raise InvalidInput(f"priority {value!r} is not one of {', '.join(PRIORITIES)}",
                           expression=f"{found.where}.valueCode")
    return str(value)
