"""The two-parameter searches the server and the workbench send all day are index scans of one compound index
on the embedded database (its planner never combines two single-field indexes: two equality clauses on two of
them are a full scan of the collection, whatever its size). Checked with ``explain`` on the session server's
own database, with the filter, sort and limit the store sends for each search."""

from __future__ import annotations

import json
from typing import Any

import pytest

from resources.interactions.search import plan_search
from resources.store.indexes import COMPOUND_INDEXES, current_indexes
from server.database import Database

pytestmark = pytest.mark.db

SEARCHES = [
    # server/orders/pending.py: the active orders of an accession's tubes (one, or several: a $in last);
    # web Unmatched.tsx: of one tube
    ("ServiceRequest", [("specimen", "Specimen/tube-1,Specimen/tube-2"), ("status", "active")],
     "s.status+s.specimen"),
    ("ServiceRequest", [("specimen", "Specimen/tube-1"), ("status", "active")], "s.status+s.specimen"),
    # server/worklist_events.py and web Unmatched.tsx: the open unmatched-result Tasks
    ("Task", [("code", "https://opensgl.org/fhir/CodeSystem/task|unmatched-result"), ("status", "requested")],
     "s.code+s.status"),
    # web CriticalCalls.tsx: a patient's critical-value calls
    ("Communication", [("subject", "Patient/p-1"), ("category", "http://example.org/cat|critical")],
     "s.subject+s.category"),
    # server/orders/refusals.py: a dossier's consent for a channel, its active consents
    ("Consent", [("patient", "Patient/p-1"), ("category", "https://opensgl.org/channel|dmp")], "s.patient+s.category"),
    ("Consent", [("patient", "Patient/p-1"), ("status", "active")], "s.patient+s.status"),
    # the benchmark's search: a patient's results for one analysis
    ("Observation", [("subject", "Patient/p-1"), ("code", "http://loinc.org|2345-7")], "s.subject+s.code"),
]


def _index_names(plan: Any) -> set[str]:
    """Every index a winning plan reads (``indexName`` at any depth)."""
    if isinstance(plan, dict):
        own = {plan["indexName"]} if "indexName" in plan else set()
        return own.union(*(_index_names(v) for v in plan.values()))
    if isinstance(plan, list):
        return set().union(*(_index_names(v) for v in plan))
    return set()


@pytest.mark.parametrize(("rtype", "pairs", "index"), SEARCHES, ids=[f"{s[0]}-{s[2]}" for s in SEARCHES])
async def test_two_parameter_search_is_an_index_scan_of_its_compound_index(
        sgl_db: Database, rtype: str, pairs: list[tuple[str, str]], index: str) -> None:
    request = await plan_search(sgl_db.store, rtype, pairs, strict=True)
    explained = await sgl_db.db.command("explain", {"find": rtype, "filter": request.filter,
                                                    "sort": {request.sort[0]: request.sort[1]},
                                                    "limit": request.count + 1})
    winning = explained["queryPlanner"]["winningPlan"]
    text = json.dumps(winning, default=str)
    assert "IXSCAN" in text and "COLLSCAN" not in text, text
    assert index in _index_names(winning), text


def test_a_compound_index_replaces_the_single_field_index_of_its_leading_field() -> None:
    """A compound index serves its leading field alone (a prefix scan), so no single-field index repeats it
    (the embedded database's set: it gets every compound)."""
    for rtype, compounds in COMPOUND_INDEXES.items():
        keys = [list(m.document["key"]) for m in current_indexes(rtype, engine="embedded")]
        for fields in compounds:
            assert list(fields) in keys, (rtype, fields)
            assert [fields[0]] not in keys, (rtype, fields[0])
