"""History holds the versions that are no longer current: a create writes one document, an update copies
the version it supersedes, a deletion the last one and its marker; reads of history merge both."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from resources.errors import Gone
from resources.store.base import Stored
from resources.store.mongo import MongoFhirStore
from server.database import Database

pytestmark = pytest.mark.db


@pytest.fixture
async def store(sgl_db: Database) -> AsyncIterator[MongoFhirStore]:
    name = f"scratch_history_{uuid.uuid4().hex[:8]}"
    yield MongoFhirStore(sgl_db.client[name])
    await sgl_db.client.drop_database(name)


def patient(family: str) -> dict[str, object]:
    return {"resourceType": "Patient", "name": [{"family": family}]}


async def whole_history(store: MongoFhirStore, rid: str | None, count: int) -> list[tuple[str, int, str]]:
    """Every entry, page after page of ``count``."""
    out: list[Stored] = []
    cursor = None
    for _ in range(50):
        page = await store.history("Patient", rid, count=count, cursor=cursor)
        out += page.entries
        cursor = page.next_cursor
        if cursor is None:
            return [(s.id, s.vid, s.method) for s in out]
    raise AssertionError("history paging did not end")


async def test_a_create_writes_no_history_copy_and_still_reads_as_history(store: MongoFhirStore) -> None:
    created = await store.create(patient("MARTIN"))
    many = await store.create_many([(patient("DURAND"), None), (patient("PETIT"), None)])
    assert await store.db["Patient_history"].count_documents({}) == 0
    assert await whole_history(store, created.id, 10) == [(created.id, 1, "POST")]
    assert (await store.vread("Patient", created.id, 1)).resource == created.resource
    assert {(i, v) for i, v, _ in await whole_history(store, None, 10)} == {(s.id, 1) for s in [created, *many]}


async def test_updates_and_a_deletion_keep_every_version_once_in_order(store: MongoFhirStore) -> None:
    first = await store.create(patient("MARTIN"))
    body = {**patient("MARTIN-DURAND"), "id": first.id}
    second, _ = await store.update(body, expected_vid=1)
    third, _ = await store.update({**body, "gender": "female"}, expected_vid=2)
    assert await store.db["Patient_history"].count_documents({}) == 2  # versions 1 and 2, superseded
    assert await whole_history(store, first.id, 1) == [(first.id, 3, "PUT"), (first.id, 2, "PUT"),
                                                       (first.id, 1, "POST")]
    assert (await store.vread("Patient", first.id, 2)).resource == second.resource
    assert (await store.vread("Patient", first.id, 3)).resource == third.resource
    await store.delete("Patient", first.id, expected_vid=3)
    with pytest.raises(Gone):
        await store.read("Patient", first.id)
    assert await whole_history(store, first.id, 2) == [(first.id, 4, "DELETE"), (first.id, 3, "PUT"),
                                                       (first.id, 2, "PUT"), (first.id, 1, "POST")]


async def test_type_history_pages_through_both_collections_newest_first(store: MongoFhirStore) -> None:
    a = await store.create(patient("A"))
    b = await store.create(patient("B"))
    await store.update({**patient("A2"), "id": a.id})
    c = await store.create(patient("C"))
    await store.update({**patient("B2"), "id": b.id})
    expected = {(a.id, 1), (a.id, 2), (b.id, 1), (b.id, 2), (c.id, 1)}
    for count in (1, 2, 10):
        entries = [(i, v) for i, v, _ in await whole_history(store, None, count)]
        assert sorted(entries) == sorted(expected), count  # each version once, on any page size
        times = [(await store.vread("Patient", i, v)).last_updated for i, v in entries]
        assert times == sorted(times, reverse=True), count
        assert entries.index((a.id, 2)) < entries.index((a.id, 1))
        assert entries.index((b.id, 2)) < entries.index((b.id, 1))


async def test_a_database_that_kept_every_version_in_history_lists_each_once(store: MongoFhirStore) -> None:
    """Written before history-on-supersede, history also holds the current version: merged once."""
    created = await store.create(patient("MARTIN"))
    await store._append_history("Patient", created, None)  # what the old create wrote
    assert await whole_history(store, created.id, 10) == [(created.id, 1, "POST")]
    assert await whole_history(store, None, 1) == [(created.id, 1, "POST")]
    await store.update({**patient("DURAND"), "id": created.id})  # the copy already there is kept as is
    assert await whole_history(store, created.id, 10) == [(created.id, 2, "PUT"), (created.id, 1, "POST")]
