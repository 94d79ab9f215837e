"""A directory load that loses the database mid-file, or is killed, leaves a directory the next pass finishes:
in process, on an embedded database of its own, with batches of 40 lines so that the interruption falls
between batches of one file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pymongo.errors import AutoReconnect

from facades.annuaire import SOURCE
from server.annuaire import load as directory_load
from server.annuaire.ledger import IDS, LEGACY_SKIP
from server.annuaire.report import RUNS
from server.annuaire.run import run_load
from server.database import Database, open_database
from server.settings import Settings
from tests.support.annuaire_files import idnat, write_ps

pytestmark = pytest.mark.db
PEOPLE = 200


@pytest.fixture(scope="module")
async def db(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Database]:
    database = await open_database(Settings(data_dir=tmp_path_factory.mktemp("annuaire-resume") / "var"))
    try:
        yield database
    finally:
        await database.close()


def _fail_once_after(monkeypatch: pytest.MonkeyPatch, calls: int, error: BaseException) -> list[int]:
    """``DirectoryLoad._apply`` raises ``error`` at its ``calls``-th call, once; the list counts the calls."""
    seen: list[int] = []
    original = directory_load.DirectoryLoad._apply

    async def apply(self: directory_load.DirectoryLoad, rtype: str, resources: dict[str, dict[str, Any]]) -> None:
        seen.append(1)
        if len(seen) == calls:
            raise error
        await original(self, rtype, resources)

    monkeypatch.setattr(directory_load.DirectoryLoad, "_apply", apply)
    monkeypatch.setattr(directory_load, "BATCH", 40)
    return seen


async def _directory(database: Database) -> dict[str, bool]:
    """Directory Practitioners stored: id -> active."""
    return {d["_id"]: d["r"].get("active", True) async for d in database.db["Practitioner"].find(
        {"r.meta.source": SOURCE}, projection={"r.active": 1})}


@pytest.mark.req("SGL.ANN.01")
async def test_a_lost_connection_starts_another_pass_and_counts_each_resource_once_SGL_ANN_01(
        db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ps = write_ps(tmp_path / "PS_LibreAcces_Personne_activite_resume.txt", range(PEOPLE))
    calls = _fail_once_after(monkeypatch, 7, AutoReconnect("connection closed"))  # in the third batch
    report = await run_load(db.store, [str(ps)], data_dir=tmp_path)
    assert len(calls) > 7  # it did fail once, then went on
    assert report.complete and report.error is None
    assert report.counts["Practitioner"] == {"added": PEOPLE, "changed": 0, "unchanged": 0, "inactivated": 0}
    stored = await _directory(db)
    assert len(stored) == PEOPLE and all(stored.values())
    assert await db.db[RUNS].count_documents({"_id": report.run}) == 1
    assert (await db.db[RUNS].find_one({"_id": report.run}))["complete"] is True


@pytest.mark.req("SGL.ANN.01")
async def test_a_killed_load_is_finished_by_the_next_which_retires_what_it_left_SGL_ANN_01(
        db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    more = write_ps(tmp_path / "PS_LibreAcces_Personne_activite_more.txt", range(PEOPLE, PEOPLE + 200))
    _fail_once_after(monkeypatch, 10, KeyboardInterrupt())  # killed in its fourth batch: not retried
    with pytest.raises(KeyboardInterrupt):
        await run_load(db.store, [str(more)], data_dir=tmp_path)
    monkeypatch.undo()
    left = {k for k, active in (await _directory(db)).items() if active} - {f"as-{idnat(i)}" for i in range(PEOPLE)}
    assert 0 < len(left) < 200  # part of the killed load is stored
    again = write_ps(tmp_path / "PS_LibreAcces_Personne_activite_again.txt", range(PEOPLE))
    report = await run_load(db.store, [str(again)], data_dir=tmp_path)
    assert report.inactivation == "done"
    assert report.counts["Practitioner"] == {"added": 0, "changed": 0, "unchanged": PEOPLE, "inactivated": len(left)}
    stored = await _directory(db)
    assert {k for k, active in stored.items() if not active} == left


@pytest.mark.req("SGL.ANN.01")
async def test_after_loads_without_id_lists_one_load_says_so_then_the_next_retire_SGL_ANN_01(
        db: Database, tmp_path: Path) -> None:
    # the loads so far as an earlier version left them: no ledger flag, no id lists
    await db.db[RUNS].update_many({}, {"$unset": {"ledger": ""}})
    await db.db[IDS].delete_many({})
    fewer = write_ps(tmp_path / "PS_LibreAcces_Personne_activite_fewer.txt", range(PEOPLE - 20))
    report = await run_load(db.store, [str(fewer)], data_dir=tmp_path)
    assert report.inactivation == LEGACY_SKIP and report.counts["Practitioner"]["inactivated"] == 0
    assert sum((await _directory(db)).values()) == PEOPLE  # nothing retired: it cannot know what the old loads made
    fewest = write_ps(tmp_path / "PS_LibreAcces_Personne_activite_fewest.txt", range(PEOPLE - 50))
    report = await run_load(db.store, [str(fewest)], data_dir=tmp_path)
    assert report.inactivation == "done"
    assert report.counts["Practitioner"] == {"added": 0, "changed": 0, "unchanged": PEOPLE - 50, "inactivated": 30}
    stored = await _directory(db)
    assert {k for k, active in stored.items() if not active} >= {f"as-{idnat(i)}" for i in range(PEOPLE - 50,
                                                                                               PEOPLE - 20)}
    # the lists of the runs before the one that inactivated are gone: only the last run's remain
    assert {d["run"] async for d in db.db[IDS].find({}, projection={"run": 1})} == {report.run}
