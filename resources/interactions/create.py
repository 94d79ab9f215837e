"""create and conditional create (``If-None-Exist``)."""

from __future__ import annotations

from typing import Any

from resources.errors import PreconditionFailed
from resources.interactions.common import check_body_type, check_type
from resources.interactions.guard import WriteGuard, WriteIntent, apply_guard
from resources.interactions.outcome import Outcome
from resources.interactions.search import matching_ids
from resources.store.base import FhirStore
from resources.validation import validate_resource


async def create(store: FhirStore, resource_type: str, body: Any, *, if_none_exist: str | None = None,
                 session: Any = None, guard: WriteGuard | None = None, rid: str | None = None) -> Outcome:
    """Validate, run the write guard, store version 1 (under ``rid`` when a transaction chose it)."""
    check_type(resource_type)
    resource = validate_resource(body)
    check_body_type(resource, resource_type)
    if if_none_exist:
        ids = await matching_ids(store, resource_type, if_none_exist, session=session)
        if len(ids) > 1:
            raise PreconditionFailed(f"If-None-Exist {if_none_exist!r} matches several {resource_type}",
                                     expression="If-None-Exist")
        if ids:
            return Outcome.of(200, await store.read(resource_type, ids[0], session=session), location=True)
    prepared = await prepare_create(resource, session=session, guard=guard)
    return Outcome.of(201, await store.create(prepared, session=session, rid=rid), location=True)


async def create_many(store: FhirStore, items: list[tuple[dict[str, Any], str | None]], *, session: Any = None,
                      guard: WriteGuard | None = None) -> list[Outcome]:
    """Create several resources at once (``(body, rid)`` pairs, rid None for a new id): each is validated
    and guarded like ``create``, then all are written in bulk. Give a ``session`` to make it all or nothing."""
    ready = [(await prepare_create(body, session=session, guard=guard), rid) for body, rid in items]
    return [Outcome.of(201, stored, location=True) for stored in await store.create_many(ready, session=session)]


async def prepare_create(body: Any, *, session: Any = None, guard: WriteGuard | None = None) -> dict[str, Any]:
    """What ``create`` does before writing: validate, drop the client id, run the guard."""
    resource = {k: v for k, v in validate_resource(body).items() if k != "id"}
    guarded = await apply_guard(guard, WriteIntent(resource["resourceType"], "create", None, resource, session))
    return guarded or resource
