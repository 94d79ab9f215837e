"""What a merge carries over: the merged identity's data re-pointed to the identity kept.

One merge path for both doors (``POST /fhir/Patient/$merge`` and the feed's ADT^A40): each writes its two
Patient versions, then calls ``carry_over`` in the same transaction. Every request, specimen, result, report,
document, communication, consent and task whose subject (``patient`` for Consent, ``for`` for Task) is the
merged Patient gets a new version pointing at the kept one (FHIR ``Patient/$merge``: "all clinical resources
that reference the source patient are updated"; PAM-FR A40: the surviving identity carries the stays and
results). History keeps the old versions with the old reference; the AuditEvent of the merge lists every
re-pointed version, so the merge can be read back resource by resource.

Why one transaction and not resumable batches: a lab duplicate holds weeks to years of one person's data (a
chronic follow-up is some hundreds to a few thousand resources), which one MongoDB transaction takes; a crash
then leaves the merge wholly undone (the partner re-sends the A40, the user re-runs ``$merge``), never half
done. Past ``MAX_CARRIED`` resources the merge is refused (422) with the count, before anything is written.

The re-pointing bypasses the write rules on purpose: it changes only the subject, never a value, status or
signature, and its permission is the merge's (``Patient:$merge`` or the feed's ``source-identite``). It is not
a new delivery either: a CR-Bio already sent stays the document issued for the identity of the time (its PDF/CDA
attachment is not regenerated; only the index ``DocumentReference.subject`` follows the merge). The next version
of the report (a correction) is composed from the report's current subject, so it carries the kept identity.
"""

from __future__ import annotations

from resources.errors import RuleViolation
from resources.interactions.search import plan_search
from resources.search.query import SearchRequest
from resources.store.base import FhirStore, StoreSession
from server.access.caller import Caller
from server.audit import audit_event

CARRIED: tuple[tuple[str, str | None, str], ...] = (
    ("ServiceRequest", "subject", "subject"),
    ("Specimen", "subject", "subject"),
    ("Observation", "subject", "subject"),
    ("DiagnosticReport", "subject", "subject"),
    ("DocumentReference", "subject", "subject"),
    ("Communication", "subject", "subject"),
    ("Consent", "patient", "patient"),
    ("Task", None, "for"),  # Task has no patient search parameter here: its stored element is queried
)
"""(type, search parameter naming the patient, element holding the reference)."""
MAX_CARRIED = 5000


async def _ids(store: FhirStore, rtype: str, param: str | None, element: str, ref: str, *,
               session: StoreSession) -> list[str]:
    if param is None:
        request = SearchRequest(rtype, {f"r.{element}.reference": ref}, ("_id", 1))
    else:
        request = await plan_search(store, rtype, [(param, ref)], strict=True, session=session)
    return await store.search_ids(request, limit=MAX_CARRIED + 1, session=session)


async def carry_over(store: FhirStore, merged_id: str, kept_id: str, *, session: StoreSession) -> list[str]:
    """Re-point the merged Patient's data to the kept one; the versioned references written, in order."""
    old, new = f"Patient/{merged_id}", f"Patient/{kept_id}"
    found = [(rtype, element, rid) for rtype, param, element in CARRIED
             for rid in await _ids(store, rtype, param, element, old, session=session)]
    if len(found) > MAX_CARRIED:
        raise RuleViolation("RNIV", f"{old} holds more than {MAX_CARRIED} resources: too many to merge in one "
                                    "transaction; nothing was merged",
                            expression="Parameters.parameter('source-patient')")
    written: list[str] = []
    for rtype, element, rid in found:
        stored = await store.read(rtype, rid, session=session)
        body = dict(stored.resource or {})  # same snapshot as the search: it still names the merged Patient
        body[element] = {"reference": new}  # the old display/identifier named the merged identity
        done, _ = await store.update(body, expected_vid=stored.vid, session=session)
        written.append(f"{rtype}/{rid}/_history/{done.vid}")
    return written


async def complete_merge(store: FhirStore, merged_id: str, kept_id: str, *, who: Caller, via: str,
                         session: StoreSession) -> list[str]:
    """After both Patient versions are written: carry the data over and audit the merge with every version
    it re-pointed. Both merge doors end here, in their transaction, so they leave the same stored state."""
    carried = await carry_over(store, merged_id, kept_id, session=session)
    await store.create(audit_event([kept_id, merged_id], who=who, interaction="update",
                                   query=f"{via} Patient/{merged_id} -> Patient/{kept_id}", others=tuple(carried)),
                       session=session)
    return carried
