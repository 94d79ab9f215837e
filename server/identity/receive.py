"""``POST /fhir/Patient/$receive-identity``: an identity sent by another identification domain
(an order or results from a partner) before its health data is taken in (SGL.INS.44-47).

Parameters in: ``patient`` (the Patient as received, with its INS). Out: ``result`` (``LOCAL``, ``OK``
or ``KO``), ``integrate`` (whether the health data may be taken in automatically), ``patient`` (the
local identity to attach the data to, when there is one), ``created``, and for a KO the worklist
``task``.

1. The INS already exists locally as RECUP or QUAL: that identity is used, no INSi call (SGL.INS.46).
2. Otherwise the INSi verifies the received INS and traits (traced, SGL.INS.42):
   - OK: the known local identity is used unchanged, or the received one is created as RECUP
     (traits confirmed by the INSi; QUAL needs the lab's own justificatif, SGL.INS.38);
   - KO: a known patient is not updated (SGL.INS.44); an unknown one is created without matricule
     or OID (SGL.INS.45); either way the health data is not integrated automatically and the
     identity goes on the worklist (SGL.INS.47).
"""

from __future__ import annotations

import copy
from typing import Any

from facades.insi import stored_identity
from resources import interactions
from resources.errors import InvalidInput
from resources.ins import identity_status, ins_identifier
from resources.interactions import stamped
from resources.interactions.search import plan_search
from resources.patient_traits import birth_date, birth_name, first_birth_given_name
from resources.search.query import MAX_COUNT
from server.identity.attestation import Attestation
from server.identity.duplicates import name_key
from server.identity.insi_service import Subject, caller_for_insi, open_insi
from server.identity.insi_verify import worklist_task
from server.identity.parameters import Params, parameters, where
from server.identity.roles import Right
from server.identity.scope import Scope, refuse_if_doubtful
from server.identity.status import CARRIES_INS, retire_ins
from server.identity.vocabulary import with_reliability


async def _local_by_ins(scope: Scope, matricule: str) -> list[dict[str, Any]]:
    found = await scope.store.search(await plan_search(scope.store, "Patient", [("identifier", matricule)],
                                                       strict=True))
    return [p for p in found.matches if (ins_identifier(p) or {}).get("value") == matricule]


async def _local_by_traits(scope: Scope, received: dict[str, Any]) -> dict[str, Any] | None:
    born = birth_date(received)
    if not born:
        return None
    bundle = await interactions.search(scope.store, "Patient", [("birthdate", born), ("_count", str(MAX_COUNT))],
                                       base="")
    want = (name_key(birth_name(received) or ""), name_key(first_birth_given_name(received) or ""))
    for entry in bundle.get("entry", []):
        p = entry["resource"]
        if (name_key(birth_name(p) or ""), name_key(first_birth_given_name(p) or "")) == want:
            return dict(p)
    return None


async def _create(scope: Scope, patient: dict[str, Any], attestation: Attestation) -> dict[str, Any]:
    outcome = await interactions.create(scope.store, "Patient", patient,
                                        write_rule=stamped(scope.write_rule, attestation=attestation))
    return outcome.resource or patient


async def receive_identity(scope: Scope, params: Params) -> dict[str, Any]:
    scope.profile.require(Right.EDIT, expression="Patient/$receive-identity")
    scope.profile.require(Right.INSI, expression="Patient/$receive-identity")
    received = (params.values.get("patient") or [None])[0]
    if not isinstance(received, dict) or received.get("resourceType") != "Patient":
        raise InvalidInput("parameter 'patient' must be the received Patient resource", expression=where("patient"))
    received = {k: v for k, v in copy.deepcopy(received).items() if k != "id"}
    ins = ins_identifier(received)
    if ins is None:
        raise InvalidInput("the received Patient carries no INS to verify", expression="Patient.identifier")
    local = await _local_by_ins(scope, str(ins.get("value", "")))
    qualified = [p for p in local if identity_status(p) in CARRIES_INS]
    if qualified:
        return parameters(("result", "LOCAL"), ("integrate", True), ("patient", qualified[0]), ("created", False))
    refuse_if_doubtful(received)
    async with open_insi(scope.settings, scope.store, Subject(local[0]["id"] if local else None)) as insi:
        who = await caller_for_insi(scope.settings, scope.store, scope.caller)
        verification = await insi.verify(stored_identity(received), who)
    known = local[0] if local else await _local_by_traits(scope, received)
    reasons = "; ".join(verification.reasons)
    if verification.ok:
        if known is None:
            ins_ref = f"{ins['system']}|{ins['value']}"
            known = await _create(scope, with_reliability(received, "RECUP", {}), Attestation(
                None, "RECUP", f"SGL.INS.46 received identity verified by INSi ({ins['value']})", ins=ins_ref))
            return parameters(("result", "OK"), ("integrate", True), ("patient", known), ("created", True))
        return parameters(("result", "OK"), ("integrate", True), ("patient", known), ("created", False))
    created = known is None
    if known is None:
        known = await _create(scope, with_reliability(retire_ins(received), "PROV", {}), Attestation(
            None, "PROV", f"SGL.INS.45 received identity, INSi verification KO: {reasons}"))
    task = await scope.store.create(worklist_task(known["id"], verification.reasons))
    return parameters(("result", "KO"), *[("reason", r) for r in verification.reasons], ("integrate", False),
                      ("patient", known), ("created", created), ("task", task.resource))
