"""``$withdraw``: take back a validated report that should never have gone out (wrong patient, wrong dossier).

    POST /fhir/DiagnosticReport/{id}/$withdraw    Parameters: reason (string, 1)

Why an operation: a validated report is neither rewritten nor deleted by a plain write (``VAL-15``), so the
one way to take it back is this step, which names the biologist and keeps the reason. The report becomes
``entered-in-error`` (its results and every earlier version stay readable through ``_history``); in the same
transaction the document trigger (``server/documents/trigger.py``) writes the withdrawal deliveries of the
outbox: the deletion notice to everyone who received the report over MSSanté (SGL.MSS.25), OBX-11 ``D`` to
the hospital EHRs, the DMP deletion. A Provenance ``withdrawal`` records who did it and why (the reason lives
there: a DiagnosticReport has no ``note``).

Role: biologists (the ``$withdraw`` row of the permission table), acting as an RPPS-identified Practitioner.
A report not yet validated has nothing to take back (422, it is simply completed or cancelled); a report
already withdrawn answers 422 too (``VAL-09``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from resources.codes import REPORT_VALIDATED
from resources.errors import RuleViolation
from resources.interactions import WriteRule
from resources.store.base import FhirStore
from server.access.caller import Caller
from server.deps import CallerDep, StoreDep, WriteRuleDep
from server.responses import fhir_response
from server.validation.access import WITHDRAWAL, require_permission
from server.validation.biological import live
from server.validation.params import parameters, text
from server.validation.provenance import provenance, user_agent
from server.validation.steps import retried, workflow_step
from server.validation.validator import validating_biologist

router = APIRouter()


@retried
async def withdraw_report(store: FhirStore, write_rule: WriteRule | None, caller: Caller, report_id: str,
                          reason: str) -> dict[str, Any]:
    require_permission(caller, WITHDRAWAL)
    _, who = await validating_biologist(store, caller, "a withdrawal")
    report = (await store.read("DiagnosticReport", report_id)).resource or {}
    live(report)
    if report.get("status") not in REPORT_VALIDATED and not report.get("presentedForm"):
        raise RuleViolation("VAL-16", f"DiagnosticReport/{report_id} is {report.get('status')}: only a validated "
                            "report is withdrawn", expression="DiagnosticReport.status")
    async with workflow_step(store, write_rule, "withdrawal") as writer:
        stored = await writer.update({**report, "status": "entered-in-error"})
        await writer.create(provenance("withdrawal", user_agent(caller, "author", who), list(writer.written),
                                       reason))
    return stored


@router.post("/DiagnosticReport/{rid}/$withdraw")
async def withdraw(rid: str, request: Request, store: StoreDep, write_rule: WriteRuleDep,
                   caller: CallerDep) -> Response:
    reason = text(parameters(await request.body()), "reason", required=True) or ""
    return fhir_response(await withdraw_report(store, write_rule, caller, rid, reason))
