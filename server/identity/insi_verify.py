"""``POST /fhir/Patient/{id}/$insi-verify``: check a stored INS against the INSi (SGL.INS.42-43).

OK leaves the identity as it is. KO downgrades it one level (RECUP -> PROV, QUAL -> VALI), retires
the matricule and OID (kept as ``old``) and puts the patient on the identity worklist (a Task
``identity-verification``) with the reasons (SGL.INS.43). The call and its result are traced
(SGL.INS.42). The bulk check (SGL.INS.58) runs :func:`verify_patient` for each identity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from facades.insi import InsiClient, Verification, stored_identity
from resources.fhirjson import instant
from resources.ins import identity_status
from resources.search.date import now_utc
from server.identity.attestation import Attestation
from server.identity.insi_service import Subject, caller_for_insi, open_insi
from server.identity.parameters import parameters
from server.identity.roles import Right
from server.identity.scope import Scope, refuse_if_doubtful
from server.identity.status import ONE_LEVEL_DOWN

WORKLIST_SYSTEM = "https://opensgl.org/fhir/CodeSystem/worklist"
VERIFICATION_TASK = "identity-verification"


@dataclass(frozen=True)
class Checked:
    verification: Verification
    before: str
    patient: dict[str, Any]
    task: dict[str, Any] | None


def worklist_task(pid: str, reasons: tuple[str, ...]) -> dict[str, Any]:
    return {
        "resourceType": "Task",
        "status": "requested",
        "intent": "order",
        "priority": "urgent",
        "code": {"coding": [{"system": WORKLIST_SYSTEM, "code": VERIFICATION_TASK,
                             "display": "INSi verification KO: identity to review"}]},
        "focus": {"reference": f"Patient/{pid}"},
        "for": {"reference": f"Patient/{pid}"},
        "authoredOn": instant(now_utc()),
        "description": "; ".join(reasons)[:2000],
    }


async def verify_patient(scope: Scope, insi: InsiClient, patient: dict[str, Any], vid: int) -> Checked:
    """Verify one stored identity and act on a KO."""
    refuse_if_doubtful(patient)
    who = await caller_for_insi(scope.settings, scope.store, scope.caller)
    result = await insi.verify(stored_identity(patient), who)
    before = identity_status(patient)
    if result.ok:
        return Checked(result, before, patient, None)
    status = ONE_LEVEL_DOWN[before]
    reason = f"SGL.INS.43 INSi verification KO: {'; '.join(result.reasons)}"
    written = await scope.write({**patient}, vid, Attestation(patient["id"], status, reason))
    task = await scope.store.create(worklist_task(patient["id"], result.reasons))
    return Checked(result, before, written, task.resource)


async def insi_verify(scope: Scope, pid: str) -> dict[str, Any]:
    scope.profile.require(Right.SEE)
    scope.profile.require(Right.INSI, expression="Patient/$insi-verify")
    patient, vid = await scope.patient(pid)
    refuse_if_doubtful(patient)
    async with open_insi(scope.settings, scope.store, Subject(pid)) as insi:
        checked = await verify_patient(scope, insi, patient, vid)
    return parameters(("result", checked.verification.status),
                      *[("reason", r) for r in checked.verification.reasons],
                      ("status", identity_status(checked.patient)), ("patient", checked.patient),
                      ("task", checked.task))
