"""What an interaction returns: a status, a resource, and the headers FHIR clients rely on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC
from email.utils import format_datetime
from typing import Any

from resources.store.base import Stored


@dataclass
class Outcome:
    status: int
    resource: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    stored: Stored | None = None

    @classmethod
    def of(cls, status: int, stored: Stored, *, location: bool = False) -> Outcome:
        headers = {"ETag": stored.etag,
                   "Last-Modified": format_datetime(stored.last_updated.replace(tzinfo=UTC), usegmt=True)}
        if location:
            headers["Location"] = f"{stored.resource_type}/{stored.id}/_history/{stored.vid}"
        return cls(status, stored.resource, headers, stored)
