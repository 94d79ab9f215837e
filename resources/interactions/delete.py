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
from resources.interactions.write_rules import WriteIntent, WriteRule
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
    expected = version_from_etag(if_match)
    if write_rule is not None:
        try:
            current = await store.read(resource_type, rid, session=session)
        except NotFound:
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
        return Outcome(204)
    out = Outcome.of(204, stored)
    out.resource = None
    return out
