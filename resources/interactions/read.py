"""read and vread."""

from __future__ import annotations

from resources.errors import InvalidInput
from resources.interactions.common import check_id, check_type
from resources.interactions.outcome import Outcome
from resources.store.base import FhirStore


async def read(store: FhirStore, resource_type: str, rid: str) -> Outcome:
    check_type(resource_type)
    check_id(rid)
    return Outcome.of(200, await store.read(resource_type, rid))


async def vread(store: FhirStore, resource_type: str, rid: str, vid: str) -> Outcome:
    check_type(resource_type)
    check_id(rid)
    if not vid.isdigit():
        raise InvalidInput(f"version {vid!r} is not a number", expression="vid")
    return Outcome.of(200, await store.vread(resource_type, rid, int(vid)))
