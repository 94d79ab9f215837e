"""``POST /fhir/Patient/$merge``: a user merges a duplicate identity into the one that stays (RNIV).

Parameters in: ``source-patient`` (the duplicate, merged away) and ``target-patient`` (the identity that
stays), both ``valueReference``, as in the FHIR R5 ``Patient/$merge``; the identity write rules still apply.

- The surviving identity is the one with the highest status (QUAL above VALI/RECUP above PROV): a merge
  that would keep the lower one is refused (422) with the way round to do it. The survivor keeps its
  status, INS and traits; nothing of the merged identity is copied onto it (a strict trait only changes
  by the identity workflow, with its own checks).

  Checked against /work/shared/reference/identity.md §1.4 ("Rules worth implementing"): "After a merge,
  identities that were not VIDE/PROV are demoted and their identity sources deactivated [S: MB CPatient::merge
  must_demote]". Read at that source (Mediboard ``CPatient::merge``, commit 8c3438fa), the demotion runs only
  when one identity was not VIDE/PROV *and* the merge changed a strict trait of the kept identity
  (``getTraitsStrictsModified``, then ``PatientStatus::demotePatientStatus``); only the merged identity's
  sources are deactivated. This merge never changes the survivor's strict traits, so its status stays; a strict
  trait edited later downgrades it through the write rule (SGL.INS.32-33), as in the source. Keeping the
  higher status follows §1.4 too: "only a QUAL identity may reference or exchange data with the INS", so
  keeping the lower one would cut the carried results off their INS. The merged identity is deactivated
  (``active`` false, ``replaced-by``). The A40 door writes the survivor as the identity source sends it
  (SGL.INS.39: the GAM decides), and a change of strict trait in that PID is judged by the same write rule.
- Two identities carrying different INS are two people: refused. So are an identity already merged
  (``replaced-by``) or inactive, and a merge of an identity into itself.
- The merged Patient becomes inactive with a ``replaced-by`` link to the survivor, the survivor gets a
  ``replaces`` link: both writes, through the write rules (which also tell the partners, ADT^A40,
  ``server/delivery/identity_updates.py``) and the AuditEvent naming both patients, commit in one
  transaction or not at all.
- Stays, requests, specimens, results, reports, documents and tasks of the merged Patient (every reference to
  it, contained ones included, with display and identifier rebuilt) are re-pointed to the survivor in the same
  transaction, and the AuditEvent lists every version written (``carry_over.py``, shared with the feed's
  ADT^A40): a search or a delta check on the survivor sees them. A CR-Bio already sent is not re-issued.

Who may merge is a row of the permission table (``$merge``): a merge decides whose results are whose.
"""

from __future__ import annotations

from typing import Any

from resources.errors import InvalidInput, PreconditionFailed, RuleViolation
from resources.ins import identity_status, ins_identifier
from resources.interactions import update
from resources.store.base import StoreSession
from resources.store.transactions import retry_conflicts
from server.access.permissions import authorize
from server.identity.carry_over import complete_merge
from server.identity.parameters import Params, parameters, where
from server.identity.scope import Scope

RANK = {"PROV": 0, "RECUP": 1, "VALI": 1, "QUAL": 2}


def links(patient: dict[str, Any], kind: str) -> list[str]:
    return [str((link.get("other") or {}).get("reference", "")) for link in patient.get("link", ())
            if link.get("type") == kind]


def check_mergeable(merged: dict[str, Any], survivor: dict[str, Any]) -> None:
    """Refuse what RNIV forbids; the message says what to do instead."""
    for label, patient, name in (("merged", merged, "source-patient"), ("surviving", survivor, "target-patient")):
        if links(patient, "replaced-by") or patient.get("active") is False:
            raise RuleViolation("RNIV", f"the {label} identity Patient/{patient['id']} is inactive or already "
                                        "merged", expression=where(name))
    a, b = ins_identifier(merged), ins_identifier(survivor)
    if a and b and a.get("value") != b.get("value"):
        raise RuleViolation("RNIV", "the two identities carry different INS: they are two people, not duplicates",
                            expression=where("source-patient"))
    lost, kept = identity_status(merged), identity_status(survivor)
    if RANK[lost] > RANK[kept]:
        raise RuleViolation("RNIV", f"the surviving identity must be the one with the highest status: "
                                    f"Patient/{merged['id']} is {lost}, Patient/{survivor['id']} only {kept}; "
                                    f"merge Patient/{survivor['id']} into Patient/{merged['id']} instead",
                            expression=where("target-patient"))


def with_link(patient: dict[str, Any], kind: str, other: str, *, active: bool | None = None) -> dict[str, Any]:
    out = {**patient, "link": [*[x for x in patient.get("link", ()) if (x.get("other") or {}).get("reference")
                                 != f"Patient/{other}"],
                               {"other": {"reference": f"Patient/{other}"}, "type": kind}]}
    if active is not None:
        out["active"] = active
    return out


MERGE_ATTEMPTS = 10
MERGE_PAUSE_S = 0.2
"""A merge lost to a rival merge tries again after a pause of up to ``MERGE_PAUSE_S * n``."""


async def merge(scope: Scope, params: Params) -> dict[str, Any]:
    authorize(scope.caller.role, "Patient", "$merge", expression="Patient/$merge")
    source = params.reference("source-patient", "Patient")
    target = params.reference("target-patient", "Patient")
    if not source or not target:
        missing = "source-patient" if not source else "target-patient"
        raise InvalidInput(f"parameter {missing!r} (valueReference to a Patient) is required",
                           expression=where(missing))
    if source == target:
        raise InvalidInput("an identity cannot be merged into itself", expression=where("target-patient"))
    # two merges racing on the same identities (A into B, B into A): the loser runs again, sees the winner's
    # commit and is refused as "already merged"; a stale version (412) is such a race too. The winner's
    # transaction carries the whole dossier over, so the loser waits longer between tries (up to ~9 s in all)
    return await retry_conflicts(lambda: _merge(scope, source, target), MERGE_ATTEMPTS, what="Patient/$merge",
                                 also=(PreconditionFailed,), pause_s=MERGE_PAUSE_S)


async def _merge(scope: Scope, source: str, target: str) -> dict[str, Any]:
    async with scope.store.transaction() as session:
        merged, survivor = await _read(scope, source, session), await _read(scope, target, session)
        check_mergeable(merged[0], survivor[0])
        done = await update(scope.store, "Patient", source, with_link(merged[0], "replaced-by", target, active=False),
                            if_match=f'W/"{merged[1]}"', session=session, write_rule=scope.write_rule)
        kept = await update(scope.store, "Patient", target, with_link(survivor[0], "replaces", source),
                            if_match=f'W/"{survivor[1]}"', session=session, write_rule=scope.write_rule)
        await complete_merge(scope.store, source, target, who=scope.caller, via="Patient/$merge", session=session)
    return parameters(("result", kept.resource), ("merged", done.resource))


async def _read(scope: Scope, pid: str, session: StoreSession) -> tuple[dict[str, Any], int]:
    stored = await scope.store.read("Patient", pid, session=session)
    return stored.resource or {}, stored.vid
