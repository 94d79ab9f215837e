"""create and conditional create (``If-None-Exist``).

A conditional create is decided by the database, not by read-then-write: the search and the insert run
in one transaction that also writes a claim document keyed by the type and the canonical query
(``store.claim``). Of concurrent identical requests one transaction commits; the others conflict on the
claim, run again, find the winner and answer 200 with it. Inside a caller's transaction (a transaction
Bundle) the claim is made in that transaction and a conflict aborts it (409: the client retries).

A create checked by a write rule runs in one transaction when the caller gave none, like an update: the
rule is told of the stored resource afterwards (``after_write``) and what it writes then (a refused tube's
notice and its outbox item) commits with the resource or not at all.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from typing import Any
from urllib.parse import parse_qsl, urlencode

from resources.conformance import validated, validated_all
from resources.errors import Conflict, PreconditionFailed, WriteConflict
from resources.interactions.common import check_body_type, check_type
from resources.interactions.outcome import Outcome
from resources.interactions.references import ReferenceCheck, Target
from resources.interactions.search import matching_ids
from resources.interactions.write_rules import AccessCheck, WriteIntent, WriteRule, after_write, apply_write_rule
from resources.store.base import FhirStore, Stored, StoreSession
from resources.store.transactions import run_in_transaction

CONDITIONAL_ATTEMPTS = 30


def conditional_key(resource_type: str, query: str) -> str:
    """The claim key of a conditional create: the same criteria in any order give the same key."""
    pairs = sorted(parse_qsl(query.lstrip("?"), keep_blank_values=True))
    return hashlib.sha256(f"{resource_type}?{urlencode(pairs)}".encode()).hexdigest()


async def create(store: FhirStore, resource_type: str, body: Any, *, if_none_exist: str | None = None,
                 session: StoreSession | None = None, write_rule: WriteRule | None = None,
                 rid: str | None = None, access: AccessCheck | None = None,
                 references: ReferenceCheck | None = None) -> Outcome:
    """Validate, run the write rule, check the references (``references``: this server's base, or a check
    deferred to the end of the caller's transaction), store version 1 (under ``rid`` when a transaction chose
    it); ``access`` checks the ``If-None-Exist`` search (see ``matching_ids``)."""
    check_type(resource_type)
    refs = references or ReferenceCheck()
    if write_rule is not None and session is None and not if_none_exist:
        return await run_in_transaction(store, lambda s: create(store, resource_type, body, session=s,
                                                                write_rule=write_rule, rid=rid, references=refs),
                                        what=f"create of {resource_type}")
    resource = await validated(body)
    check_body_type(resource, resource_type)
    if not if_none_exist:
        prepared = await prepare_create(resource, session=session, write_rule=write_rule)
        await refs.check(store, prepared, session)
        return Outcome.of(201, await _written(store, prepared, session, write_rule, rid), location=True)
    if session is not None:
        return await _create_unless_exists(store, resource, if_none_exist, session, write_rule, rid, access, refs)
    for attempt in range(CONDITIONAL_ATTEMPTS):
        try:
            async with store.transaction() as own:
                return await _create_unless_exists(store, resource, if_none_exist, own, write_rule, rid, access,
                                                   refs)
        except WriteConflict:
            await asyncio.sleep(random.uniform(0.005, 0.02) * min(attempt + 1, 10))
    raise Conflict(f"If-None-Exist {if_none_exist!r}: too many concurrent creates of the same {resource_type}; retry",
                   expression="If-None-Exist")


async def _create_unless_exists(store: FhirStore, resource: dict[str, Any], query: str, session: StoreSession | None,
                                write_rule: WriteRule | None, rid: str | None, access: AccessCheck | None,
                                refs: ReferenceCheck) -> Outcome:
    rtype = resource["resourceType"]
    ids = await matching_ids(store, rtype, query, session=session, access=access)
    if len(ids) > 1:
        raise PreconditionFailed(f"If-None-Exist {query!r} matches several {rtype}", expression="If-None-Exist")
    if ids:
        return Outcome.of(200, await store.read(rtype, ids[0], session=session), location=True)
    await store.claim(conditional_key(rtype, query), session=session)
    prepared = await prepare_create(resource, session=session, write_rule=write_rule)
    await refs.check(store, prepared, session)
    return Outcome.of(201, await _written(store, prepared, session, write_rule, rid), location=True)


async def _written(store: FhirStore, prepared: dict[str, Any], session: StoreSession | None,
                   write_rule: WriteRule | None, rid: str | None) -> Stored:
    """Store version 1 and tell the write rule (in ``session``) what was stored."""
    stored = await store.create(prepared, session=session, rid=rid)
    await created(write_rule, stored, session)
    return stored


async def created(write_rule: WriteRule | None, stored: Stored, session: StoreSession | None) -> None:
    """``after_write`` of a create: the rule sees the new resource with its id."""
    if write_rule is not None and stored.resource is not None:
        await after_write(write_rule, WriteIntent(stored.resource_type, "create", None, stored.resource, session))


async def create_many(store: FhirStore, items: list[tuple[dict[str, Any], str | None]], *,
                      session: StoreSession | None = None,
                      write_rule: WriteRule | None = None, references: ReferenceCheck | None = None) -> list[Outcome]:
    """Create several resources at once (``(body, rid)`` pairs, rid None for a new id): each is validated
    and ruled like ``create``, their references checked together (one lookup per referenced type; one to a
    resource of the batch itself, its id chosen up front, resolves unread: a worklist Task names its result),
    then all are written in bulk. Give a ``session`` to make it all or nothing."""
    checked = await validated_all([body for body, _ in items])
    ready = [(await _ruled(body, session, write_rule), rid) for body, (_, rid) in zip(checked, items, strict=True)]
    refs = references or ReferenceCheck()
    refs.known.update(Target(r["resourceType"], rid) for r, rid in ready if rid)  # the batch may name itself
    for resource, _ in ready:
        refs.record(resource)
    await refs.settle(store, session)
    written = await store.create_many(ready, session=session)
    for stored in written:
        await created(write_rule, stored, session)
    return [Outcome.of(201, stored, location=True) for stored in written]


async def prepare_create(body: Any, *, session: StoreSession | None = None,
                         write_rule: WriteRule | None = None) -> dict[str, Any]:
    """What ``create`` does before writing: validate, drop the client id, run the write rule."""
    return await _ruled(await validated(body), session, write_rule)


async def _ruled(checked: dict[str, Any], session: StoreSession | None, write_rule: WriteRule | None) -> dict[str, Any]:
    """A validated body without its client id, through the write rule."""
    resource = {k: v for k, v in checked.items() if k != "id"}
    ruled = await apply_write_rule(write_rule, WriteIntent(resource["resourceType"], "create", None, resource, session))
    return ruled or resource
