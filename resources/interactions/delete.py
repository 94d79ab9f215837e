"""delete: the resource leaves searches and reads give 410, its versions stay in history."""

from __future__ import annotations

from typing import Any

from resources.interactions.common import check_id, check_type, version_from_etag
from resources.interactions.outcome import Outcome
from resources.store.base import FhirStore


async def delete(store: FhirStore, resource_type: str, rid: str, *, if_match: str | None = None,
                 session: Any = None) -> Outcome:
    check_type(resource_type)
    check_id(rid)
    stored = await store.delete(resource_type, rid, expected_vid=version_from_etag(if_match), session=session)
    if stored is None:
        return Outcome(204)
    out = Outcome.of(204, stored)
    out.resource = None
    return out
