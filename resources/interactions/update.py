"""update (``If-Match`` for optimistic locking) and conditional update.

An update checked by a write rule runs the rule and the write in one transaction when the caller gave none:
what a rule writes beside the resource (the outbox item of a patient's identity change, SGL.INS.34/36)
then commits with it or not at all, and a concurrent writer makes the whole attempt run again
(``run_in_transaction``) instead of leaving one half."""

from __future__ import annotations

from typing import Any

from resources.conformance import validated
from resources.errors import Conflict, InvalidInput, NotFound, PreconditionFailed
from resources.interactions.common import check_body_type, check_id, check_type, version_from_etag
from resources.interactions.create import create
from resources.interactions.outcome import Outcome
from resources.interactions.references import ReferenceCheck, local_references
from resources.interactions.search import matching_ids
from resources.interactions.write_rules import AccessCheck, WriteIntent, WriteRule, after_write
from resources.store.base import FhirStore, StoreSession, read_or_none
from resources.store.transactions import run_in_transaction


async def update(store: FhirStore, resource_type: str, rid: str, body: Any, *, if_match: str | None = None,
                 session: StoreSession | None = None, write_rule: WriteRule | None = None,
                 references: ReferenceCheck | None = None) -> Outcome:
    """Validate, run the write rule, check the references the current version does not hold already
    (``references``: see ``create``), then write conditioned on the version."""
    refs = references or ReferenceCheck()
    if write_rule is not None and session is None:
        return await run_in_transaction(store, lambda s: update(store, resource_type, rid, body, if_match=if_match,
                                                                session=s, write_rule=write_rule, references=refs),
                                        what=f"update of {resource_type}/{rid}")
    check_type(resource_type)
    check_id(rid)
    resource = await validated(body)
    check_body_type(resource, resource_type)
    if resource.get("id") != rid:
        raise InvalidInput(f"the body's id {resource.get('id')!r} differs from the URL's {rid!r}", expression="id")
    expected = version_from_etag(if_match)
    current: dict[str, Any] | None = None
    if write_rule is not None:
        resource, expected, current = await _rule_pinned(store, resource, expected, write_rule, session)
    elif local_references(resource, refs.base):  # the version replaced, for the references it holds already
        current = await read_or_none(store, resource_type, rid, session=session)
    await refs.check(store, resource, session, kept=current)
    try:
        stored, created = await store.update(resource, expected_vid=expected, session=session)
    except PreconditionFailed as exc:
        if if_match is None:  # the write rule checked a version that changed since: the caller may retry
            raise Conflict(f"{resource_type}/{rid} changed while being checked; retry") from exc
        raise
    if stored.resource is not None:
        await after_write(write_rule, WriteIntent(resource_type, "create" if created else "update", current,
                                                  stored.resource, session))
    return Outcome.of(201 if created else 200, stored, location=created)


async def _rule_pinned(store: FhirStore, resource: dict[str, Any], expected: int | None, write_rule: WriteRule,
                   session: StoreSession | None) -> tuple[dict[str, Any], int | None, dict[str, Any] | None]:
    """Run the write rule against the version it will replace, and pin that version for the write; also
    that version (None when the resource is new)."""
    rtype, rid = resource["resourceType"], resource["id"]
    try:
        current = await store.read(rtype, rid, session=session)
    except NotFound:
        current = None
    if current is not None and expected is not None and current.vid != expected:
        raise PreconditionFailed(f"{rtype}/{rid} is at version {current.vid}, not {expected}", expression="If-Match")
    intent = WriteIntent(rtype, "update" if current else "create", current.resource if current else None, resource,
                         session)
    ruled = await write_rule(intent) or resource
    return ruled, current.vid if current else expected, current.resource if current else None


async def conditional_update(store: FhirStore, resource_type: str, query: str, body: Any, *,
                             session: StoreSession | None = None, write_rule: WriteRule | None = None,
                             access: AccessCheck | None = None, references: ReferenceCheck | None = None) -> Outcome:
    """PUT on ``Type?criteria``: no match creates, one match updates it, several is an error; ``access`` checks
    the criteria's search (see ``matching_ids``)."""
    check_type(resource_type)
    ids = await matching_ids(store, resource_type, query, session=session, access=access)
    if len(ids) > 1:
        raise PreconditionFailed(f"{query!r} matches several {resource_type}", expression="url")
    given = body.get("id") if isinstance(body, dict) else None
    if ids:
        if given and given != ids[0]:
            raise InvalidInput(f"the body's id {given!r} is not the matching {resource_type}/{ids[0]}",
                               expression="id")
        return await update(store, resource_type, ids[0], {**body, "id": ids[0]}, session=session,
                            write_rule=write_rule, references=references)
    if given:
        return await update(store, resource_type, given, body, session=session, write_rule=write_rule,
                            references=references)
    return await create(store, resource_type, body, session=session, write_rule=write_rule, references=references)
