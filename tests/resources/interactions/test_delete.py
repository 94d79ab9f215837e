"""delete with a write rule is all-or-nothing, as update is: what the rule writes beside the resource (the
server's rules write outbox deliveries there) commits with the delete, and a stale If-Match, a refusal or a
crash after the rule ran leaves nothing of either."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from resources import interactions
from resources.errors import PreconditionFailed, RuleViolation
from resources.interactions import WriteIntent
from server.database import Database

pytestmark = pytest.mark.db


class SideWriter:
    """Writes a Basic naming the deleted resource in the delete's session (as the withdrawal deliveries are
    written), then fails the way it is told: ``"refuse"`` (a rule refusal) or ``"crash"`` (anything else)."""

    def __init__(self, db: Database, tag: str, fail: str | None = None) -> None:
        self.db, self.tag, self.fail = db, tag, fail
        self.sessions: list[object] = []

    async def __call__(self, intent: WriteIntent) -> dict[str, Any] | None:
        self.sessions.append(intent.session)
        await self.db.store.create({"resourceType": "Basic", "code": {"text": self.tag}}, session=intent.session)
        if self.fail == "refuse":
            raise RuleViolation("TEST.02", "refused after writing", expression="Device")
        if self.fail == "crash":
            raise RuntimeError("the process dies between the rule's write and the delete")
        return None


async def _device(db: Database) -> str:
    created = await interactions.create(db.store, "Device", {"resourceType": "Device", "manufacturer": "del"})
    assert created.resource is not None
    return str(created.resource["id"])


async def _side_writes(db: Database, tag: str) -> int:
    return await db.db["Basic"].count_documents({"r.code.text": tag})


async def _exists(db: Database, rid: str) -> bool:
    try:
        await db.store.read("Device", rid)
    except Exception:
        return False
    return True


async def test_a_delete_and_what_its_rule_writes_commit_together(sgl_db: Database) -> None:
    rid, tag = await _device(sgl_db), uuid.uuid4().hex
    rule = SideWriter(sgl_db, tag)
    outcome = await interactions.delete(sgl_db.store, "Device", rid, write_rule=rule)
    assert outcome.status == 204 and not await _exists(sgl_db, rid)
    assert await _side_writes(sgl_db, tag) == 1
    assert rule.sessions and all(s is not None for s in rule.sessions), "the rule ran inside a transaction"


async def test_a_stale_if_match_leaves_neither_the_delete_nor_the_rules_writes(sgl_db: Database) -> None:
    rid, tag = await _device(sgl_db), uuid.uuid4().hex
    with pytest.raises(PreconditionFailed):
        await interactions.delete(sgl_db.store, "Device", rid, if_match='W/"7"', write_rule=SideWriter(sgl_db, tag))
    assert await _exists(sgl_db, rid) and await _side_writes(sgl_db, tag) == 0


@pytest.mark.parametrize("fail", ["refuse", "crash"])
async def test_a_failure_after_the_rule_wrote_leaves_nothing_half_done(sgl_db: Database, fail: str) -> None:
    rid, tag = await _device(sgl_db), uuid.uuid4().hex
    with pytest.raises((RuleViolation, RuntimeError)):
        await interactions.delete(sgl_db.store, "Device", rid, write_rule=SideWriter(sgl_db, tag, fail))
    assert await _exists(sgl_db, rid) and await _side_writes(sgl_db, tag) == 0


async def test_a_delete_inside_a_callers_transaction_uses_that_transaction(sgl_db: Database) -> None:
    rid, tag = await _device(sgl_db), uuid.uuid4().hex
    rule = SideWriter(sgl_db, tag)
    with pytest.raises(RuntimeError):
        async with sgl_db.store.transaction() as session:
            await interactions.delete(sgl_db.store, "Device", rid, session=session, write_rule=rule)
            raise RuntimeError("the caller's bundle fails later")
    assert rule.sessions == [session]
    assert await _exists(sgl_db, rid) and await _side_writes(sgl_db, tag) == 0
