"""The bulk first load (batches inserted without reading first, ``DirectoryLoad._apply``) writes exactly what the
look-up-first path writes, and a first load killed with ``kill -9`` midway is finished by the next with nothing
written twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from resources.store.mongo import MongoFhirStore
from server.annuaire import load as directory_load
from server.annuaire.ledger import IDS
from server.annuaire.load import DIRECTORY_TYPES, DirectoryLoad
from server.annuaire.report import MSSANTE, LoadReport
from server.database import Database, make_client, open_database
from server.embedded_auth import read_credentials
from server.settings import Settings
from tests.support.annuaire_files import ps_text, write_mss, write_zip
from tests.support.sgl_cli import SGL, run_sgl

pytestmark = pytest.mark.db
PEOPLE = 300
BROKEN = {41: "8|1234|81234|M|"}
"""A line cut short after person 41: refused with its number by both paths."""


@pytest.fixture(scope="module")
async def two(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Database, Database]]:
    base = tmp_path_factory.mktemp("annuaire-bulk")
    first = await open_database(Settings(data_dir=base / "bulk"))
    try:
        second = await open_database(Settings(data_dir=base / "lookup"))
        try:
            yield first, second
        finally:
            await second.close()
    finally:
        await first.close()


def _extraction(folder: Path, people: range = range(PEOPLE), renamed: frozenset[int] = frozenset()) -> Path:
    """The ANS delivery shape: a zip holding the MSSanté extraction (addresses for a third of the people) and the
    PS file (two activities for some people, shared sites, one broken line)."""
    folder.mkdir(exist_ok=True)
    ps = folder / "PS_LibreAcces_Personne_activite_202612050800.txt"
    ps.write_text("".join(line + "\n" for line in ps_text(people, broken=BROKEN, renamed=renamed)),
                  encoding="utf-8")
    mss = write_mss(folder / "Extraction_Correspondance_MSSante_202612050800.txt", range(0, PEOPLE, 3))
    return write_zip(folder / "Extraction_RPPS_Profil4_202612050800.zip", {mss.name: mss, ps.name: ps})


async def _both(two: tuple[Database, Database], zipped: Path) -> tuple[LoadReport, LoadReport]:
    """The load of ``zipped`` into the first database as it runs (bulk first), into the second looking up first."""
    bulk = await DirectoryLoad(two[0].store, "bulk").load([zipped])
    old_way = DirectoryLoad(two[1].store, "look-up first")
    old_way.bulk_first = False
    return bulk, await old_way.load([zipped])


async def _contents(db: Database) -> dict[str, Any]:
    """Every stored directory document, less what depends on the moment of writing (``lu``, ``meta.lastUpdated``
    and the ``_lastUpdated`` sort key), with the history collections and the id lists (less the run id)."""
    out: dict[str, Any] = {}
    for rtype in DIRECTORY_TYPES:
        docs = {}
        async for doc in db.db[rtype].find({}):
            doc.pop("lu")
            doc["r"]["meta"].pop("lastUpdated")
            doc["k"].pop("_lastUpdated")
            docs[doc["_id"]] = doc
        out[rtype] = docs
        out[f"{rtype}_history"] = await db.db[f"{rtype}_history"].count_documents({})
    out[IDS] = sorted([(d["_id"].split(":", 1)[1], d["ids"]) async for d in db.db[IDS].find({})])
    out[MSSANTE] = sorted([d async for d in db.db[MSSANTE].find({})], key=lambda d: str(d["_id"]))
    return out


@pytest.mark.req("SGL.ANN.01")
async def test_the_bulk_first_load_writes_what_the_look_up_first_load_writes_SGL_ANN_01(
        two: tuple[Database, Database], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    zipped = _extraction(tmp_path)
    monkeypatch.setattr(directory_load, "BATCH", 40)  # many batches: the bulk path takes over after the first
    bulk_inserts: list[MongoFhirStore] = []
    create_missing = MongoFhirStore.create_missing

    async def counted(self: MongoFhirStore, resources: list[dict[str, Any]]) -> set[str]:
        bulk_inserts.append(self)
        return await create_missing(self, resources)

    monkeypatch.setattr(MongoFhirStore, "create_missing", counted)
    bulk_db, lookup_db = two
    bulk, lookup = await _both(two, zipped)
    assert len(bulk_inserts) > 10 and all(store is bulk_db.store for store in bulk_inserts)  # only the bulk load
    assert bulk.counts == lookup.counts
    assert bulk.counts["Practitioner"] == {"added": PEOPLE, "changed": 0, "unchanged": 0, "inactivated": 0}
    assert bulk.rejected == lookup.rejected and [r["line"] for r in bulk.rejected] == [lookup.rejected[0]["line"]]
    stored, expected = await _contents(bulk_db), await _contents(lookup_db)
    assert stored == expected  # same resources, same content hashes, versions, search values, id lists
    assert len(stored["Practitioner"]) == PEOPLE and stored["Practitioner_history"] == 0
    with_address = stored["Practitioner"]["as-810000000003"]["r"]["telecom"]
    assert any("@test.mssante.fr" in t["value"] for t in with_address)  # the MSSanté addresses were looked up
    # a reload: 3 renamed, 20 new; each batch's first insert is refused for the stored ids, which are compared
    bulk_inserts.clear()
    more = _extraction(tmp_path / "again", range(PEOPLE + 20), frozenset({7, 100, 250}))
    bulk, lookup = await _both(two, more)
    assert bulk_inserts and all(store is bulk_db.store for store in bulk_inserts) and bulk.counts == lookup.counts
    assert bulk.counts["Practitioner"] == {"added": 20, "changed": 3, "unchanged": PEOPLE - 3, "inactivated": 0}
    stored, expected = await _contents(bulk_db), await _contents(lookup_db)
    assert stored == expected and stored["Practitioner_history"] == 3
    assert stored["Practitioner"]["as-810000000007"]["v"] == 2


def _database_client(data: Path) -> Any:
    state = json.loads((data / "secantus.json").read_text())
    return make_client(f"mongodb://127.0.0.1:{state['port']}/?directConnection=true", embedded=True,
                       credentials=read_credentials(data))


async def _stored_practitioners(data: Path) -> int:
    """How many Practitioners the running load has stored so far (0 before its database is up)."""
    if not (data / "secantus.json").exists() or read_credentials(data) is None:
        return 0
    client = _database_client(data)
    try:
        return await client[Settings().database]["Practitioner"].count_documents({})
    except Exception:  # noqa: BLE001 - the database is still starting
        return 0
    finally:
        await client.close()


@pytest.mark.req("SGL.ANN.01")
async def test_a_first_load_killed_midway_is_finished_by_the_next_without_doubles_SGL_ANN_01(
        tmp_path: Path) -> None:
    people = 2600  # two batches of 2,000 lines: killed once the first is stored
    ps = tmp_path / "PS_LibreAcces_Personne_activite_kill.txt"
    ps.write_text("".join(line + "\n" for line in ps_text(range(people))), encoding="utf-8")
    lines = len(ps.read_text(encoding="utf-8").splitlines()) - 1
    data = tmp_path / "var"
    with subprocess.Popen([SGL, "annuaire", "load", str(ps), "--data-dir", str(data)], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, env=os.environ.copy()) as load:
        deadline = time.monotonic() + 240
        while (stored := await _stored_practitioners(data)) == 0 and load.poll() is None:
            assert time.monotonic() < deadline, "the load stored nothing in 4 minutes"
            time.sleep(0.2)
        os.kill(load.pid, signal.SIGKILL)
        load.wait(timeout=30)
    assert 0 < stored < people, "not killed midway"
    again = run_sgl("annuaire", "load", str(ps), "--data-dir", str(data))
    assert again.returncode == 0, again.stderr[-2000:]
    counts = {line.split(";")[0]: [int(n) for n in line.split(";")[1:]] for line in again.stdout.splitlines()
              if line.startswith(DIRECTORY_TYPES)}
    added, changed, unchanged, inactivated = counts["Practitioner"]
    assert changed == 0 and inactivated == 0 and 0 < unchanged < people and added + unchanged == people
    database = await open_database(Settings(data_dir=data))
    try:
        db = database.db
        assert await db["Practitioner"].count_documents({}) == people
        assert await db["PractitionerRole"].count_documents({}) == lines
        for rtype in DIRECTORY_TYPES:  # nothing written twice: every resource at version 1, no history
            assert await db[rtype].count_documents({"v": {"$ne": 1}}) == 0
            assert await db[f"{rtype}_history"].count_documents({}) == 0
    finally:
        await database.close()
