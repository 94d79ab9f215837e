"""``GET /fhir/$worklist-events``: the worklists' counts pushed to the workbench as server-sent events.

The answer is a ``text/event-stream`` that stays open: a ``worklists`` event at once, then one each time a
count or the latest change of a watched type moves, and a comment line as a heartbeat when nothing happens
(proxies keep the connection, the browser notices a dead one). The workbench reads its lists again on each
event, so an analyzer result stored from the MLLP listener shows on a worklist without a reload.

One poller per process asks the database every ``POLL_S`` seconds, only while someone listens, which versions of
the watched types were written lately (``FhirStore.written_since``: index range reads, nothing else read), and
reads the counts (``_summary=count`` searches, which read every matching resource) only when something new was
written, and at least every ``RECOUNT_S`` seconds: the database is the source, so writes made by another
process (a second ``sgl serve`` on the same database, the CLI) are seen too. Before, each turn counted and
sorted whole collections, which kept the database busy (~0.1-0.4 s each second with 1,000 results waiting)
for as long as a workbench was open, and slowed every other request. What
each event holds is counts and a version number, never a resource: the lists themselves are read through
the FHIR API with the caller's rights. The permission is the ``*:$worklist-events`` row of the table; a
caller holds at most ``MAX_STREAMS_PER_CALLER`` streams (a tab left open per screen is fine, a loop opening
them is refused with 429). At shutdown every stream ends at once (``close_soon`` from the signal handler,
before the server waits for open responses), and the browser's EventSource reconnects to the next server.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from resources.errors import SglError
from resources.interactions.search import plan_search
from resources.search.date import now_utc
from resources.store.base import FhirStore
from server.analyzers.observation import LAB_CATEGORY
from server.deps import CallerDep
from server.validation.marks import STEP_SYSTEM, TECHNICAL

log = logging.getLogger(__name__)
POLL_S = 1.0
RECOUNT_S = 15.0
WINDOW = timedelta(seconds=5)
"""How long after the time stamped on a version its commit may land and still be seen as news (the stamp is
taken inside the transaction, before its commit); a later one waits for the next recount."""
HEARTBEAT_S = 15.0
MAX_STREAMS_PER_CALLER = 4
TASKS = "https://opensgl.org/fhir/CodeSystem/taches"
WORKLIST = "https://opensgl.org/fhir/CodeSystem/worklist"
LABORATORY = "{system}|{code}".format(**LAB_CATEGORY["coding"][0])
COUNTS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "unmatched": ("Task", [("code", f"{TASKS}|unmatched-result"), ("status", "requested")]),
    "received": ("Observation", [("status", "preliminary"), ("category", LABORATORY),
                                 ("_tag:not", f"{STEP_SYSTEM}|{TECHNICAL}")]),
    "biological": ("DiagnosticReport", [("status", "partial,preliminary")]),
    "deliveryFailed": ("Task", [("code", f"{WORKLIST}|delivery-failed"), ("status", "requested")]),
}
"""What the worklists count (the same searches the screens make): ``received`` is the bench's list, the results
not yet technically validated (those stay ``preliminary`` with the ``technical`` step tag until the biologist).
Only laboratory results: the clinical information a prescriber sends with an order (weight, pregnancy...,
``facades/hl7v2/orders/clinical.py``) may come as preliminary too, and is not the bench's to validate."""
WATCHED = ("Observation", "Task", "DiagnosticReport", "Specimen", "ServiceRequest")
"""Types whose latest change is followed, so that a list changing without its count moving is read again."""


class NotAcceptable(SglError):
    status = 406
    issue_code = "not-supported"


class TooManyStreams(SglError):
    status = 429
    issue_code = "throttled"


async def snapshot(store: FhirStore) -> dict[str, Any]:
    """The worklists' counts, as one comparable value."""
    counts: dict[str, int] = {}
    for name, (rtype, pairs) in COUNTS.items():
        page = await store.search(await plan_search(store, rtype, [*pairs, ("_summary", "count")], strict=True))
        counts[name] = page.total or 0
    return {"counts": counts}


class Writes:
    """The versions of the watched types written lately, to tell a new write from one already seen."""

    def __init__(self, start: datetime) -> None:
        self.since = dict.fromkeys(WATCHED, start - WINDOW)
        self.seen: dict[str, set[str]] = {rtype: set() for rtype in WATCHED}

    async def news(self, store: FhirStore) -> bool:
        """Whether a version not seen at the last call was written (the window follows the newest write)."""
        found = False
        for rtype in WATCHED:
            written = await store.written_since(rtype, self.since[rtype])
            found = found or bool(written.keys() - self.seen[rtype])
            self.seen[rtype] = set(written)
            if written:
                self.since[rtype] = max(self.since[rtype], max(written.values()) - WINDOW)
        return found


