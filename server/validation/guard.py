"""Guard: a validated result changes only through the workflow (``DiagnosticReport/$correct``).

A plain PUT or DELETE on an Observation whose stored status is final / corrected / amended is
refused with rule ``VAL-01``, whatever the entry point (REST, bundle, HL7, CLI); writes made by a
validation step (see steps.py) pass, since the step itself checks the transition and records it.
"""

from __future__ import annotations

from typing import Any

from resources.errors import RuleViolation
from resources.interactions import WriteIntent
from server.guards import Caller, Guards
from server.validation.marks import FINAL_STATES
from server.validation.steps import active_step


async def final_result_locked(caller: Caller, intent: WriteIntent) -> dict[str, Any] | None:
    current = intent.current or {}
    if intent.action == "create" or current.get("status") not in FINAL_STATES or active_step() is not None:
        return intent.proposed
    raise RuleViolation("VAL-01", f"Observation/{current.get('id')} is {current.get('status')}: a validated result "
                        "is changed only through POST DiagnosticReport/{id}/$correct", expression="Observation.status")


def register_validation_guards(guards: Guards) -> None:
    guards.add("Observation", final_result_locked)
