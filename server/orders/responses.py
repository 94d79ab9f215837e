"""The answer of the order operations: what was written, as a ``transaction-response`` Bundle."""

from __future__ import annotations

from typing import Any

from resources.store.base import Stored


def transaction_response(written: list[Stored]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "transaction-response", "entry": [_entry(s) for s in written]}


def _entry(stored: Stored) -> dict[str, Any]:
    location = f"{stored.resource_type}/{stored.id}/_history/{stored.vid}"
    return {"resource": stored.resource,
            "response": {"status": "201 Created" if stored.vid == 1 else "200 OK", "location": location,
                         "etag": stored.etag}}