class WorklistEvents:
    """The process's streams and the one poller feeding them."""

    def __init__(self, *, poll_s: float = POLL_S, heartbeat_s: float = HEARTBEAT_S,
                 per_caller: int = MAX_STREAMS_PER_CALLER, recount_s: float = RECOUNT_S) -> None:
        self.poll_s, self.heartbeat_s, self.per_caller = poll_s, heartbeat_s, per_caller
        self.recount_s = recount_s
        self.store: FhirStore | None = None
        self.open: Counter[str] = Counter()
        self.version = 0
        self.current: dict[str, Any] | None = None
        self._changed: asyncio.Condition | None = None
        self._poller: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.closed = False

    def bind(self, store: FhirStore) -> None:
        self.store, self._loop = store, asyncio.get_running_loop()
        self._changed = asyncio.Condition()

    def close_soon(self) -> None:
        """End every stream now (safe from a signal handler: it only schedules the closing on the loop)."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self.close()))

    async def close(self) -> None:
        self.closed = True
        if self._changed is not None:
            async with self._changed:
                self._changed.notify_all()
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
            self._poller = None

    def admit(self, caller_id: str) -> None:
        if self.closed or self.store is None:
            raise TooManyStreams("the server is stopping: reconnect in a moment", expression="$worklist-events")
        if self.open[caller_id] >= self.per_caller:
            raise TooManyStreams(f"at most {self.per_caller} worklist streams per user are open at once; close a "
                                 "tab or wait for one to end", expression="$worklist-events")
        self.open[caller_id] += 1
        if self._poller is None or self._poller.done():
            self.current = None  # read while nobody listened: stale; the first event waits for a fresh reading
            self._poller = asyncio.create_task(self._poll(), name="worklist-events")

    def leave(self, caller_id: str) -> None:
        self.open[caller_id] -= 1
        if self.open[caller_id] <= 0:
            del self.open[caller_id]

    async def _poll(self) -> None:
        assert self.store is not None and self._changed is not None
        writes, counted = Writes(now_utc()), 0.0
        while self.open and not self.closed:
            now: dict[str, Any] | None = self.current
            try:
                news = await writes.news(self.store)  # the first turn only notes what was written before
                if news or self.current is None or time.monotonic() - counted >= self.recount_s:
                    now, counted = await snapshot(self.store), time.monotonic()
                    news = news and self.current is not None
            except Exception:  # the database restarting: the streams stay, the next turn tries again
                log.warning("worklist counts could not be read", exc_info=True)
                news = False
            if now != self.current or news:
                self.current, self.version = now, self.version + 1
                async with self._changed:
                    self._changed.notify_all()
            await asyncio.sleep(self.poll_s)

    async def _wait(self) -> bool:
        """Until the next change (True) or the heartbeat's turn (False); the lock is not held while sending."""
        assert self._changed is not None
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait(), self.heartbeat_s)
                return True
            except TimeoutError:
                return False

    async def stream(self, caller_id: str) -> AsyncIterator[bytes]:
        """The events of one stream; ends when the client leaves (Starlette cancels it) or at shutdown."""
        assert self._changed is not None
        sent = 0
        try:
            yield b"retry: 3000\n: worklists\n\n"
            while not self.closed:
                if self.version != sent and self.current is not None:
                    sent = self.version
                    data = orjson.dumps({"version": sent, "counts": self.current["counts"]})
                    yield b"event: worklists\nid: %d\ndata: %s\n\n" % (sent, data)
                    continue
                if not await self._wait():
                    yield b": heartbeat\n\n"
        finally:
            self.leave(caller_id)


router = APIRouter()


@router.get("/$worklist-events", response_class=StreamingResponse)
async def worklist_events(request: Request, caller: CallerDep) -> StreamingResponse:
    accept = request.headers.get("accept", "*/*")
    if not any(kind in accept for kind in ("text/event-stream", "*/*", "text/*")):
        # a FHIR client asking for JSON would wait forever on a stream: say what this door answers instead
        raise NotAcceptable("$worklist-events answers text/event-stream (server-sent events) only",
                            expression="Accept")
    events: WorklistEvents = request.app.state.worklist_events
    events.admit(caller.id)
    return StreamingResponse(events.stream(caller.id), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
