"""``$rerun``: measure a result again (rerun, dilution), keeping the first measurement.

    POST /fhir/Observation/{id}/$rerun    Parameters: reason (string, 1, e.g. "dilution 1/10")

Roles: technicien, biologiste. Only a ``registered`` / ``preliminary`` result can be rerun
(``VAL-13``; a validated one is corrected with ``$correct``). A new Observation is created for the
same analysis, patient, order and specimen, status ``registered`` and no value (the analyzer
fills it), with the ``replaces`` extension; the first one becomes ``cancelled`` with the
``replaced-by`` extension and a note giving the reason.

Why ``cancelled`` plus links rather than a link alone: a cancelled result drops out of the report
(report.py lists only active results) and out of every "is the order complete" check and every
status-based search that a document writer or an outbound interface runs, without anyone having
to know about reruns; the first value stays readable (the resource itself, its ``_history``) and
the two links let a user walk from one measurement to the other. ``entered-in-error`` would say
the first measurement was a mistake, which a dilution is not.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from resources import interactions
from resources.errors import RuleViolation
from resources.interactions import WriteRule
from resources.store.base import FhirStore
from server.access.caller import Caller
from server.deps import BaseUrl, CallerDep, StoreDep, WriteRuleDep
from server.responses import fhir_response
from server.validation.access import RERUN, require_permission
from server.validation.marks import EXT_REPLACED_BY, EXT_REPLACES
from server.validation.params import parameters, text
from server.validation.provenance import provenance, user_agent
from server.validation.report import order_results, refreshed
from server.validation.steps import retried, workflow_step

router = APIRouter()
_COPIED = ("identifier", "basedOn", "category", "code", "subject", "encounter", "effectiveDateTime", "specimen",
           "device", "method", "bodySite")


def _link(url: str, rid: str) -> dict[str, Any]:
    return {"url": url, "valueReference": {"reference": f"Observation/{rid}"}}


@retried
async def rerun_result(store: FhirStore, write_rule: WriteRule | None, caller: Caller, rid: str,
                       reason: str) -> dict[str, Any]:
    require_permission(caller, RERUN)
    first = (await store.read("Observation", rid)).resource or {}
    if first.get("status") not in ("registered", "preliminary"):
        raise RuleViolation("VAL-13", f"Observation/{rid} is {first.get('status')}: only a result awaiting validation "
                            "is rerun (a validated one is corrected with DiagnosticReport/$correct)",
                            expression="Observation.status")
    again = {k: first[k] for k in _COPIED if k in first}
    again.update(resourceType="Observation", status="registered", extension=[_link(EXT_REPLACES, rid)],
                 note=[{"text": f"Nouvelle mesure : {reason}"}])
    async with workflow_step(store, write_rule, "rerun") as writer:
        created = await writer.create(again)
        extensions = [e for e in first.get("extension", ()) if e.get("url") != EXT_REPLACED_BY]
        note = {"text": f"Remplacé par une nouvelle mesure : {reason}"}
        await writer.update({**first, "status": "cancelled", "note": [*first.get("note", []), note],
                             "extension": [*extensions, _link(EXT_REPLACED_BY, created["id"])]})
        for report in await _reports_listing(store, rid):
            await writer.update(refreshed(report, await order_results(store, report, session=writer.session)))
        targets = list(writer.written)
        await writer.create(provenance("rerun", user_agent(caller, "performer"), targets, reason))
    return created


async def _reports_listing(store: FhirStore, rid: str) -> list[dict[str, Any]]:
    """The reports listing the result (at most one in practice: the order's)."""
    bundle = await interactions.search(store, "DiagnosticReport", [("result", f"Observation/{rid}")], base="")
    return [e["resource"] for e in bundle.get("entry", ()) if e["search"]["mode"] == "match"]


@router.post("/Observation/{rid}/$rerun")
async def rerun(rid: str, request: Request, store: StoreDep, write_rule: WriteRuleDep, caller: CallerDep,
                base: BaseUrl) -> Response:
    reason = text(parameters(await request.body()), "reason", required=True) or ""
    created = await rerun_result(store, write_rule, caller, rid, reason)
    location = f"{base}/Observation/{created['id']}/_history/{created['meta']['versionId']}"
    return fhir_response(created, 201, {"Location": location})
