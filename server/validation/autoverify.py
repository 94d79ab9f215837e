"""Autoverification: a report whose results all pass the lab's rules is validated without a biologist.

Runs after technical validation when ``SGL_AUTOVERIFICATION`` is on. It waits until every active
result of the order is technically validated; then each pending result must:

- be an analysis listed in ``autoverification.analyses`` of the rules file;
- belong to a patient whose age at collection is within ``age_min``..``age_max``;
- carry exactly the interpretation ``N`` (so: inside its reference range, no critical flag, no
  delta-check flag U/D, no interpretation from another code system, a reference range exists);
- carry no instrument flag other than ``N`` in the analyzer's ``instrument-result`` extension;
- carry no comment (a technician's note asks for a biologist's reading).

If all pass, in one transaction: the results become ``final`` and the report ``final``, each
tagged ``autoverified`` (marks.py: what the CR-Bio writer reads for SGL.DOC.09), with a Provenance
``autoverification`` whose agent is the rules file. A later ``$validate-biological`` by a
biologist removes the tag (the Provenance history keeps the fact). Otherwise nothing is written and
the reasons are logged; the report waits for a biologist.
"""

from __future__ import annotations

import logging
from typing import Any

from resources.fhirjson import instant
from resources.interactions import WriteRule
from resources.search.date import now_utc
from resources.store.base import FhirStore
from server.stored_catalog import CatalogRepository
from server.validation.definitions import result_context
from server.validation.marks import (
    AUTOVERIFIED,
    FINAL_STATES,
    INTERPRETATION_SYSTEM,
    TECHNICAL,
    has_step,
    instrument_flags,
    interpretation_codes,
    with_step,
)
from server.validation.provenance import provenance, rules_agent
from server.validation.report import order_results, refreshed
from server.validation.rules import ValidationRules
from server.validation.steps import retried, workflow_step

log = logging.getLogger(__name__)


async def refusals(store: FhirStore, catalogue: CatalogRepository, observation: dict[str, Any],
                   rules: ValidationRules) -> list[str]:
    """Why this technically validated result cannot be validated automatically (empty: it can)."""
    ctx = await result_context(store, catalogue, observation)
    reasons = []
    if ctx.analysis_code not in rules.autoverifiable:
        reasons.append(f"analysis {ctx.analysis_code!r} is not eligible")
    if ctx.age is None or (rules.age_min is not None and ctx.age < rules.age_min) \
            or (rules.age_max is not None and ctx.age > rules.age_max):
        reasons.append(f"patient age {ctx.age} outside the autoverification range")
    if interpretation_codes(observation) != {(INTERPRETATION_SYSTEM, "N")}:
        reasons.append(f"interpretation {sorted(interpretation_codes(observation))} is not exactly N")
    if instrument_flags(observation):
        reasons.append(f"instrument flag(s) {instrument_flags(observation)}")
    if observation.get("note"):
        reasons.append("the result carries a comment")
    return reasons


@retried
async def autoverify_report(store: FhirStore, catalogue: CatalogRepository, write_rule: WriteRule | None,
                            report_id: str, rules: ValidationRules) -> bool:
    """Validate the report automatically if all its results pass; True when it did."""
    report = (await store.read("DiagnosticReport", report_id)).resource or {}
    if report.get("status") in FINAL_STATES:
        return False
    results = [r for r in await order_results(store, report) if r.get("status") not in ("cancelled",
                                                                                          "entered-in-error")]
    pending = [r for r in results if r.get("status") == "preliminary" and has_step(r, TECHNICAL)]
    waiting = [r for r in results if r.get("status") not in FINAL_STATES and r not in pending]
    if not pending or waiting:
        return False
    for observation in pending:
        reasons = await refusals(store, catalogue, observation, rules)
        if reasons:
            log.info("DiagnosticReport/%s not autoverified: Observation/%s: %s", report_id, observation["id"],
                     "; ".join(reasons))
            return False
    at = instant(now_utc())
    async with workflow_step(store, write_rule, "autoverification") as writer:
        for observation in pending:
            await writer.update(with_step({**observation, "status": "final", "issued": at}, AUTOVERIFIED))
        results = await order_results(store, report, session=writer.session)
        await writer.update(refreshed(report, results, issued=at))
        targets = list(writer.written)
        await writer.create(provenance("autoverification", rules_agent(rules.source), targets))
    log.info("DiagnosticReport/%s autoverified (%d results)", report_id, len(pending))
    return True
