"""Every supported search parameter leads its query with an indexed field: no collection scans.

SecantusDB executes a query through the index of the filter's first field (search/clause.py), so
the check is structural: the first key of each planned filter is the leading field of an index
built at start-up. The large-data behaviour is measured by bench/fhir_store.py.
"""

from __future__ import annotations

import pytest

from resources.interactions.search import plan_search
from resources.search.params import PARAMS
from resources.store.indexes import Engine, current_indexes
from server.database import Database

pytestmark = pytest.mark.db

SAMPLE = {"token": "http://loinc.org|2345-7", "string": "dup", "date": "2024-05", "reference": "Patient/1",
          "quantity": "gt5", "composite": "http://loinc.org|2345-7$gt5", "uri": "http://example.org/cs"}



def _leading_fields(rtype: str, engine: Engine) -> set[str]:
    return {next(iter(m.document["key"])) for m in current_indexes(rtype, engine=engine)} | {"_id"}


CASES = [(rtype, name, p.type) for rtype, params in PARAMS.items() for name, p in params.items()]


@pytest.mark.parametrize(("rtype", "name", "ptype"), CASES, ids=[f"{t}.{n}" for t, n, _ in CASES])
async def test_search_parameter_leads_with_an_indexed_field(sgl_db: Database, rtype: str, name: str,
                                                            ptype: str) -> None:
    value = SAMPLE[ptype]
    if ptype == "reference":
        targets = PARAMS[rtype][name].targets
        value = f"{targets[0]}/1" if targets else "Patient/1"
    req = await plan_search(sgl_db.store, rtype, [(name, value)], strict=True)
    first = next(iter(req.filter))
    assert first in _leading_fields(rtype, "embedded"), (first, req.filter)
    assert first in _leading_fields(rtype, "mongodb"), (first, req.filter)
    assert "$and" not in req.filter and "$or" not in req.filter


async def test_index_names_in_the_database_match_the_plan(sgl_db: Database) -> None:
    info = await sgl_db.db["Observation"].index_information()
    expected = {m.document["name"] for m in current_indexes("Observation", engine=sgl_db.store.engine)}
    assert expected <= set(info)


async def test_lab_search_leads_with_the_patient_then_the_code(sgl_db: Database) -> None:
    req = await plan_search(sgl_db.store, "Observation",
                            [("status", "final"), ("code", "http://loinc.org|2345-7"), ("patient", "1")], strict=True)
    assert list(req.filter)[:2] == ["s.subject", "s.code"]
    assert list(req.filter)[-1] == "s.status"


async def test_two_words_of_a_name_lead_with_the_index_and_both_must_hold(sgl_db: Database) -> None:
    """The order form's prescriber search (``name=presc&name=pau``): one index range, no ``$and`` scan, and
    the second word still filters (re-checked on the documents the first range fetched)."""
    for family, given in (("PRESCRIPTEUR", "Paul"), ("PRESCRIPTEUR", "Jean"), ("PAULIN", "Marc")):
        await sgl_db.store.create({"resourceType": "Practitioner", "name": [{"family": family, "given": [given]}]})
    req = await plan_search(sgl_db.store, "Practitioner", [("name", "presc"), ("name", "pau")], strict=True)
    assert next(iter(req.filter)) == "s.name" and "$and" not in req.filter and "$or" not in req.filter
    page = await sgl_db.store.search(req)
    assert [r["name"][0]["given"] for r in page.matches] == [["Paul"]]


async def test_a_rare_second_word_is_found_behind_many_rejected_documents(sgl_db: Database) -> None:
    """Re-checked batches grow: 300 homonyms of the first word sorted before the one that also has the second
    word, and it is still found (the search reads further batches, larger each time)."""
    crowd = [({"resourceType": "Practitioner", "name": [{"family": "DUCROWD", "given": ["Jean"]}]}, f"a{i:03d}")
             for i in range(300)]
    await sgl_db.store.create_many([*crowd, ({"resourceType": "Practitioner",
                                             "name": [{"family": "DUCROWD", "given": ["Rare"]}]}, "z-rare")])
    req = await plan_search(sgl_db.store, "Practitioner", [("name", "ducrowd"), ("name", "rar"), ("_count", "1")],
                            strict=True)
    page = await sgl_db.store.search(req)
    assert [r["id"] for r in page.matches] == ["z-rare"]
