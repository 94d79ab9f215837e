"""The DiagnosticReport of an order: found or created when its first result is technically validated.

An order is the set of ``ServiceRequest``s sharing a ``requisition`` identifier (or one
ServiceRequest without one). Its report has an id derived from the order (``report_id``), carries
that requisition as ``identifier``, ``basedOn`` every ServiceRequest of the order, and ``result``
the order's results that went through technical validation and were not rerun (cancelled).

Status (FHIR DiagnosticReport): ``partial`` while no result is biologically validated,
``preliminary`` when some are and others are pending, ``final`` when all are (``corrected`` stays
``corrected``). The ``autoverified`` tag is on the report as long as one of its results has it.
"""

from __future__ import annotations

import hashlib
from typing import Any

from resources import interactions
from resources.codes import LAB_REPORT_LOINC, LOINC_SYSTEM
from resources.errors import NotFound, RuleViolation, Unprocessable
from resources.store.base import FhirStore, StoreSession
from server.validation.marks import AUTOVERIFIED, FINAL_STATES, TECHNICAL, has_step, is_autoverified, with_step
from server.validation.steps import StepWriter

LAB_REPORT = {"coding": [{"system": LOINC_SYSTEM, "code": LAB_REPORT_LOINC, "display": "Laboratory report"}],
              "text": "Compte rendu d'examens biologiques"}
LAB_CATEGORY = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "LAB",
                             "display": "Laboratory"}]}]
MAX_RESULTS = 1000


async def _search(store: FhirStore, rtype: str, query: list[tuple[str, str]],
                  session: StoreSession | None) -> list[dict[str, Any]]:
    bundle = await interactions.search(store, rtype, [*query, ("_count", str(MAX_RESULTS))], base="",
                                       session=session)
    if any(link["relation"] == "next" for link in bundle.get("link", ())):
        raise Unprocessable(f"more than {MAX_RESULTS} {rtype} in one order", expression=rtype)
    return [e["resource"] for e in bundle.get("entry", ()) if e["search"]["mode"] == "match"]


def request_ids(observation: dict[str, Any]) -> list[str]:
    return [r["reference"].split("/", 1)[1] for r in observation.get("basedOn", ())
            if r.get("reference", "").startswith("ServiceRequest/")]


async def order_of(store: FhirStore, observation: dict[str, Any], *,
                   session: StoreSession | None = None) -> list[dict[str, Any]]:
    """Every ServiceRequest of the result's order (same requisition), its own first."""
    ids = request_ids(observation)
    if not ids:
        raise RuleViolation("VAL-06", "a result must belong to an order (basedOn a ServiceRequest)",
                            expression="Observation.basedOn")
    first = (await store.read("ServiceRequest", ids[0], session=session)).resource or {}
    requisition = first.get("requisition") or {}
    if not requisition.get("value"):
        return [first]
    token = f"{requisition.get('system', '')}|{requisition['value']}"
    requisition_requests = await _search(store, "ServiceRequest", [("requisition", token)], session)
    return [first, *(r for r in requisition_requests if r["id"] != first["id"])]


async def order_results(store: FhirStore, report: dict[str, Any], *,
                        session: StoreSession | None = None) -> list[dict[str, Any]]:
    """Every result of the report's order, as the transaction ``session`` sees it (a step's own writes
    included), or as committed when no transaction is given."""
    requests = [r["reference"] for r in report.get("basedOn", ())]
    return await _search(store, "Observation", [("based-on", ",".join(requests))], session) if requests else []


def is_listed(observation: dict[str, Any]) -> bool:
    """Shown on the report: technically validated or validated, and not replaced by a rerun."""
    status = observation.get("status")
    return status in FINAL_STATES or (status == "preliminary" and has_step(observation, TECHNICAL))


def report_status(current: str | None, results: list[dict[str, Any]]) -> str:
    active = [r for r in results if r.get("status") not in ("cancelled", "entered-in-error")]
    done = [r for r in active if r.get("status") in FINAL_STATES]
    if active and len(done) == len(active):
        return current if current in ("corrected", "amended") else "final"
    return "preliminary" if done else "partial"


def refreshed(report: dict[str, Any], results: list[dict[str, Any]], *, status: str | None = None,
              issued: str | None = None) -> dict[str, Any]:
    """The report with its result list, specimens, status and autoverified tag recomputed.

    ``issued`` is the operation's one instant, given by the caller so that the report and the results it
    validates carry the same time."""
    listed = [r for r in results if is_listed(r)]
    out = {**report, "result": [{"reference": f"Observation/{r['id']}"} for r in listed],
           "status": status or report_status(report.get("status"), results)}
    specimens = list(dict.fromkeys(r["specimen"]["reference"] for r in listed if (r.get("specimen") or {}).get(
        "reference")))
    if specimens:
        out["specimen"] = [{"reference": s} for s in specimens]
    if not out["result"]:
        out.pop("result")
    if issued:
        out["issued"] = issued
    return with_step(out, AUTOVERIFIED, any(is_autoverified(r) for r in listed))


def new_report(observation: dict[str, Any], order: list[dict[str, Any]]) -> dict[str, Any]:
    report: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "basedOn": [{"reference": f"ServiceRequest/{r['id']}"} for r in order],
        "status": "partial", "category": LAB_CATEGORY, "code": LAB_REPORT, "subject": observation["subject"],
    }
    requisition = order[0].get("requisition") or {}
    if requisition.get("value"):
        report["identifier"] = [requisition]
    if observation.get("effectiveDateTime"):
        report["effectiveDateTime"] = observation["effectiveDateTime"]
    return report


def report_id(order: list[dict[str, Any]]) -> str:
    """The report's id, derived from the order: two steps validating results of one new order at the
    same time write the same id, so the second fails (409, retry) instead of creating a twin report."""
    requisition = order[0].get("requisition") or {}
    key = (f"requisition|{requisition.get('system', '')}|{requisition['value']}" if requisition.get("value")
           else f"ServiceRequest/{order[0]['id']}")
    return "cr-" + hashlib.sha256(key.encode()).hexdigest()[:32]


async def report_for(writer: StepWriter, observation: dict[str, Any]) -> dict[str, Any]:
    """The order's report as this step sees it, created now if the order has none."""
    order = await order_of(writer.store, observation, session=writer.session)
    rid = report_id(order)
    try:
        found = (await writer.store.read("DiagnosticReport", rid, session=writer.session)).resource or {}
    except NotFound:
        return await writer.update({**new_report(observation, order), "id": rid})
    missing = [b for b in new_report(observation, order)["basedOn"] if b not in found.get("basedOn", ())]
    return {**found, "basedOn": found.get("basedOn", []) + missing}
