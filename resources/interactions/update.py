"""update (``If-Match`` for optimistic locking) and conditional update."""

from __future__ import annotations

from typing import Any

from resources.errors import InvalidInput, PreconditionFailed
from resources.interactions.common import check_body_type, check_id, check_type, version_from_etag
from resources.interactions.outcome import Outcome
from resources.interactions.search import matching_ids
from resources.store.base import FhirStore
from resources.validation import validate_resource


async def update(store: FhirStore, resource_type: str, rid: str, body: Any, *, if_match: str | None = None,
                 session: Any = None) -> Outcome:
    check_type(resource_type)
    check_id(rid)
    resource = validate_resource(body)
    check_body_type(resource, resource_type)
    if resource.get("id") != rid:
        raise InvalidInput(f"the body's id {resource.get('id')!r} differs from the URL's {rid!r}", expression="id")
    stored, created = await store.update(resource, expected_vid=version_from_etag(if_match), session=session)
    return Outcome.of(201 if created else 200, stored, location=created)


async def conditional_update(store: FhirStore, resource_type: str, query: str, body: Any, *,
                             session: Any = None) -> Outcome:
    """PUT on ``Type?criteria``: no match creates, one match updates it, several is an error."""
    check_type(resource_type)
    ids = await matching_ids(store, resource_type, query, session=session)
    if len(ids) > 1:
        raise PreconditionFailed(f"{query!r} matches several {resource_type}", expression="url")
    given = body.get("id") if isinstance(body, dict) else None
    if ids:
        if given and given != ids[0]:
            raise InvalidInput(f"the body's id {given!r} is not the matching {resource_type}/{ids[0]}",
                               expression="id")
        return await update(store, resource_type, ids[0], {**body, "id": ids[0]}, session=session)
    if given:
        return await update(store, resource_type, given, body, session=session)
    check_body_type(validate_resource(body), resource_type)
    return Outcome.of(201, await store.create(body, session=session), location=True)
