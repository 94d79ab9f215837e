"""FHIR JSON in and out: fast (orjson) and canonical, so that a content hash is stable."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import orjson

from resources.errors import InvalidInput


def loads(body: bytes | str) -> Any:
    """Parse a request body, turning a JSON syntax error into a 400 that says where it broke."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"malformed JSON: {exc}") from exc


def dumps(data: Any) -> bytes:
    return orjson.dumps(data)


def content_hash(resource: dict[str, Any]) -> str:
    """Hash of the resource without its server-managed ``meta`` fields: equal hashes mean a no-op update."""
    meta = {k: v for k, v in (resource.get("meta") or {}).items() if k not in ("versionId", "lastUpdated")}
    body = {k: v for k, v in resource.items() if k not in ("meta", "id")}
    if meta:
        body["meta"] = meta
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def instant(moment: datetime) -> str:
    """A stored naive-UTC datetime as a FHIR instant (``2024-05-02T06:15:00.000Z``)."""
    return moment.isoformat(timespec="milliseconds") + "Z"
