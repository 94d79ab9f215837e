"""``$withdraw``: withdraw a validated report from everyone it was delivered to (SGL.DMP.03 deletion; the DPI's
OBX-11 ``D``).

    POST /fhir/DiagnosticReport/{id}/$withdraw    Parameters: reason (string, 1)

Role: a biologist (permission row ``$withdraw``), acting as an RPPS-identified Practitioner (``VAL-13``). The report
must be validated and documented (``VAL-16`` otherwise: there is nothing to withdraw) and not withdrawn already
(``VAL-09``). It becomes ``entered-in-error``, kept with its documents and every earlier version; in the same
transaction the document trigger (``server/documents/trigger.py``) writes one withdrawal delivery per channel and
recipient through the outbox: the EHRs get an ORU^R01 with ORC-1 ``CA`` and OBX-11 ``D``, the DMP an ITI-57
deletion of the last version's N3 and N1. A Provenance ``withdrawal`` names the biologist and the reason.
Why an operation: VAL-15 keeps a validated report from being rewritten or deleted by a plain write, so a
withdrawal is a named step with its trace, like a correction. Returns the report.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from resources.codes import REPORT_DOCUMENTED
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
    if report.get("status") not in REPORT_DOCUMENTED or not report.get("presentedForm"):
        raise RuleViolation("VAL-16", f"DiagnosticReport/{report_id} is {report.get('status')} without delivered "
                            "documents: there is nothing to withdraw", expression="DiagnosticReport.status")
    async with workflow_step(store, write_rule, "withdrawal") as writer:
        stored = await writer.update({**report, "status": "entered-in-error"})
        targets = list(writer.written)
        await writer.create(provenance("withdrawal", user_agent(caller, "author", who), targets, reason))
    return stored


@router.post("/DiagnosticReport/{rid}/$withdraw")
async def withdraw(rid: str, request: Request, store: StoreDep, write_rule: WriteRuleDep,
                   caller: CallerDep) -> Response:
    reason = text(parameters(await request.body()), "reason", required=True) or ""
    return fhir_response(await withdraw_report(store, write_rule, caller, rid, reason))
