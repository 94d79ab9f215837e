"""Small checks shared by the interactions."""

from __future__ import annotations

import re
from typing import Any

from resources.errors import InvalidInput, NotFound
from resources.search.params import RESOURCE_TYPES

_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_ETAG = re.compile(r'^(?:W/)?"(\d+)"$')


def check_type(resource_type: str) -> None:
    if resource_type not in RESOURCE_TYPES:
        raise NotFound(f"resource type {resource_type!r} is not supported by this server; see /metadata")


def check_id(rid: str) -> None:
    if not _ID.match(rid):
        raise InvalidInput(f"{rid!r} is not a valid FHIR id", expression="id")


def check_body_type(body: dict[str, Any], resource_type: str) -> None:
    if body.get("resourceType") != resource_type:
        raise InvalidInput(f"the body is a {body.get('resourceType')!r}, the URL says {resource_type}",
                           expression="resourceType")


def version_from_etag(value: str | None) -> int | None:
    """``W/"3"`` -> 3; None when absent."""
    if value is None:
        return None
    m = _ETAG.match(value.strip())
    if not m:
        raise InvalidInput(f"If-Match {value!r} is not an ETag like W/\"3\"", expression="If-Match")
    return int(m.group(1))
