"""Who wrote what, when: a Provenance per step of the order workflow.

The Provenance names the exact versions written (``Type/id/_history/n``), the caller as the
``enterer`` (until Pro Santé Connect login, the client identity and role from settings) and the
activity (HL7 v3 DataOperation CREATE / UPDATE). Together with the store's version history it
is the trace a changed refusal keeps.
"""

from __future__ import annotations

from typing import Any

from resources.fhirjson import instant
from resources.interactions import Outcome
from resources.search.date import now_utc
from resources.store.base import Stored
from server.access.agents import caller_reference
from server.access.caller import Caller


def provenance(written: list[Stored], caller: Caller, activity: str, reason: str) -> dict[str, Any]:
    """A Provenance for the versions in ``written``; ``activity`` is ``CREATE`` or ``UPDATE``."""
    return {
        "resourceType": "Provenance",
        "target": [{"reference": f"{s.resource_type}/{s.id}/_history/{s.vid}"} for s in written],
        "recorded": instant(now_utc()),
        "activity": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation",
                                 "code": activity}]},
        "reason": [{"text": reason}],
        "agent": [{
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                                 "code": "enterer", "display": "Enterer"}]},
            "role": [{"text": caller.role}],
            "who": caller_reference(caller),
        }],
    }


def stored_of(outcome: Outcome) -> Stored:
    """The version a create or update wrote (they always say; a read-only outcome is a defect here)."""
    if outcome.stored is None:
        raise RuntimeError(f"expected a written version, got a {outcome.status} outcome without one")
    return outcome.stored
