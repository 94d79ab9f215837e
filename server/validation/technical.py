"""``$validate-technical``: the technician accepts analyzer results (one, or a batch all-or-nothing).

    POST /fhir/Observation/{id}/$validate-technical     Parameters: note (string, optional),
                                                                    note-audience (code ``professional``, optional)
    POST /fhir/Observation/$validate-technical          Parameters: observation (Reference, 1..*),
                                                                    note, note-audience (as above)

``note-audience`` = ``professional`` marks the note as a comment for health professionals only: a lab that makes
a patient and a professional CR-Bio leaves it out of the patient's (SGL.DOC.02).

Roles: technicien, biologiste. Each result must be a laboratory result (category ``laboratory``, as the
analyzer facades and the bench write it; else ``VAL-17``: the clinical information a prescriber sends with an
order may be ``preliminary`` too, and is not the technician's to validate), ``preliminary``, not yet technically
validated, with a value (else ``VAL-02``). Flags and the delta check are recomputed from the stored value, the
result is tagged ``technical``, the order's DiagnosticReport is created or updated (status
``partial``/``preliminary``), and a Provenance ``technical-validation`` names the caller — all in one
transaction. Then, if ``SGL_AUTOVERIFICATION`` is on, autoverify.py runs on each touched report.
Returns the result (single form) or a ``collection`` Bundle of the results (batch form), as stored
after autoverification.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from resources.errors import InvalidInput, RuleViolation
from resources.interactions import WriteRule
from resources.store.base import FhirStore
from server.access.caller import Caller
from server.analyzers.observation import is_laboratory
from server.deps import CallerDep, CatalogueDep, SettingsDep, StoreDep, WriteRuleDep
from server.responses import fhir_response
from server.stored_catalog import CatalogRepository
from server.validation.access import TECHNICAL_VALIDATION, require_permission
from server.validation.autoverify import autoverify_report
from server.validation.definitions import result_context
from server.validation.delta import apply_delta, previous_result
from server.validation.flags import apply_flags
from server.validation.marks import EXT_NOTE_AUDIENCE, NOTE_AUDIENCES, TECHNICAL, has_step, has_value, with_step
from server.validation.params import parameters, references, text
from server.validation.provenance import provenance, user_agent
from server.validation.report import order_results, refreshed, report_for
from server.validation.rules import ValidationRules, load_rules
from server.validation.steps import retried, workflow_step

router = APIRouter()
MAX_BATCH = 200


Note = dict[str, Any]
"""The ``Annotation`` the technician adds (``text``, and the ``note-audience`` extension when given)."""


def _note(params: list[dict[str, Any]]) -> Note | None:
    """``note`` (and ``note-audience``) as the Annotation to add; 400 for an audience without a note or unknown."""
    value, audience = text(params, "note"), next((p.get("valueCode") for p in params
                                                  if p.get("name") == "note-audience"), None)
    if audience is not None and (audience not in NOTE_AUDIENCES or value is None):
        raise InvalidInput(f"note-audience must be one of {', '.join(sorted(NOTE_AUDIENCES))}, with a note",
                           expression="Parameters.note-audience")
    if value is None:
        return None
    marks = [{"url": EXT_NOTE_AUDIENCE, "valueCode": audience}] if audience else []
    return {"text": value, **({"extension": marks} if marks else {})}


async def _prepared(store: FhirStore, catalogue: CatalogRepository, rid: str, note: Note | None,
                    rules: ValidationRules) -> dict[str, Any]:
    """The result as it will be stored, or the reason it cannot be validated."""
    observation = (await store.read("Observation", rid)).resource or {}
    where = f"Observation/{rid}"
    if not is_laboratory(observation):
        raise RuleViolation("VAL-17", f"{where} is not a laboratory result (category laboratory): the clinical "
                            "information sent with an order, or any other observation, is not technically "
                            "validated", expression="Observation.category")
    if observation.get("status") != "preliminary" or has_step(observation, TECHNICAL):
        state = "already technically validated" if has_step(observation, TECHNICAL) else observation.get("status")
        raise RuleViolation("VAL-07", f"{where} is {state}: only a preliminary result awaiting technical validation "
                            "can be validated", expression="Observation.status")
    if not has_value(observation):
        raise RuleViolation("VAL-02", f"{where} has no value: rerun it ($rerun) instead of validating it",
                            expression="Observation.value[x]")
    ctx = await result_context(store, catalogue, observation)
    observation = apply_flags(observation, ctx, rules)
    observation = apply_delta(observation, await previous_result(store, observation), ctx, rules)
    if note:
        observation["note"] = [*observation.get("note", []), note]
    return with_step(observation, TECHNICAL)


@retried
async def _technical_step(store: FhirStore, catalogue: CatalogRepository, write_rule: WriteRule | None,
                          caller: Caller, ids: list[str], note: Note | None, rules: ValidationRules) -> list[str]:
    """Check and write the results, their reports and the Provenance; return the reports' ids."""
    prepared = [await _prepared(store, catalogue, rid, note, rules) for rid in ids]
    async with workflow_step(store, write_rule, "technical-validation") as writer:
        for observation in prepared:
            await writer.update(observation)
        reports: dict[str, dict[str, Any]] = {}
        for observation in prepared:
            report = await report_for(writer, observation)
            reports.setdefault(report["id"], report)
        for report in reports.values():  # one new version per report, however many of its results
            await writer.update(refreshed(report, await order_results(store, report, session=writer.session)))
        targets = list(writer.written)
        await writer.create(provenance("technical-validation", user_agent(caller), targets))
    return list(reports)


async def validate_technical(store: FhirStore, catalogue: CatalogRepository, write_rule: WriteRule | None,
                             caller: Caller, ids: list[str], note: Note | None, rules: ValidationRules, *,
                             autoverification: bool) -> list[dict[str, Any]]:
    """Validate the results together; return them as stored once autoverification (if on) has run."""
    require_permission(caller, TECHNICAL_VALIDATION)
    if not ids or len(ids) > MAX_BATCH or len(set(ids)) != len(ids):
        raise InvalidInput(f"give 1 to {MAX_BATCH} distinct results", expression="Parameters.observation")
    report_ids = await _technical_step(store, catalogue, write_rule, caller, ids, note, rules)
    if autoverification:
        for report_id in report_ids:
            await autoverify_report(store, catalogue, write_rule, report_id, rules)
    return [(await store.read("Observation", rid)).resource or {} for rid in ids]


@router.post("/Observation/{rid}/$validate-technical")
async def validate_one(rid: str, request: Request, store: StoreDep, catalogue: CatalogueDep, write_rule: WriteRuleDep,
                       caller: CallerDep, settings: SettingsDep) -> Response:
    params = parameters(await request.body())
    done = await validate_technical(store, catalogue, write_rule, caller, [rid], _note(params),
                                    load_rules(settings.validation_rules),
                                    autoverification=settings.autoverification)
    return fhir_response(done[0])


@router.post("/Observation/$validate-technical")
async def validate_batch(request: Request, store: StoreDep, catalogue: CatalogueDep, write_rule: WriteRuleDep,
                         caller: CallerDep, settings: SettingsDep) -> Response:
    params = parameters(await request.body())
    done = await validate_technical(store, catalogue, write_rule, caller,
                                    references(params, "observation", "Observation"), _note(params),
                                    load_rules(settings.validation_rules), autoverification=settings.autoverification)
    return fhir_response({"resourceType": "Bundle", "type": "collection",
                          "entry": [{"resource": o} for o in done]})
