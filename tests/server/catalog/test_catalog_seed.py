"""First-start seed of the catalogue (server/catalog/seed.py): once, all or nothing, never twice."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from resources.errors import RuleViolation
from resources.interactions import WriteIntent
from server.catalog import catalog_present, seed_catalog
from server.database import open_database
from server.settings import Settings
from server.stored_catalog import CATALOG_TYPES
from tests.support.access import auth_for
from tests.support.sgl_server import SglProcess, start_sgl

pytestmark = pytest.mark.db


def _counts(server: SglProcess) -> dict[str, int]:
    auth = auth_for(server.base, server.data_dir, "biologiste")
    return {t: httpx.get(f"{server.base}/{t}", params={"_summary": "count"}, auth=auth).json()["total"]
            for t in CATALOG_TYPES}


def test_seed_is_loaded_on_first_start_and_a_restart_writes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "var"
    first = start_sgl(data, from_template=False)  # a real first start, not a copy
    try:
        counts = _counts(first)
        code_system = httpx.get(f"{first.base}/CodeSystem/catalogue",
                                auth=auth_for(first.base, data, "biologiste")).json()
    finally:
        assert first.stop() == 0
    assert counts == {"CodeSystem": 1, "SpecimenDefinition": counts["SpecimenDefinition"], "Device": 2,
                      "ObservationDefinition": 98, "ActivityDefinition": 41, "ConceptMap": 1}
    assert counts["SpecimenDefinition"] > 0 and code_system["meta"]["versionId"] == "1"
    assert "seed analysis catalogue loaded: 7 chapters, 98 analyses, 41 exams" in first.log.read_text()
    second = start_sgl(data)
    try:
        assert _counts(second) == counts
        again = httpx.get(f"{second.base}/CodeSystem/catalogue", auth=auth_for(second.base, data, "biologiste")).json()
        history = httpx.get(f"{second.base}/CodeSystem/catalogue/_history",
                            auth=auth_for(second.base, data, "biologiste")).json()
    finally:
        assert second.stop() == 0
    assert again["meta"] == code_system["meta"] and len(history["entry"]) == 1
    assert "analysis catalogue already stored: seed not loaded" in second.log.read_text()


async def test_seed_failing_half_way_writes_nothing_then_loads_once(sgl_server: SglProcess) -> None:
    database = await open_database(Settings(data_dir=sgl_server.data_dir, database=f"seed-{uuid.uuid4().hex[:8]}"))
    writes: list[str] = []

    async def refuse_exams(intent: WriteIntent) -> dict[str, Any] | None:
        writes.append(intent.resource_type)
        if intent.resource_type == "ActivityDefinition":
            raise RuleViolation("TEST", "no exam may be written", expression="ActivityDefinition")
        return intent.proposed

    async def accept(intent: WriteIntent) -> dict[str, Any] | None:
        return intent.proposed

    try:
        with pytest.raises(RuleViolation):
            await seed_catalog(database.store, write_rule=refuse_exams)
        assert "ObservationDefinition" in writes  # the failure came after other writes...
        assert not await catalog_present(database.store)  # ...and none of them stayed
        for rtype in CATALOG_TYPES:
            assert await database.db[rtype].count_documents({}) == 0, rtype
            assert await database.db[f"{rtype}_history"].count_documents({}) == 0, rtype
        assert await seed_catalog(database.store, write_rule=accept) == 150
        assert await seed_catalog(database.store, write_rule=accept) == 0
        assert await database.db["ObservationDefinition"].count_documents({}) == 98
    finally:
        await database.client.drop_database(database.db.name)
        await database.close()



async def test_a_process_that_loses_the_seed_waits_for_the_winner_or_seeds_after_the_wait(
        sgl_server: SglProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    """Several ``sgl serve`` started together on a new database: the loser's retries run out while the
    winner's transaction is open; it waits for the winner's catalogue, and seeds itself when none came."""
    from resources.store.transactions import RetriesExhausted
    from server.catalog import seed as seeding

    database = await open_database(Settings(data_dir=sgl_server.data_dir, database=f"seed-{uuid.uuid4().hex[:8]}"))
    real, lost = seeding.run_in_transaction, []

    async def loses_once(*args: Any, **kwargs: Any) -> Any:
        if not lost:
            lost.append(True)
            raise RetriesExhausted("seed catalogue", 5, Exception("WriteConflict"))
        return await real(*args, **kwargs)

    async def accept(intent: WriteIntent) -> dict[str, Any] | None:
        return intent.proposed

    monkeypatch.setattr(seeding, "run_in_transaction", loses_once)
    monkeypatch.setattr(seeding, "PEER_WAIT_S", 0.6)
    try:
        assert await seeding._peer_seeded(database.store, 0.2) is False  # nobody seeded this database
        assert await seed_catalog(database.store, write_rule=accept) == 150  # no winner came: seeded after the wait
        lost.clear()
        assert await seed_catalog(database.store, write_rule=accept) == 0  # the winner's catalogue is there
        assert await seeding._peer_seeded(database.store, 0.2) is True
    finally:
        await database.client.drop_database(database.db.name)
        await database.close()
