"""A47: the patient known by the IPP of MRG-1 is known from now on by the IPP of PID-3.

The old IPP stays on the Patient with ``use = old`` (traceability); the PID's traits are applied
in the same write. An unknown MRG-1 IPP, or a new IPP that already belongs to another patient,
is refused without writing anything (AE 204 / 205 naming MRG-1 / PID-3).
"""

from __future__ import annotations

from facades.hl7v2.pam import IdentityChange, apply_change, with_ipp
from resources.errors import Conflict, NotFound
from resources.interactions import WriteRule, update
from resources.store.base import FhirStore
from server.identity_feed.lookup import find_by_ipp


class UnknownIpp(NotFound):
    """MRG-1 names an IPP no Patient holds."""


class IppTaken(Conflict):
    """The new IPP already belongs to another Patient: the identity domain must merge them (A40)."""


async def change_id(store: FhirStore, change: IdentityChange, *, write_rule: WriteRule) -> list[str]:
    prior = change.prior_ipp
    assert prior is not None, "an A47 change always carries MRG-1"
    async with store.transaction() as session:
        current = await find_by_ipp(store, prior, session=session)
        if current is None:
            raise UnknownIpp(f"no patient holds the IPP {prior.value} of MRG-1", expression=prior.location.expression())
        holder = await find_by_ipp(store, change.ipp, session=session)
        if holder is not None and holder.id != current.id:
            raise IppTaken(f"the new IPP {change.ipp.value} already belongs to Patient/{holder.id}",
                           expression=change.ipp.location.expression())
        body = apply_change(change, with_ipp(current.resource, prior, change.ipp))
        await update(store, "Patient", current.id, body, if_match=current.etag, write_rule=write_rule, session=session)
    return [f"Patient/{current.id}"]
