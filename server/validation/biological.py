"""``$validate-biological``: the biologist validates the report of an order.

    POST /fhir/DiagnosticReport/{id}/$validate-biological    Parameters: conclusion (string, optional)

Role: biologiste only (403 otherwise). Every technically validated result of the order becomes
``final`` with the biologist as ``performer``; results validated automatically are *reviewed*:
their ``autoverified`` tag is removed (SGL.DOC.09: the report no longer says "validated
automatically" for them). The report gets ``resultsInterpreter`` = the biologist, ``issued`` = now,
and status ``final`` when every active result of the order is final, ``preliminary`` when some
are still pending. Refused (``VAL-08``) when there is nothing to validate or review; nothing is
written then. One transaction with a Provenance ``biological-validation`` (or ``biological-review``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from resources.errors import RuleViolation
from resources.fhirjson import instant
from resources.interactions import WriteRule
from resources.search.date import now_utc
from resources.store.base import FhirStore
from server.access.caller import Caller
from server.deps import CallerDep, StoreDep, WriteRuleDep
from server.responses import fhir_response
from server.validation.access import BIOLOGICAL_VALIDATION, require_permission
from server.validation.marks import (
    AUTOVERIFIED,
    BIOLOGICAL,
    FINAL_STATES,
    TECHNICAL,
    has_step,
    is_autoverified,
    with_step,
)
from server.validation.params import parameters, text
from server.validation.provenance import provenance, user_agent
from server.validation.report import order_results, refreshed
from server.validation.steps import retried, workflow_step
from server.validation.validator import validating_biologist

router = APIRouter()


def signed(observation: dict[str, Any], who: dict[str, Any], issued: str) -> dict[str, Any]:
    """The result validated by the biologist ``who``: final, tagged, the biologist among its performers.

    ``issued`` (when the result was made available) is set when it becomes final; a review of an
    automatically validated result keeps it."""
    performers = [p for p in observation.get("performer", ()) if p != who] + [who]
    out = {**with_step(with_step(observation, AUTOVERIFIED, False), BIOLOGICAL), "performer": performers}
    if observation["status"] not in FINAL_STATES:
        out.update(status="final", issued=issued)
    return out


def live(report: dict[str, Any]) -> None:
    if report.get("status") in ("cancelled", "entered-in-error"):
        raise RuleViolation("VAL-09", f"DiagnosticReport/{report['id']} is {report['status']}",
                            expression="DiagnosticReport.status")


@retried
async def validate_biological(store: FhirStore, write_rule: WriteRule | None, caller: Caller, report_id: str,
                              conclusion: str | None) -> dict[str, Any]:
    require_permission(caller, BIOLOGICAL_VALIDATION)
    _, who = await validating_biologist(store, caller, "a biological validation")
    report = (await store.read("DiagnosticReport", report_id)).resource or {}
    live(report)
    results = await order_results(store, report)
    to_validate = [r for r in results if r.get("status") == "preliminary" and has_step(r, TECHNICAL)]
    to_review = [r for r in results if r.get("status") in FINAL_STATES and is_autoverified(r)]
    if not to_validate and not to_review:
        raise RuleViolation("VAL-08", f"DiagnosticReport/{report_id} has no technically validated result awaiting "
                            "biological validation and no automatically validated result to review",
                            expression="DiagnosticReport.result")
    activity = "biological-validation" if to_validate else "biological-review"
    at = instant(now_utc())
    async with workflow_step(store, write_rule, activity) as writer:
        for observation in to_validate + to_review:
            await writer.update(signed(observation, who, at))
        out = refreshed(report, await order_results(store, report, session=writer.session), issued=at)
        out["resultsInterpreter"] = [who]
        if conclusion:
            out["conclusion"] = conclusion
        stored = await writer.update(with_step(out, BIOLOGICAL))
        targets = list(writer.written)
        await writer.create(provenance(activity, user_agent(caller, who=who), targets))
    return stored


@router.post("/DiagnosticReport/{rid}/$validate-biological")
async def validate(rid: str, request: Request, store: StoreDep, write_rule: WriteRuleDep,
                   caller: CallerDep) -> Response:
    params = parameters(await request.body())
    return fhir_response(await validate_biological(store, write_rule, caller, rid, text(params, "conclusion")))
