"""Reading a whole collection in windows of one indexed date, each read bounded at both ends.

Why (issue 16): on the embedded database a read that no index range bounds (``find({})``, a filter on a
field without an index such as ``$exists``) is decoded whole in the database's memory: a ``find({})`` of 100k
directory resources took it to 1.3 GB. A range ``low <= field < high`` of an indexed date reads that window
only. Two walks need this: the start-up backfill of search values over ``lu`` (``backfill.py``) and the
dashboard facts backfill over the outbox's ``created`` (``server/dashboard/backfill.py``).

The width adapts so that a window holds about ``target`` documents (the database's memory follows the
window, not the collection), and a quiet span is crossed in a few reads. Backwards, the walk goes down to
``FLOOR`` (nothing this store wrote is older), then reads what is older in one last window down to ``EPOCH``.
The caller handles each window before asking for the next, so a position it records after a window is one
that was finished.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

FLOOR = datetime(2026, 11, 1)
"""No document this store wrote is older (its first version dates from 2026-11-26); anything older is read in one
last window."""
EPOCH = datetime(1970, 1, 1)
TARGET = 500
"""Documents a window should hold: the database decodes a window whole, so its memory follows this, not the
collection's size."""
FIRST_WIDTH = timedelta(seconds=1)
MAX_WIDTH = timedelta(days=1)
EMPTY_GROWTH = 1.25
MIN_WIDTH = timedelta(milliseconds=1)
"""The dates' precision: a window cannot be narrower (a transaction's resources share one instant)."""


class Widths:
    """The width of the next window, from how many documents the last one held: it aims at ``target``
    documents: it grows at most twofold (by a quarter after an empty one) and shrinks as far as the last window's
    density says."""

    def __init__(self, target: int = TARGET) -> None:
        self.target = target
        self.width = FIRST_WIDTH

    def after(self, found: int) -> None:
        # across an empty span the density ahead is unknown: widening slowly keeps the first window that meets a
        # burst of writes about a quarter of the quiet span it crossed
        factor = EMPTY_GROWTH if found == 0 else min(2.0, self.target / found)
        self.width = max(MIN_WIDTH, min(MAX_WIDTH, self.width * factor))


@dataclass(frozen=True)
class Window:
    """``low <= field < high`` and the documents in it."""

    low: datetime
    high: datetime
    documents: list[dict[str, Any]]


async def _read(collection: AsyncCollection[Any], field: str, low: datetime, high: datetime,
                projection: Mapping[str, Any] | None) -> Window:
    return Window(low, high, await collection.find({field: {"$gte": low, "$lt": high}}, projection).to_list())


async def walk_back(collection: AsyncCollection[Any], field: str, start: datetime, *, target: int = TARGET,
                    projection: Mapping[str, Any] | None = None) -> AsyncIterator[Window]:
    """The windows below ``start``, newest first, down to ``FLOOR`` then one last one down to ``EPOCH``."""
    widths = Widths(target)
    low = start
    while low > EPOCH:
        high, low = low, (max(FLOOR, low - widths.width) if low > FLOOR else EPOCH)
        window = await _read(collection, field, low, high, projection)
        yield window
        widths.after(len(window.documents))


async def walk_forward(collection: AsyncCollection[Any], field: str, start: datetime, end: datetime, *,
                       target: int = TARGET, projection: Mapping[str, Any] | None = None) -> AsyncIterator[Window]:
    """The windows from ``start`` up to ``end``, oldest first."""
    widths = Widths(target)
    high = start
    while high < end:
        low, high = high, min(high + widths.width, end)
        window = await _read(collection, field, low, high, projection)
        yield window
        widths.after(len(window.documents))
