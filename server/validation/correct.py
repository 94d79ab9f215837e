"""``$correct``: change the value of a validated result, keeping every earlier version.

    POST /fhir/DiagnosticReport/{id}/$correct    Parameters: observation (Reference, 1),
                                                             value (valueQuantity | valueCodeableConcept |
                                                                    valueString, 1), reason (string, 1)

Role: biologiste only. The result must be listed on the report and be final / corrected / amended
(``VAL-10``; a result not yet validated is rerun or re-entered instead), the new value of the same
type (``VAL-11``) and different (``VAL-12``). The result gets the value, recomputed flags and delta
check, status ``corrected``, a note with the reason and the biologist as performer; the report
status ``corrected`` with ``issued`` = now. Earlier values stay readable through ``_history``
(the store keeps every version). One transaction with a Provenance ``correction`` and the reason.
Returns the report.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from resources.errors import InvalidInput, RuleViolation
from resources.fhirjson import instant
from resources.interactions import WriteRule
from resources.search.date import now_utc
from resources.store.base import FhirStore
from server.access.caller import Caller
from server.deps import CallerDep, CatalogueDep, SettingsDep, StoreDep, WriteRuleDep
from server.responses import fhir_response
from server.stored_catalog import CatalogRepository
from server.validation.access import CORRECTION, require_permission
from server.validation.biological import live, signed
from server.validation.definitions import result_context
from server.validation.delta import apply_delta, previous_result
from server.validation.flags import apply_flags
from server.validation.marks import BIOLOGICAL, FINAL_STATES, with_step
from server.validation.params import VALUE_KEYS, parameters, references, text, value
from server.validation.provenance import provenance, user_agent
from server.validation.report import order_results, refreshed
from server.validation.rules import ValidationRules, load_rules
from server.validation.steps import retried, workflow_step
from server.validation.validator import validating_biologist

router = APIRouter()


async def _corrected(store: FhirStore, catalogue: CatalogRepository, observation: dict[str, Any],
                     new: tuple[str, Any], reason: str, who: dict[str, Any], rules: ValidationRules,
                     at: str) -> dict[str, Any]:
    key, given = new
    where = f"Observation/{observation['id']}"
    if observation.get("status") not in FINAL_STATES:
        raise RuleViolation("VAL-10", f"{where} is {observation.get('status')}: only a validated result is corrected",
                            expression="Observation.status")
    current = next((k for k in VALUE_KEYS if k in observation), None)
    if current is not None and current != key:
        raise RuleViolation("VAL-11", f"{where} holds a {current}, the correction gives a {key}",
                            expression="Parameters.value")
    if observation.get(key) == given:
        raise RuleViolation("VAL-12", f"{where} already has this value", expression="Parameters.value")
    changed = {k: v for k, v in observation.items() if k not in VALUE_KEYS}
    changed[key] = given
    ctx = await result_context(store, catalogue, changed)
    changed = apply_flags(changed, ctx, rules)
    changed = apply_delta(changed, await previous_result(store, changed), ctx, rules)
    changed["note"] = [*changed.get("note", []), {"text": f"Résultat corrigé : {reason}",
                                                  "authorReference": who}]
    return {**signed(changed, who, at), "status": "corrected", "issued": at}


@retried
async def correct_result(store: FhirStore, catalogue: CatalogRepository, write_rule: WriteRule | None,
                         caller: Caller, report_id: str, observation_id: str, new: tuple[str, Any], reason: str,
                         rules: ValidationRules) -> dict[str, Any]:
    require_permission(caller, CORRECTION)
    _, who = await validating_biologist(store, caller, "a correction")
    report = (await store.read("DiagnosticReport", report_id)).resource or {}
    live(report)
    if {"reference": f"Observation/{observation_id}"} not in report.get("result", ()):
        raise RuleViolation("VAL-10", f"Observation/{observation_id} is not a result of DiagnosticReport/{report_id}",
                            expression="Parameters.observation")
    observation = (await store.read("Observation", observation_id)).resource or {}
    at = instant(now_utc())
    corrected = await _corrected(store, catalogue, observation, new, reason, who, rules, at)
    async with workflow_step(store, write_rule, "correction") as writer:
        await writer.update(corrected)
        results = await order_results(store, report, session=writer.session)
        out = refreshed(report, results, status="corrected", issued=at)
        out["resultsInterpreter"] = [who]
        stored = await writer.update(with_step(out, BIOLOGICAL))
        targets = list(writer.written)
        await writer.create(provenance("correction", user_agent(caller, "author", who), targets, reason))
    return stored


@router.post("/DiagnosticReport/{rid}/$correct")
async def correct(rid: str, request: Request, store: StoreDep, catalogue: CatalogueDep, write_rule: WriteRuleDep,
                  caller: CallerDep, settings: SettingsDep) -> Response:
    params = parameters(await request.body())
    targets = references(params, "observation", "Observation")
    if len(targets) != 1:
        raise InvalidInput("give exactly one observation to correct", expression="Parameters.observation")
    new = value(params, "value")
    if new is None:
        raise InvalidInput("parameter 'value' is required", expression="Parameters.value")
    reason = text(params, "reason", required=True) or ""
    return fhir_response(await correct_result(store, catalogue, write_rule, caller, rid, targets[0], new, reason,
                                              load_rules(settings.validation_rules)))
