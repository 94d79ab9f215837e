"""Keyset paging: a page link carries the sort values of the last entry, never an offset or a snapshot.

The next page is "everything after that key" under the same sort, so concurrent writes neither
duplicate nor skip entries that were already there, and deep pages cost what the first one costs.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson

from resources.errors import InvalidInput


def encode(value: str | int) -> str:
    """The last sort key (a ``k.<param>`` string, an id, or a history version number)."""
    return base64.urlsafe_b64encode(orjson.dumps([value])).decode().rstrip("=")


def decode(token: str) -> str | int:
    try:
        raw = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise InvalidInput("the paging cursor is not valid; restart the search", expression="_cursor") from exc
    if not isinstance(raw, list) or len(raw) != 1 or not isinstance(raw[0], str | int):
        raise InvalidInput("the paging cursor is not valid; restart the search", expression="_cursor")
    return raw[0]


def after(sort: tuple[str, int], last: Any) -> dict[str, Any]:
    """Filter for the rows strictly after ``last``; sort keys end with the id, so they are unique."""
    field, direction = sort
    return {field: {"$gt" if direction > 0 else "$lt": last}}


def key_of(doc: dict[str, Any], field: str) -> Any:
    node: Any = doc
    for part in field.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node
