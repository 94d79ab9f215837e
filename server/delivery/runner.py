"""One loop for every leased queue (document jobs, deliveries): take what is due, at most ``concurrency``
at a time, hand each item to ``handle`` in its own task, poll again when idle.

Bounded: never more than ``concurrency`` items in hand; an exception in ``handle`` is logged and the item's
lease simply expires (the item is taken again later), so one bad item cannot stop the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from server.delivery.lease import Leases

log = logging.getLogger(__name__)
Handler = Callable[[dict[str, Any]], Awaitable[None]]
Ready = Callable[[dict[str, Any]], Awaitable[bool]]


async def _always(_: dict[str, Any]) -> bool:
    return True


class QueueRunner:
    def __init__(self, name: str, leases: Leases, handle: Handler, *, concurrency: int, poll: float,
                 ready: Ready = _always) -> None:
        self.name, self.leases, self.handle, self.ready = name, leases, handle, ready
        self.concurrency, self.poll = max(1, concurrency), poll
        self.busy: set[asyncio.Task[None]] = set()
        self.wake = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self.run(), name=f"{self.name}-runner")

    async def stop(self) -> None:
        """Stop taking items and cancel those in hand (their leases expire: another process takes them)."""
        for task in [*self.busy, *([self.task] if self.task else [])]:
            task.cancel()
        for task in [*self.busy, *([self.task] if self.task else [])]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def run(self) -> None:
        while True:
            try:
                taken = await self.fill()
            except Exception:  # the database restarting: try again at the next poll
                log.warning("%s: could not read the queue", self.name, exc_info=True)
                taken = 0
            if not taken:
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), self.poll)

    async def fill(self) -> int:
        free = self.concurrency - len(self.busy)
        if free <= 0:
            return 0
        taken = 0
        for candidate in await self.leases.candidates(free * 4):
            if taken >= free:
                break
            if not await self.ready(candidate):
                continue
            item = await self.leases.take(candidate["_id"])
            if item is None:
                continue
            task = asyncio.create_task(self._one(item), name=f"{self.name}:{item['_id']}")
            self.busy.add(task)
            task.add_done_callback(self._done)
            taken += 1
        return taken

    async def _one(self, item: dict[str, Any]) -> None:
        try:
            await self.handle(item)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s: %s failed; its lease will expire and it will be taken again", self.name, item["_id"])

    def _done(self, task: asyncio.Task[None]) -> None:
        self.busy.discard(task)
        self.wake.set()
