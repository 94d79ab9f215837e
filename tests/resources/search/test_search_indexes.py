"""Every supported search parameter is served by an index on the embedded database: no scans."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from resources.interactions.search import plan_search
from resources.search.params import PARAMS
from resources.store.indexes import current_indexes
from server.database import Database, open_database
from server.settings import Settings
from tests.support.sgl_server import SglProcess

pytestmark = pytest.mark.db

SAMPLE = {"token": "http://loinc.org|2345-7", "string": "dup", "date": "2024-05", "reference": "Patient/1",
          "quantity": "gt5", "composite": "http://loinc.org|2345-7$gt5", "uri": "http://example.org/cs"}


@pytest.fixture(scope="module")
async def database(sgl_server: SglProcess) -> AsyncIterator[Database]:
    db = await open_database(Settings(data_dir=sgl_server.data_dir))
    yield db
    await db.close()


def _stages(plan: dict[str, Any]) -> list[str]:
    out = [plan.get("stage", "")]
    for key in ("inputStage", "queryPlan"):
        if key in plan:
            out += _stages(plan[key])
    for sub in plan.get("inputStages", []):
        out += _stages(sub)
    return out


CASES = [(rtype, name, p.type) for rtype, params in PARAMS.items() for name, p in params.items()]


@pytest.mark.parametrize(("rtype", "name", "ptype"), CASES, ids=[f"{t}.{n}" for t, n, _ in CASES])
async def test_search_parameter_uses_an_index(database: Database, rtype: str, name: str, ptype: str) -> None:
    value = SAMPLE[ptype]
    if ptype == "reference":
        targets = PARAMS[rtype][name].targets
        value = f"{targets[0]}/1" if targets else "Patient/1"
    req = await plan_search(database.store, rtype, [(name, value)], strict=True)
    assert req.hint in {m.document["name"] for m in current_indexes(rtype)} | {"_id_"}
    explain = await database.db.command({"explain": {"find": rtype, "filter": req.filter, "hint": req.hint}})
    stages = _stages(explain["queryPlanner"]["winningPlan"])
    assert "IXSCAN" in stages and "COLLSCAN" not in stages


async def test_lab_search_uses_the_compound_index(database: Database) -> None:
    req = await plan_search(database.store, "Observation", [("patient", "1"), ("code", "http://loinc.org|2345-7")],
                            strict=True)
    assert req.hint == "s.subject+s.code"
    dated = await plan_search(database.store, "Observation", [("subject", "Patient/1"), ("_sort", "-date")],
                              strict=True)
    assert dated.hint == "s.subject+k.date"
