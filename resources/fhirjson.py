"""FHIR JSON in and out: fast (orjson) and canonical, so that a content hash is stable."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import orjson

from resources.errors import InvalidInput

MAX_DEPTH = 100
"""Deepest nesting of objects and arrays a request body may have. Real FHIR stays far below it (a transaction
Bundle of Questionnaires with items ten deep is about 30); the code after the parser (validation, the audit,
the store) walks resources recursively and hit Python's recursion limit from about 200 levels on, a 500 or a
dropped connection, while orjson itself only refuses from 1024 levels on."""


def loads(body: bytes | str) -> Any:
    """Parse a request body, turning a JSON syntax error or a body nested deeper than ``MAX_DEPTH`` into a 400
    that says where it broke. Every request body is read here, so this is the one place the depth is checked."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"malformed JSON: {exc}") from exc
    if isinstance(body, str):
        body = body.encode()
    if isinstance(data, (dict, list)) and body.count(b"[") + body.count(b"{") > MAX_DEPTH:
        _check_depth(data)  # fewer openers cannot nest deeper: most bodies stop before the walk
    return data


def _check_depth(data: Any) -> None:
    """Refuse ``data`` nested deeper than ``MAX_DEPTH``, level by level without recursion (a deep body cannot
    exhaust the recursion limit here either), stopping at the first level too deep."""
    level: list[Any] = [data]
    for _ in range(MAX_DEPTH):
        below: list[Any] = []
        for node in level:
            children = node.values() if isinstance(node, dict) else node
            below.extend(child for child in children if isinstance(child, (dict, list)))
        if not below:
            return
        level = below
    raise InvalidInput(f"the JSON body is nested deeper than the {MAX_DEPTH} levels this server accepts")


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
