"""Striped IPP locks: one writer per IPP, both stripes for a merge, no deadlock between merges."""

from __future__ import annotations

import asyncio

from facades.hl7v2 import parse
from facades.hl7v2.pam import read_identity_change
from server.identity_feed.serial import IppLocks
from tests.support.pam_samples import adt, pid


def _change(event: str, ipp: str, prior: str | None = None):
    extra = [f"MRG|{prior}^^^CHU-X&000897406&N^PI"] if prior else []
    return read_identity_change(parse(adt(event, "S", pid(ipp), *extra)))


async def test_writers_of_one_ipp_take_turns() -> None:
    locks, inside, peak = IppLocks(), 0, 0

    async def write() -> None:
        nonlocal inside, peak
        async with locks.holding(_change("A28", "000001")):
            inside += 1
            peak = max(peak, inside)
            await asyncio.sleep(0.01)
            inside -= 1

    await asyncio.wait_for(asyncio.gather(*(write() for _ in range(5))), 10)
    assert peak == 1


async def test_crossed_merges_do_not_deadlock_and_block_each_ipp() -> None:
    locks = IppLocks(stripes=4096)
    a_into_b, b_into_a = _change("A40", "000001", "000002"), _change("A40", "000002", "000001")

    async def merge(change) -> None:
        async with locks.holding(change):
            await asyncio.sleep(0.01)

    await asyncio.wait_for(asyncio.gather(*(merge(c) for c in (a_into_b, b_into_a) * 3)), 10)
    async with locks.holding(a_into_b):
        blocked = asyncio.ensure_future(merge(_change("A28", "000002")))
        await asyncio.sleep(0.02)
        assert not blocked.done()
    await asyncio.wait_for(blocked, 5)
