"""A40: merge the patient of MRG-1 into the patient of PID-3, all or nothing.

The surviving Patient is created or updated from the PID and gets a ``replaces`` link; the merged
one becomes inactive with a ``replaced-by`` link (FHIR R4 Patient.link). Both writes run in one
transaction with the carrying over of the merged Patient's data and the merge's AuditEvent
(``server.identity.carry_over.complete_merge``, the same path as ``POST /fhir/Patient/$merge``).
When MRG-1 names no stored patient (or the survivor itself) there is nothing to merge: the
survivor is written and a warning returned with the AA.
"""

from __future__ import annotations

from facades.hl7v2 import AckError
from facades.hl7v2.pam import UNKNOWN_KEY_IDENTIFIER, IdentityChange, merged_into, replacing
from resources.interactions import WriteRule, update
from resources.store.base import FhirStore
from server.access.caller import Caller
from server.identity.carry_over import complete_merge
from server.identity_feed.lookup import find_by_ipp, written
from server.identity_feed.upsert import upsert


async def merge(store: FhirStore, change: IdentityChange, *, write_rule: WriteRule,
                who: Caller) -> tuple[list[str], list[AckError]]:
    """(the ``Patient/id`` written, warnings)."""
    prior = change.prior_ipp
    assert prior is not None, "an A40 change always carries MRG-1"
    async with store.transaction() as session:
        merged = await find_by_ipp(store, prior, session=session)
        survivor = await find_by_ipp(store, change.ipp, session=session)
        if merged is None or (survivor is not None and survivor.id == merged.id):
            outcome = await upsert(store, change, write_rule=write_rule, session=session)
            reason = "no patient holds" if merged is None else "the PID-3 patient already holds"
            warning = AckError(f"{reason} the IPP {prior.value} of MRG-1: nothing was merged",
                               UNKNOWN_KEY_IDENTIFIER, "W", prior.location)
            return [written(outcome)], [warning]
        outcome = await upsert(store, change, write_rule=write_rule, session=session,
                               amend=lambda body: replacing(body, merged.id))
        survivor_ref = written(outcome)
        await update(store, "Patient", merged.id, merged_into(merged.resource, survivor_ref.removeprefix("Patient/")),
                     if_match=merged.etag, write_rule=write_rule, session=session)
        await complete_merge(store, merged.id, survivor_ref.removeprefix("Patient/"), who=who, via="ADT^A40",
                             session=session)
    return [survivor_ref, f"Patient/{merged.id}"], []
