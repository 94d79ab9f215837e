"""Find the Patient an IPP names, in the store, inside the caller's transaction if any."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from facades.hl7v2.pam import Ipp
from resources.errors import Conflict
from resources.interactions import Outcome
from resources.interactions.search import matching_ids
from resources.store.base import FhirStore, StoreSession


class DuplicateIpp(Conflict):
    """Several Patients hold the same IPP: a person must merge them before the feed can go on."""


@dataclass(frozen=True)
class Found:
    id: str
    etag: str
    resource: dict[str, Any]


async def find_by_ipp(store: FhirStore, ipp: Ipp, *, session: StoreSession | None = None) -> Found | None:
    """The Patient holding ``ipp`` (current or ``old`` use), None when nobody does."""
    ids = await matching_ids(store, "Patient", ipp.query(), session=session)
    if len(ids) > 1:
        raise DuplicateIpp(f"several Patients hold the IPP {ipp.value} of {ipp.system}: merge them first",
                           expression=ipp.location.expression())
    if not ids:
        return None
    stored = await store.read("Patient", ids[0], session=session)
    return Found(stored.id, stored.etag, stored.resource or {})


def written(outcome: Outcome) -> str:
    """``Patient/<id>`` of what an interaction wrote."""
    if outcome.stored is None:
        raise RuntimeError("a write interaction returned no stored version")
    return f"{outcome.stored.resource_type}/{outcome.stored.id}"
