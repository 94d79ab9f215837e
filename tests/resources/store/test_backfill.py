"""The start-up backfill on a store written before ``o`` existed: read in bounded ``lu`` windows (the embedded
database decodes a whole read in its own memory, so a ``find({})`` of a large collection is what made an upgrade
fail), and resumable where a killed start-up left it."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from resources.search import links
from resources.search.date import now_utc
from resources.store import backfill
from resources.store.backfill import LINKS_BACKFILL, MIGRATIONS, backfill_search_values
from resources.store.windows import Window
from server.database import Database

pytestmark = pytest.mark.db
COUNT = 24


async def _old_observations(sgl_db: Database) -> tuple[str, list[str], Any]:
    """``COUNT`` Observations naming a Patient in ``focus`` (kept in ``o``), stored as an older version left
    them: without ``o``, and written two seconds apart over the last minute."""
    patient = f"Patient/{uuid.uuid4()}"
    ids = [(await sgl_db.store.create({"resourceType": "Observation", "status": "final",
                                        "code": {"text": "K"}, "focus": [{"reference": patient}]})).id
           for _ in range(COUNT)]
    base = now_utc() - timedelta(seconds=2 * COUNT + 5)
    for n, rid in enumerate(ids):
        await sgl_db.db["Observation"].update_one({"_id": rid}, {"$set": {"lu": base + timedelta(seconds=2 * n)},
                                                                 "$unset": {links.FIELD: ""}})
    return patient, ids, base


async def _links(sgl_db: Database, ids: list[str]) -> dict[str, Any]:
    found = await sgl_db.db["Observation"].find({"_id": {"$in": ids}}, {links.FIELD: 1}).to_list()
    return {d["_id"]: d.get(links.FIELD) for d in found}


async def test_the_backfill_reads_small_windows_of_the_lu_index(sgl_db: Database,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    patient, ids, base = await _old_observations(sgl_db)
    windows: list[tuple[Any, Any]] = []
    real = backfill._apply

    async def recorded(db: Any, fill: Any, rtype: str, window: Window) -> int:
        if rtype == "Observation":
            windows.append((window.low, window.high))
        return await real(db, fill, rtype, window)

    monkeypatch.setattr(backfill, "_apply", recorded)
    marker = f"test-{uuid.uuid4()}"
    fill = backfill.Backfill(marker, ("Observation",), (), (), patient_links=True)
    updated = await backfill._fill_type(sgl_db.db, fill, "Observation", backfill.Progress(sgl_db.db, marker),
                                        "0-Observation", base, target=2)
    assert updated >= COUNT
    assert list((await _links(sgl_db, ids)).values()) == [[patient]] * COUNT
    stored = await sgl_db.db["Observation"].find({"_id": {"$in": ids}}, {"lu": 1}).to_list()
    per_window = [sum(low <= d["lu"] < high for d in stored) for low, high in windows]
    assert sum(per_window) == COUNT  # each document read once, in some window
    assert max(per_window) <= 3, per_window  # never the whole collection: about ``target`` a window
    assert all(low < high for low, high in windows)  # both ends bounded
    await sgl_db.db[MIGRATIONS].delete_one({"_id": marker})


async def test_a_backfill_killed_midway_resumes_where_it_was_and_ends_the_same(
        sgl_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    patient, ids, _ = await _old_observations(sgl_db)
    await sgl_db.db[MIGRATIONS].delete_one({"_id": LINKS_BACKFILL})
    real = backfill._apply
    lows: list[Any] = []

    async def killed(db: Any, fill: Any, rtype: str, window: Window) -> int:
        if rtype == "Observation" and fill.patient_links:
            lows.append(window.low)
            if len(lows) == 6:
                raise KeyboardInterrupt  # the start-up stopped here
        return await real(db, fill, rtype, window)

    monkeypatch.setattr(backfill, "_apply", killed)
    with pytest.raises(KeyboardInterrupt):
        await backfill_search_values(sgl_db.db, target=2)
    marker = await sgl_db.db[MIGRATIONS].find_one({"_id": LINKS_BACKFILL})
    assert marker is not None and "done" not in marker  # not marked done: the next start-up carries on
    filled_before = sum(v is not None for v in (await _links(sgl_db, ids)).values())
    assert filled_before < COUNT

    resumed: list[Any] = []

    async def watched(db: Any, fill: Any, rtype: str, window: Window) -> int:
        if rtype == "Observation" and fill.patient_links:
            resumed.append(window.low)
        return await real(db, fill, rtype, window)

    monkeypatch.setattr(backfill, "_apply", watched)
    await backfill_search_values(sgl_db.db, target=2)
    assert not set(resumed[:1]) & set(lows[:4])  # it went on from its recorded position, not from the start
    assert list((await _links(sgl_db, ids)).values()) == [[patient]] * COUNT
    done = await sgl_db.db[MIGRATIONS].find_one({"_id": LINKS_BACKFILL})
    assert done is not None and "done" in done
    assert await backfill_search_values(sgl_db.db) == 0
