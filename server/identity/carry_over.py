"""What a merge carries over: the merged identity's data re-pointed to the identity kept.

One merge path for both doors (``POST /fhir/Patient/$merge`` and the feed's ADT^A40): each writes its two
Patient versions, then calls ``carry_over`` in the same transaction. Every resource that references the merged
Patient, wherever the reference sits (``repoint.py``), gets a new version pointing at the kept one (FHIR
``Patient/$merge``: "all clinical resources that reference the source patient are updated"; PAM-FR A40: the
surviving identity carries the stays and results). History keeps the old versions with the old reference; the
AuditEvent of the merge lists every re-pointed version, so the merge can be read back resource by resource.

Which types, and why (every type the server stores, ``resources/search/params.py``):

- re-pointed: the lab's data and what hangs on it: Encounter (the stay), ServiceRequest, Specimen, Observation,
  DiagnosticReport, DocumentReference (the index entry; the CR-Bio already sent is not re-issued), Communication,
  Consent, Task, and any other stored type that happens to reference the Patient (a Binary's
  ``securityContext``, a catalogue or directory resource carrying an extension);
- not rewritten (``links.NEVER_REPOINTED``): Patient (the ``replaces``/``replaced-by`` links are the merge's
  own record), AuditEvent and Provenance (the trail says what was done to which identity at the time: history
  is not rewritten, SGL.INS.17);
- not stored by this server (Condition, Appointment, Coverage, Flag, AllergyIntolerance...): a create is refused
  (404, unknown type), so there is nothing of theirs to re-point.

Found through indexes only: each reference parameter that may name a Patient, plus ``o`` (the Patient references
no parameter indexes, ``resources/search/links.py``); Task through its R4 ``subject`` parameter (``Task.for``).

Why one transaction and not resumable batches: a lab duplicate holds weeks to years of one person's data (a
chronic follow-up is some hundreds to a few thousand resources), which one MongoDB transaction takes; a crash
then leaves the merge wholly undone (the partner re-sends the A40, the user re-runs ``$merge``), never half
done. Past ``MAX_CARRIED`` resources the merge is refused (422) with the count, before anything is written.

The re-pointing bypasses the write rules on purpose: it changes only references to the patient, never a value,
status or signature, and its permission is the merge's (``Patient:$merge`` or the feed's ``source-identite``).
It is not a new delivery either: a CR-Bio already sent stays the document issued for the identity of the time
(its PDF/CDA attachment is not regenerated; only the index ``DocumentReference.subject`` follows the merge). The
next version of the report (a correction) is composed from the report's current subject, so it carries the kept
identity.
"""

from __future__ import annotations

from typing import Any

from resources.errors import RuleViolation
from resources.search import links
from resources.search.params import RESOURCE_TYPES, params_for
from resources.search.query import SearchRequest
from resources.store.base import FhirStore, StoreSession
from server.access.caller import Caller
from server.audit import audit_event
from server.identity.repoint import repointed

MAX_CARRIED = 5000


def carried_fields(rtype: str) -> list[str]:
    """The indexed stored fields through which a resource of ``rtype`` may name a Patient."""
    fields = [p.field for p in params_for(rtype).values()
              if p.type == "reference" and not p.alias_of and (not p.targets or "Patient" in p.targets)]
    return [*fields, links.FIELD]


CARRIED: dict[str, list[str]] = {t: carried_fields(t) for t in RESOURCE_TYPES if t not in links.NEVER_REPOINTED}


async def _found(store: FhirStore, ref: str, *, session: StoreSession) -> dict[tuple[str, str], dict[str, Any]]:
    """(type, id) -> current version of every resource naming ``ref``: one indexed query per field (no ``$or``:
    SecantusDB's planner would scan), which brings the resources themselves (no read per resource), stopping once
    past the bound."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for rtype, fields in CARRIED.items():
        for field in fields:
            request = SearchRequest(rtype, {field: ref}, ("_id", 1), count=MAX_CARRIED + 1)
            for resource in (await store.search(request, session=session)).matches:
                found[(rtype, str(resource["id"]))] = resource
            if len(found) > MAX_CARRIED:
                return found
    return found


async def carry_over(store: FhirStore, merged_id: str, kept_id: str, *, session: StoreSession) -> list[str]:
    """Re-point the merged Patient's data to the kept one; the versioned references written, in order."""
    old = f"Patient/{merged_id}"
    found = await _found(store, old, session=session)
    if len(found) > MAX_CARRIED:
        raise RuleViolation("RNIV", f"{old} holds more than {MAX_CARRIED} resources: too many to merge in one "
                                    "transaction; nothing was merged",
                            expression="Parameters.parameter('source-patient')")
    kept: dict[str, Any] = (await store.read("Patient", kept_id, session=session)).resource or {"id": kept_id}
    written: list[str] = []
    for (rtype, rid), resource in found.items():
        vid = int(resource["meta"]["versionId"])  # the version the search read, in this transaction's snapshot
        done, _ = await store.update(repointed(resource, merged_id, kept), expected_vid=vid, session=session)
        if done.vid != vid:
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
