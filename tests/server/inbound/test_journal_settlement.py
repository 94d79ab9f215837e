"""A route whose handler journals the message in its own transaction (the analyzer results): the raw message and
its outcome commit with what it produced, or, when that transaction does not commit, the dispatcher writes the
entry with the reason before the message is answered. Real embedded database (the session server's), the
dispatcher and journal as ``sgl serve`` wires them; the handlers are stand-ins that write in a transaction."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from facades.hl7v2 import AckDecision, InboundMessage, parse
from server.database import Database
from server.inbound.hl7_dispatch import Hl7Dispatcher
from server.inbound.journal import COLLECTION, InboundJournal
from server.inbound.settlement import Settlement

pytestmark = pytest.mark.db
SCRATCH = "journal_settlement_effects"


def oru(control: str) -> InboundMessage:
    raw = (f"MSH|^~\\&|BIO1|LABO|SGL|LABO|20261126080000||ORU^R01^ORU_R01|{control}|P|2.5\r"
           "OBR|1||T1\rOBX|1|NM|GLU||1.02|g/L|||||F\r").encode()
    return InboundMessage(raw=raw, message=parse(raw), peer="127.0.0.1:4000", connection_id=1)


def writing(db: Database, *, fail_after_settle: bool) -> Callable[[InboundMessage, Settlement], Awaitable[AckDecision]]:
    """A handler that stores one effect and settles the entry in one transaction (as ``ResultIngest`` does);
    with ``fail_after_settle`` the transaction fails after both statements, so neither may remain."""
    async def handle(inbound: InboundMessage, settlement: Settlement) -> AckDecision:
        effect = f"Observation/{uuid.uuid4()}"
        async with db.client.start_session() as session, await session.start_transaction():
            await db.db[SCRATCH].insert_one({"_id": effect, "control": inbound.message.control_id}, session=session)
            await settlement.settle("processed", None, [effect], session)
            if fail_after_settle:
                raise RuntimeError("the store refused the commit")
        return AckDecision.accept(produced=[effect])
    return handle


async def entries(db: Database, control: str) -> list[dict[str, Any]]:
    return await db.db[COLLECTION].find({"control_id": control}).to_list(10)


async def test_a_journaling_handler_writes_the_raw_message_with_its_results_in_one_commit(sgl_db: Database) -> None:
    dispatcher = Hl7Dispatcher(InboundJournal(sgl_db.db))
    dispatcher.route_settling("ORU", "R01", writing(sgl_db, fail_after_settle=False))
    control = f"JT-{uuid.uuid4().hex[:8]}"
    inbound = oru(control)
    decision = await dispatcher(inbound)
    [entry] = await entries(sgl_db, control)  # once: the dispatcher did not write it again
    assert entry["status"] == "processed" and entry["raw"] == inbound.raw
    assert entry["produced"] == list(decision.produced)
    assert entry["partner"]["application"] == "BIO1" and entry["received_at"] and entry["settled_at"]
    assert await sgl_db.db[SCRATCH].count_documents({"_id": decision.produced[0]}) == 1


async def test_a_transaction_that_does_not_commit_leaves_the_refusal_and_the_raw_message(sgl_db: Database) -> None:
    dispatcher = Hl7Dispatcher(InboundJournal(sgl_db.db))
    dispatcher.route_settling("ORU", None, writing(sgl_db, fail_after_settle=True))  # every ORU event
    control = f"JT-{uuid.uuid4().hex[:8]}"
    inbound = oru(control)
    with pytest.raises(RuntimeError):  # the MLLP server answers AE: the analyzer sends it again
        await dispatcher(inbound)
    [entry] = await entries(sgl_db, control)
    assert entry["status"] == "error" and "refused the commit" in entry["detail"] and entry["raw"] == inbound.raw
    assert "produced" not in entry  # the aborted transaction's effect and its 'processed' mark are both gone
    assert await sgl_db.db[SCRATCH].count_documents({"control": control}) == 0


async def test_a_route_that_does_not_journal_keeps_the_entry_written_before_its_handler(sgl_db: Database) -> None:
    dispatcher = Hl7Dispatcher(InboundJournal(sgl_db.db))
    control = f"JT-{uuid.uuid4().hex[:8]}"
    seen: list[int] = []

    async def handle(inbound: InboundMessage) -> AckDecision:
        seen.append(len(await entries(sgl_db, control)))  # journal first: already durable while handled
        return AckDecision.accept()
    dispatcher.route("ORU", "R01", handle)
    await dispatcher(oru(control))
    [entry] = await entries(sgl_db, control)
    assert seen == [1] and entry["status"] == "processed"
