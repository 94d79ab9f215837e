"""delete: the resource leaves searches and reads give 410, its versions stay in history.

A delete checked by a write rule runs the rule and the delete in one transaction when the caller gave none, as
an update does: what a rule writes beside it (the withdrawal deliveries of a report whose CR-Bio went out, so
the DMP and the partners are told) commits with the delete or not at all. A stale ``If-Match``, a refusal or a
crash after the rule ran leaves neither half; a concurrent writer makes the whole attempt run again
(``run_in_transaction``)."""

from __future__ import annotations

from resources.errors import Conflict, NotFound, PreconditionFailed
from resources.interactions.common import check_id, check_type, version_from_etag
from resources.interactions.outcome import Outcome
from resources.interactions.search import matching_ids
from resources.interactions.write_rules import AccessCheck, WriteIntent, WriteRule
from resources.store.base import FhirStore, StoreSession
from resources.store.transactions import run_in_transaction


async def delete(store: FhirStore, resource_type: str, rid: str, *, if_match: str | None = None,
                 session: StoreSession | None = None, write_rule: WriteRule | None = None) -> Outcome:
    if write_rule is not None and session is None:
        return await run_in_transaction(store, lambda s: delete(store, resource_type, rid, if_match=if_match,
                                                                session=s, write_rule=write_rule),
                                        what=f"delete of {resource_type}/{rid}")
    check_type(resource_type)
    check_id(rid)
    asked = expected = version_from_etag(if_match)
    if write_rule is not None:
        try:
            current = await store.read(resource_type, rid, session=session)
        except NotFound:
            _no_current_version(resource_type, rid, asked)
            return Outcome(204)
        await write_rule(WriteIntent(resource_type, "delete", current.resource, None, session))
        expected = expected if expected is not None else current.vid
    try:
        stored = await store.delete(resource_type, rid, expected_vid=expected, session=session)
    except PreconditionFailed as exc:
        if if_match is None:  # the write rule checked a version that changed since: the caller may retry
            raise Conflict(f"{resource_type}/{rid} changed while being checked; retry") from exc
        raise
    if stored is None:
        _no_current_version(resource_type, rid, asked)
        return Outcome(204)
    out = Outcome.of(204, stored)
    out.resource = None
    return out


def _no_current_version(resource_type: str, rid: str, expected: int | None) -> None:
    """``If-Match`` on a resource with no current version (never created, or deleted) is a false precondition:
    412 (RFC 9110 13.1.1, R4 version-aware writes), not the 204 an unconditional delete of it gets."""
    if expected is not None:
        raise PreconditionFailed(f"If-Match: {resource_type}/{rid} has no current version to match",
                                 expression="If-Match")


async def conditional_delete(store: FhirStore, resource_type: str, query: str, *, session: StoreSession | None = None,
                             write_rule: WriteRule | None = None, access: AccessCheck | None = None) -> Outcome:
    """DELETE on ``Type?criteria``, as the CapabilityStatement says (``conditionalDelete: single``): no match is
    204, one match is deleted, several is 412. A batch entry used to delete the first of several matches, an
    arbitrary one of two patients with the same identifier; the HTTP route did not exist (405)."""
    check_type(resource_type)
    ids = await matching_ids(store, resource_type, query, session=session, access=access)  # a search for the caller
    if len(ids) > 1:
        raise PreconditionFailed(f"{query!r} matches several {resource_type}: a conditional delete removes one "
                                 "resource; narrow the criteria", expression="url")
    if not ids:
        return Outcome(204)
    return await delete(store, resource_type, ids[0], session=session, write_rule=write_rule)
