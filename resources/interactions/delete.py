"""delete: the resource leaves searches and reads give 410, its versions stay in history."""

from __future__ import annotations

from resources.errors import NotFound
from resources.interactions.common import check_id, check_type, version_from_etag
from resources.interactions.outcome import Outcome
from resources.interactions.write_rules import WriteIntent, WriteRule
from resources.store.base import FhirStore, StoreSession


async def delete(store: FhirStore, resource_type: str, rid: str, *, if_match: str | None = None,
                 session: StoreSession | None = None, write_rule: WriteRule | None = None) -> Outcome:
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
    stored = await store.delete(resource_type, rid, expected_vid=expected, session=session)
    if stored is None:
        return Outcome(204)
    out = Outcome.of(204, stored)
    out.resource = None
    return out
