"""Write rules: validation state changes only through the workflow's operations.

Whatever the entry point (REST, bundle, HL7, CLI), outside a validation step (see steps.py):

- ``VAL-01``: an Observation whose stored status is final / corrected / amended is neither updated
  nor deleted (a validated result is changed with ``POST DiagnosticReport/{id}/$correct``);
- ``VAL-14``: the value of a technically validated result is not changed (rerun it with
  ``$rerun``), and no write adds or changes a validation-step tag (marks.py), so that a tag
  always means the step really ran and was recorded by a Provenance; an update that omits the
  tags keeps them.

- ``VAL-15``: a DiagnosticReport becomes ``final`` / ``amended`` / ``corrected`` / ``appended`` only
  through ``$validate-biological`` / ``$correct`` (or autoverification), never by a plain create or
  update; a validated report is not rewritten nor deleted by a plain write (409 naming the operation).

Writes made by a validation step pass: the step itself checks the transition and records it.
"""

from __future__ import annotations

from typing import Any

from resources.codes import DMP_BLOCK_SYSTEM, DMP_VISIBILITY_SYSTEM, REPORT_VALIDATED
from resources.errors import Conflict, RuleViolation
from resources.interactions import WriteIntent
from server.access.caller import Caller
from server.validation.marks import FINAL_STATES, STEP_SYSTEM, TECHNICAL, has_step
from server.validation.params import VALUE_KEYS
from server.write_rules import WriteRules


def _steps(resource: dict[str, Any] | None) -> set[str]:
    return {t.get("code", "") for t in ((resource or {}).get("meta") or {}).get("tag", ())
            if t.get("system") == STEP_SYSTEM}


def _values(resource: dict[str, Any]) -> dict[str, Any]:
    return {k: resource[k] for k in VALUE_KEYS if k in resource}


def _kept_tags(proposed: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """An update that omits the validation tags keeps them (clients often send no ``meta``)."""
    kept = [t for t in (current.get("meta") or {}).get("tag", ()) if t.get("system") == STEP_SYSTEM]
    meta = dict(proposed.get("meta") or {})
    meta["tag"] = [*meta.get("tag", []), *kept]
    return {**proposed, "meta": meta}


async def validation_state_locked(caller: Caller, intent: WriteIntent) -> dict[str, Any] | None:
    if intent.step is not None:
        return intent.proposed
    current = intent.current or {}
    where = f"Observation/{current.get('id')}"
    if intent.action != "create" and current.get("status") in FINAL_STATES:
        raise RuleViolation("VAL-01", f"{where} is {current.get('status')}: a validated result is changed only "
                            "through POST DiagnosticReport/{id}/$correct", expression="Observation.status")
    proposed = intent.proposed
    if proposed is None:
        return proposed
    if not _steps(proposed) and _steps(current):
        proposed = _kept_tags(proposed, current)
    elif _steps(proposed) != _steps(current):
        raise RuleViolation("VAL-14", "validation tags are written only by the validation operations",
                            expression="Observation.meta.tag")
    if has_step(current, TECHNICAL) and _values(proposed) != _values(current):
        raise RuleViolation("VAL-14", f"{where} is technically validated: rerun it ($rerun) to change its value",
                            expression="Observation.value[x]")
    return proposed


def _dmp_settings_aside(report: dict[str, Any] | None) -> dict[str, Any] | None:
    """The report without its DMP masking / visibility labels and DMP blocking tag: the dossier's DMP settings
    (SGL.DOC.15, DMP.02) stay editable by a plain write after validation; the outbox sends a masking change to
    the DMP (ITI-57), a blocking change applies to the next version."""
    if report is None:
        return None
    meta = dict(report.get("meta") or {})
    meta["security"] = [s for s in meta.get("security", ()) if s.get("system") != DMP_VISIBILITY_SYSTEM]
    meta["tag"] = [t for t in meta.get("tag", ()) if t.get("system") != DMP_BLOCK_SYSTEM]
    return {**report, "meta": {k: v for k, v in meta.items() if v != []}}


async def report_validated_only_by_operations(caller: Caller, intent: WriteIntent) -> dict[str, Any] | None:
    if intent.step is not None:
        return intent.proposed
    before = (intent.current or {}).get("status")
    after = (intent.proposed or {}).get("status")
    where = f"DiagnosticReport/{(intent.current or intent.proposed or {}).get('id', '')}".rstrip("/")
    if before in REPORT_VALIDATED and _dmp_settings_aside(intent.proposed) != _dmp_settings_aside(intent.current):
        raise Conflict(f"[VAL-15] {where} is {before}: a validated report changes only through "
                       "POST DiagnosticReport/{id}/$correct", expression="DiagnosticReport.status")
    if after in REPORT_VALIDATED and after != before:
        raise Conflict(f"[VAL-15] a report becomes {after} only through POST DiagnosticReport/{{id}}/"
                       "$validate-biological (or $correct), which names the validating biologist and records a "
                       "Provenance; a plain write cannot", expression="DiagnosticReport.status")
    return intent.proposed


def register_validation_rules(write_rules: WriteRules) -> None:
    write_rules.add("Observation", validation_state_locked)
    write_rules.add("DiagnosticReport", report_validated_only_by_operations)
