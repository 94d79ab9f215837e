"""Index builds at start-up, said out loud.

``ensure_indexes`` runs before the server listens. An index that already exists costs nothing; a new one (added
by an upgrade) is built over the whole collection in one command, MongoDB and the embedded SecantusDB alike, and
the start-up waits for it: on a big collection that is minutes of silence, which looks like a frozen server. So
each new index of a collection that holds documents gets a log line naming it with the collection's size before
its build, a line every ``TICK_S`` seconds while it runs, and one with its duration after (an empty collection,
as in a new database, is indexed silently).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

from pymongo import IndexModel
from pymongo.asynchronous.collection import AsyncCollection

log = logging.getLogger(__name__)
TICK_S = 15.0


async def _ticking(what: str, started: float) -> None:
    while True:
        await asyncio.sleep(TICK_S)
        log.info("%s: still building (%.0f s so far; the server listens once it is built)", what,
                 time.monotonic() - started)


async def create_new_indexes(collection: AsyncCollection[Any], models: Sequence[IndexModel]) -> list[str]:
    """Create the ``models`` that ``collection`` does not have yet, one at a time, each announced with the
    collection's size and timed; the names built (none when every index exists: nothing is logged)."""
    existing = await collection.index_information()
    new = [m for m in models if m.document["name"] not in existing  # or changed: the build says why it cannot
           or list(existing[m.document["name"]]["key"]) != list(m.document["key"].items())]
    if not new:
        return []
    size = await collection.estimated_document_count()
    if size == 0:  # a new database: nothing to wait for, nothing to say
        await collection.create_indexes(new)
        return [m.document["name"] for m in new]
    for model in new:
        what = f"{collection.name}: index {model.document['name']}"
        log.info("%s: building over %d documents before the server listens", what, size)
        started = time.monotonic()
        ticker = asyncio.create_task(_ticking(what, started))
        try:
            await collection.create_indexes([model])
        finally:
            ticker.cancel()
        log.info("%s: built in %.1f s", what, time.monotonic() - started)
    return [m.document["name"] for m in new]
