"""The worklist events' poller on a real store: what was written is found through indexes only, a write that
moves no count is still news, a deletion is news, and a quiet database is not counted again every turn (the
counts read every matching resource: done each second, they kept the database busy while a workbench was open).
The stream over HTTP (permission, MLLP result pushed, heartbeat, bound, shutdown): tests/server/web/test_reception.py.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest

from resources.search.date import now_utc
from resources.search.query import SearchRequest
from resources.store.base import SearchPage, StoreSession
from resources.store.indexes import current_indexes, history_indexes
from resources.store.mongo import MongoFhirStore
from server.analyzers.observation import LAB_CATEGORY
from server.database import Database
from server.worklist_events import RECOUNT_S, WATCHED, WorklistEvents

pytestmark = pytest.mark.db


class CountingStore(MongoFhirStore):
    """The real store, noting each count it is asked for (the costly part of a poll)."""

    counted: list[str]

    async def search(self, request: SearchRequest, *, session: StoreSession | None = None) -> SearchPage:
        if request.summary_count:
            self.counted.append(request.resource_type)
        return await super().search(request, session=session)


@pytest.fixture
async def store(sgl_db: Database) -> AsyncIterator[CountingStore]:
    name = f"scratch_events_{uuid.uuid4().hex[:8]}"
    made = CountingStore(sgl_db.client[name])
    made.counted = []
    for rtype in WATCHED:
        await made.db[rtype].create_indexes(current_indexes(rtype))
        await made.db[f"{rtype}_history"].create_indexes(history_indexes())
    yield made
    await sgl_db.client.drop_database(name)


def received(value: float) -> dict[str, Any]:
    """A result as an analyzer leaves it: preliminary, not technically validated (the bench's list)."""
    return {"resourceType": "Observation", "status": "preliminary", "category": [LAB_CATEGORY],
            "code": {"text": "Glucose"}, "valueQuantity": {"value": value, "unit": "g/L"}}


async def test_written_since_finds_creates_updates_and_deletions_through_indexes(store: CountingStore) -> None:
    before = await store.create(received(1.0))
    since = now_utc()
    await asyncio.sleep(0.002)  # the next stamps are later than ``since`` (millisecond precision)
    created = await store.create(received(2.0))
    updated, _ = await store.update({**before.resource, "valueQuantity": {"value": 1.1, "unit": "g/L"}})
    gone = await store.delete("Observation", created.id)
    assert gone is not None
    written = await store.written_since("Observation", since)
    # created then deleted: both its versions (the deletion marker is 2); the update's new version, not the one
    # it superseded (written before ``since``)
    assert set(written) == {f"{created.id}/1", f"{created.id}/2", f"{before.id}/2"}
    assert all(when > since for when in written.values())
    assert await store.written_since("Observation", max(written.values())) == {}
    for collection, flt in (("Observation", {"lu": {"$gt": since}}),
                            ("Observation_history", {"k": {"$gt": "2026"}})):
        plan = (await store.db.command("explain", {"find": collection, "filter": flt}))["queryPlanner"]
        assert "IXSCAN" in json.dumps(plan["winningPlan"]), plan


async def _next(stream: AsyncIterator[bytes]) -> dict[str, Any] | None:
    """The stream's next worklists event, or None for a heartbeat (nothing was sent for ``heartbeat_s``)."""
    while True:
        chunk = (await asyncio.wait_for(anext(stream), 30)).decode()
        if chunk.startswith(": heartbeat"):
            return None
        for line in chunk.splitlines():
            if line.startswith("data: "):
                data: dict[str, Any] = json.loads(line[6:])
                return data


@asynccontextmanager
async def _listening(store: CountingStore, *, poll_s: float, heartbeat_s: float, recount_s: float = RECOUNT_S
                     ) -> AsyncIterator[tuple[WorklistEvents, AsyncIterator[bytes]]]:
    """A poller on ``store`` and one user's stream of it, both closed at the end."""
    events = WorklistEvents(poll_s=poll_s, heartbeat_s=heartbeat_s, recount_s=recount_s)
    events.bind(store)
    events.admit("user:thomas")
    stream = events.stream("user:thomas")
    try:
        yield events, stream
    finally:
        await stream.aclose()
        await events.close()


async def test_news_not_counts_decide_when_the_poller_counts_and_sends(store: CountingStore) -> None:
    kept = await store.create(received(1.0))
    dropped = await store.create(received(2.0))
    async with _listening(store, poll_s=0.02, heartbeat_s=0.5) as (events, stream):
        first = await _next(stream)
        assert first is not None and first["counts"]["received"] == 2
        counted = len(store.counted)
        assert counted == 4  # each worklist counted once
        # quiet database: a heartbeat comes (no event for 0.5 s, ~25 turns) and nothing was counted again
        assert await _next(stream) is None
        assert len(store.counted) == counted
        # a value corrected: no count moves, the lists must still be read again
        await store.update({**kept.resource, "valueQuantity": {"value": 1.2, "unit": "g/L"}})
        corrected = await _next(stream)
        assert corrected is not None and corrected["version"] > first["version"]
        assert corrected["counts"] == first["counts"]
        # a deletion is news and moves the count
        await store.delete("Observation", dropped.id)
        after = await _next(stream)
        assert after is not None and after["counts"]["received"] == 1
    assert events.open == {}


@pytest.mark.parametrize(("stamped_ago", "recount_s"), [
    (timedelta(seconds=2), 30.0),  # within the window: news to the next turn, not left to the recount
    (timedelta(minutes=5), 0.5),  # older than the window: not news, the periodic recount (safety net) moves it
], ids=["within-window", "periodic-recount"])
async def test_a_write_stamped_before_it_commits_is_still_counted(
        store: CountingStore, stamped_ago: timedelta, recount_s: float) -> None:
    """A version whose time was stamped before the poller looked (a transaction committing after its stamp, or
    a tool stamping its own time) is not lost: counted at the next turn, or at the next recount."""
    async with _listening(store, poll_s=0.02, heartbeat_s=30, recount_s=recount_s) as (_, stream):
        first = await _next(stream)
        assert first is not None and first["counts"]["received"] == 0
        body = {**received(3.0), "id": str(uuid.uuid4())}
        await store.db["Observation"].insert_one(store._document({**body, "meta": {"versionId": "1"}}, 1,
                                                                 now_utc() - stamped_ago, "digest", "POST"))
        moved = await _next(stream)
        assert moved is not None and moved["counts"]["received"] == 1
