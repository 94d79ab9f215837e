"""Who did which validation step, when: one ``Provenance`` per step, written in the step's transaction.

``target`` lists every resource the step wrote, as versioned references (``Observation/x/_history/3``)
so the record points at exactly what was validated; ``activity`` is a code of ``ACTIVITY_SYSTEM``;
the agent is the caller (user id and role), or the autoverification rules for an automatic step.
"""

from __future__ import annotations

from typing import Any

from resources.fhirjson import instant
from resources.search.date import now_utc
from resources.store.base import Stored
from server.access.agents import caller_reference
from server.access.caller import Caller
from server.validation.marks import BASE

ACTIVITY_SYSTEM = f"{BASE}/CodeSystem/validation-activity"
ACTIVITIES = {
    "technical-validation": "Validation technique",
    "rerun": "Repasse / dilution",
    "biological-validation": "Validation biologique",
    "biological-review": "Revue biologique d'un résultat validé automatiquement",
    "autoverification": "Validation automatique selon les règles du laboratoire",
    "correction": "Correction d'un résultat validé",
    "withdrawal": "Retrait d'un compte rendu validé",
}
_PARTICIPANT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
RULES_SYSTEM = f"{BASE}/sid/regles-validation"


def user_agent(caller: Caller, kind: str = "verifier", who: dict[str, Any] | None = None) -> dict[str, Any]:
    """The authenticated caller as the step's agent (``who``: the validating biologist's reference when known)."""
    return {"type": {"coding": [{"system": _PARTICIPANT, "code": kind}]},
            "role": [{"text": caller.role}], "who": who or caller_reference(caller)}


def rules_agent(rules_source: str) -> dict[str, Any]:
    return {"type": {"coding": [{"system": _PARTICIPANT, "code": "verifier"}]},
            "who": {"identifier": {"system": RULES_SYSTEM, "value": rules_source},
                    "display": f"Autovalidation OpenSGL ({rules_source})"}}


def provenance(activity: str, agent: dict[str, Any], targets: list[Stored],
               reason: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resourceType": "Provenance",
        "target": [{"reference": f"{s.resource_type}/{s.id}/_history/{s.vid}"} for s in targets],
        "recorded": instant(now_utc()),
        "activity": {"coding": [{"system": ACTIVITY_SYSTEM, "code": activity, "display": ACTIVITIES[activity]}]},
        "agent": [agent],
    }
    if reason:
        out["reason"] = [{"text": reason}]
    return out
