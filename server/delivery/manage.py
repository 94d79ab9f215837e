"""What a person does with deliveries, for the FHIR operations (``routes.py``) and ``sgl deliveries`` alike:
list them, show one with every attempt, send failed/cancelled ones again, cancel unfinished ones.

Retry and cancel never touch a delivery in flight (leased by a live process): the worker owns it until it
records the answer. Each manual action is appended to the delivery's history with who did it and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from resources.errors import InvalidInput, NotFound
from resources.fhirjson import instant
from resources.search.date import now_utc
from server.delivery.lease import PENDING
from server.delivery.outbox import BLOCKED, CANCELLED, COLLECTION, FAILED

RETRYABLE = (FAILED, CANCELLED, BLOCKED)
CANCELLABLE = (PENDING, FAILED, BLOCKED)
STATES = (PENDING, "delivered", FAILED, CANCELLED, BLOCKED)


def _not_in_flight(now: datetime) -> dict[str, Any]:
    return {"$or": [{"lease_until": None}, {"lease_until": {"$lt": now}}]}


async def find(db: AsyncDatabase[Any], *, report_id: str | None = None, patient: str | None = None,
               notice: str | None = None, states: Sequence[str] = (), limit: int = 200) -> list[dict[str, Any]]:
    """Deliveries of a report, of a notice (``Communication/<id>``, ``notices.py``), or of a patient
    (``Patient/<id>``: its reports', its notices and its identity messages, including a merge into another
    patient: the exchanges SGL.INS.50 asks to trace), oldest first."""
    query: dict[str, Any] = {}
    if report_id:
        query["report_id"] = report_id
    if notice:
        query["notice"] = notice
    if patient:
        query["$or"] = [{"patient": patient}, {"recipient_extra.merged": patient}]
    if states:
        unknown = set(states) - set(STATES)
        if unknown:
            raise InvalidInput(f"unknown delivery state(s) {', '.join(sorted(unknown))}; states: {', '.join(STATES)}",
                               expression="state")
        query["state"] = {"$in": list(states)}
    return [d async for d in db[COLLECTION].find(query).sort([("created", 1), ("_id", 1)]).limit(limit)]


async def one(db: AsyncDatabase[Any], delivery_id: str) -> dict[str, Any]:
    found: dict[str, Any] | None = await db[COLLECTION].find_one({"_id": delivery_id})
    if found is None:
        raise NotFound(f"no delivery {delivery_id!r}")
    return found


def _owner(report_id: str | None, notice: str | None) -> tuple[str, str] | None:
    """The field naming what the deliveries belong to, and its value (a report id, a notice reference)."""
    return ("report_id", report_id) if report_id else ("notice", notice) if notice else None


async def _change(db: AsyncDatabase[Any], ids: Sequence[str], owner: tuple[str, str] | None, allowed: Sequence[str],
                  changes: dict[str, Any], note: dict[str, Any]) -> list[str]:
    now = now_utc()
    scope: dict[str, Any] = {"_id": {"$in": list(ids)}} if ids else dict([owner] if owner else [])
    if not scope:
        raise InvalidInput("name the deliveries, or the report or notice they belong to", expression="delivery")
    if ids:
        for delivery_id in ids:
            found = await one(db, delivery_id)
            if owner and found.get(owner[0]) != owner[1]:
                what = f"DiagnosticReport/{owner[1]}" if owner[0] == "report_id" else owner[1]
                raise NotFound(f"delivery {delivery_id!r} is not one of {what}")
    query = {**scope, "state": {"$in": list(allowed)}, **_not_in_flight(now)}
    changed = [d["_id"] async for d in db[COLLECTION].find(query, {"_id": 1})]
    if changed:
        await db[COLLECTION].update_many({**query, "_id": {"$in": changed}},
                                         {"$set": changes, "$push": {"history": {**note, "at": now}}})
    return [str(i) for i in changed]


async def retry(db: AsyncDatabase[Any], ids: Sequence[str], *, report_id: str | None = None,
                notice: str | None = None, by: str) -> list[str]:
    """Failed, cancelled or blocked deliveries back to pending, due now, with a fresh count of attempts."""
    return await _change(db, ids, _owner(report_id, notice), RETRYABLE,
                         {"state": PENDING, "due": now_utc(), "attempts": 0}, {"manual": "retry", "by": by})


async def cancel(db: AsyncDatabase[Any], ids: Sequence[str], *, report_id: str | None = None, by: str,
                 reason: str) -> list[str]:
    """Unfinished deliveries (pending, failed, blocked; not in flight) become cancelled, with the reason."""
    if not reason.strip():
        raise InvalidInput("a cancellation needs a reason", expression="reason")
    return await _change(db, ids, _owner(report_id, None), CANCELLABLE, {"state": CANCELLED, "cancel_reason": reason},
                         {"manual": "cancel", "by": by, "reason": reason})


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return instant(value)
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items() if k not in ("lease_owner",) or v}
    if isinstance(value, list):
        return [_json(v) for v in value]
    return value


def as_json(delivery: dict[str, Any]) -> dict[str, Any]:
    """A stored delivery as plain JSON (instants as FHIR instants; ``id`` for ``_id``)."""
    out = _json({k: v for k, v in delivery.items() if k != "_id"})
    return {"id": str(delivery["_id"]), **out}
