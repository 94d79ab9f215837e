"""``run_in_transaction``: a unit of work that loses to a concurrent writer runs again from its reads in a
fresh transaction, never keeps anything of a lost attempt, and gives up after ``attempts`` with a 409."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from pymongo.errors import AutoReconnect, DuplicateKeyError, OperationFailure

from resources.errors import PreconditionFailed, WriteConflict
from resources.store.transactions import RetriesExhausted, retry_conflicts, run_in_transaction
from server.database import Database

TRANSIENT = OperationFailure("WriteConflict error", 112, {"errorLabels": ["TransientTransactionError"]})


class Flaky:
    """Fails with ``errors`` (one per call) before answering ``done``; counts its calls."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


async def test_a_unit_that_lost_to_concurrent_writers_is_run_again_until_it_commits() -> None:
    flaky = Flaky(TRANSIENT, WriteConflict("lost"), DuplicateKeyError("E11000", 11000))
    assert await retry_conflicts(flaky, 4) == "done"
    assert flaky.calls == 4


async def test_it_gives_up_after_its_attempts_with_a_409_naming_the_work_and_the_last_conflict() -> None:
    flaky = Flaky(*(WriteConflict(f"lost {n}") for n in range(5)))
    with pytest.raises(RetriesExhausted) as caught:
        await retry_conflicts(flaky, 3, what="analyzer results")
    assert flaky.calls == 3
    error = caught.value
    assert isinstance(error, WriteConflict) and error.status == 409 and error.attempts == 3
    assert "analyzer results" in error.diagnostics and "after 3 attempts" in error.diagnostics
    assert "lost 2" in error.diagnostics and isinstance(error.__cause__, WriteConflict)


@pytest.mark.parametrize("error", [ValueError("a bug"), AutoReconnect("the database does not answer"),
                                   PreconditionFailed("version 2, not 1")])
async def test_what_no_concurrent_writer_caused_is_not_retried(error: BaseException) -> None:
    flaky = Flaky(error)
    with pytest.raises(type(error)):
        await retry_conflicts(flaky, 5)
    assert flaky.calls == 1


async def test_a_caller_may_name_more_conflicts_such_as_a_version_read_before_its_transaction() -> None:
    flaky = Flaky(PreconditionFailed("version 2, not 1"))
    assert await retry_conflicts(flaky, 2, also=(PreconditionFailed,)) == "done"
    assert flaky.calls == 2


async def test_at_least_one_attempt() -> None:
    with pytest.raises(ValueError):
        await retry_conflicts(Flaky(), 0)


@pytest.mark.db
async def test_a_lost_attempt_leaves_nothing_and_the_retry_writes_once(sgl_db: Database) -> None:
    scratch = sgl_db.db[f"scratch_tx_{uuid.uuid4().hex[:8]}"]
    attempts = 0

    async def work(session: Any) -> int:
        nonlocal attempts
        attempts += 1
        await scratch.insert_one({"_id": f"row-{attempts}", "attempt": attempts}, session=session)
        await scratch.update_one({"_id": "total"}, {"$inc": {"n": 1}}, upsert=True, session=session)
        if attempts < 3:
            raise WriteConflict("simulated loss after writing")
        return attempts

    try:
        assert await run_in_transaction(sgl_db.store, work, 5) == 3
        rows = await scratch.find({}, sort=[("_id", 1)]).to_list()
        assert rows == [{"_id": "row-3", "attempt": 3}, {"_id": "total", "n": 1}]
    finally:
        await scratch.drop()


@pytest.mark.db
async def test_concurrent_read_modify_writes_of_one_document_all_count_once(sgl_db: Database) -> None:
    """Eight tasks read a counter and write it back plus one, at once: the database aborts the losers,
    which run again from their read, so the counter ends at exactly 8 (no lost update, no double)."""
    scratch = sgl_db.db[f"scratch_tx_{uuid.uuid4().hex[:8]}"]
    await scratch.insert_one({"_id": "counter", "n": 0})
    runs = 0

    async def bump(session: Any) -> None:
        nonlocal runs
        runs += 1
        doc = await scratch.find_one({"_id": "counter"}, session=session)
        assert doc is not None
        await asyncio.sleep(0.01)  # widen the window so that the writers really overlap
        await scratch.replace_one({"_id": "counter"}, {"n": doc["n"] + 1}, session=session)

    try:
        await asyncio.gather(*(run_in_transaction(sgl_db.store, bump, 30) for _ in range(8)))
        assert (await scratch.find_one({"_id": "counter"}) or {}).get("n") == 8
        assert runs > 8, "the writers never conflicted: the test did not exercise a retry"
    finally:
        await scratch.drop()
