"""A new index over a collection that holds documents is announced at start-up: the collection, the index, its
size, then its duration (before, the start-up built it in silence, minutes on a big collection, as if frozen).
Checked with the start-up's own database opening (``open_database``, what ``sgl serve`` runs before listening)
on a scratch embedded database, twice: with an index dropped as an upgrade that adds one would find it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from server.database import open_database
from server.settings import Settings

pytestmark = pytest.mark.db


def _glucose(n: int) -> dict[str, object]:
    return {"resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7"}]},
            "subject": {"reference": f"Patient/p{n}"},
            "valueQuantity": {"value": 1 + n / 100, "unit": "g/L", "system": "http://unitsofmeasure.org",
                              "code": "g/L"}}


async def test_a_new_index_on_a_filled_collection_is_announced_with_its_size(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    database = await open_database(settings)
    try:
        for n in range(25):
            await database.store.create(_glucose(n))
        await database.db["Observation"].drop_index("code")  # what a version adding the index finds
    finally:
        await database.close()
    with caplog.at_level(logging.INFO, logger="resources.store.index_build"):
        database = await open_database(settings)
        try:
            assert "code" in await database.db["Observation"].index_information()
        finally:
            await database.close()
    said = [r.getMessage() for r in caplog.records if r.name == "resources.store.index_build"]
    assert said[0] == "Observation: index code: building over 25 documents before the server listens", said
    assert said[1].startswith("Observation: index code: built in ") and len(said) == 2, said
