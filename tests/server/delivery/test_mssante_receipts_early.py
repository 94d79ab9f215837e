"""A receipt that reaches the BAL before its delivery records the Message-ID is kept, not lost (SGL.MSS.22).

The operator writes the DSN/MDN as soon as it accepts the mail; the outbox worker records the Message-ID
(``remote_id``) only once the SMTP session is over and its outcome written. A poll in between used to mark
the receipt read as "unknown" and the delivery never got it (the e2e channel test failed so under load).
Here the two steps are taken apart on a real database (a database of its own on the session's embedded
server, which no outbox worker watches)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from facades.mssante import Fetched, Receipt
from server.database import Database, open_database
from server.delivery.mssante_channel import message_id
from server.delivery.mssante_receipts import apply_fetched, awaited
from server.delivery.outbox import COLLECTION
from server.settings import Settings
from tests.support.sgl_server import SglProcess

SENDER = "labo-resultats@labo-opensgl.mssante.fr"


@pytest.fixture
async def database(sgl_server: SglProcess) -> AsyncIterator[Database]:
    database = await open_database(Settings(data_dir=sgl_server.data_dir, database=f"receipts-{uuid.uuid4().hex[:8]}"))
    try:
        yield database
    finally:
        await database.client.drop_database(database.db.name)
        await database.close()


def _delivery(key: str) -> dict[str, Any]:
    return {"_id": key, "channel": "mssante", "state": "pending", "recipient": "dr-early@cabinet.mssante.fr",
            "report_id": "r-early", "version": 1, "attempts": 0}


@pytest.mark.req("SGL.MSS.22")
async def test_a_receipt_ahead_of_its_delivery_stays_unread_until_the_message_id_is_recorded_SGL_MSS_22(
        database: Database) -> None:
    key = "mssante:dr-early@cabinet.mssante.fr:r-early:v1:publish"
    mid = message_id(key, SENDER)
    deliveries = database.db[COLLECTION]
    await deliveries.insert_one(_delivery(key))  # leased and being sent: no remote_id yet
    early = Fetched("7", (Receipt(mid, "dr-early@cabinet.mssante.fr", "processed", report_message_id="<mdn-1@op>"),))
    relayed = Fetched("6", (Receipt(mid, "dr-early@cabinet.mssante.fr", "delivered", report_message_id="<dsn-1@op>"),))
    foreign = Fetched("8", (Receipt("<not-ours@elsewhere>", "x@y.mssante.fr", "delivered"),))
    plain = Fetched("9", ())  # a person's mail: not a receipt

    fetched = [relayed, early, foreign, plain]
    assert await apply_fetched(database.store, database.db, fetched, SENDER) == ["8", "9"]  # both of ours kept
    assert "receipt" not in await deliveries.find_one({"_id": key})  # nothing recorded, mail 7 left unread

    await deliveries.update_one({"_id": key}, {"$set": {"state": "delivered", "remote_id": mid}})  # the worker settles
    assert await apply_fetched(database.store, database.db, [relayed, early], SENDER) == ["6", "7"]
    stored = await deliveries.find_one({"_id": key})
    assert stored["receipt"]["status"] == "processed"  # the strongest of the two
    assert stored["receipts"] == [
        {"status": "delivered", "code": "", "label": "", "recipient": "dr-early@cabinet.mssante.fr",
         "report": "<dsn-1@op>"},
        {"status": "processed", "code": "", "label": "", "recipient": "dr-early@cabinet.mssante.fr",
         "report": "<mdn-1@op>"}]


async def test_a_receipt_for_a_settled_delivery_with_another_message_id_is_read_and_dropped(
        database: Database) -> None:
    key = "mssante:dr-other@cabinet.mssante.fr:r-other:v1:publish"
    await database.db[COLLECTION].insert_one({**_delivery(key), "state": "failed"})  # not pending: nothing awaited
    stray = Fetched("3", (Receipt(message_id(key, SENDER), "dr-other@cabinet.mssante.fr", "processed"),))
    assert await apply_fetched(database.store, database.db, [stray], SENDER) == ["3"]
    assert "receipt" not in await database.db[COLLECTION].find_one({"_id": key})


async def test_a_delivery_settled_between_the_two_lookups_still_keeps_its_receipt(database: Database) -> None:
    """``apply_receipt`` looked before the worker recorded the Message-ID, ``awaited`` looks after: the delivery
    is no longer pending but names the Message-ID, so the receipt is kept for the next poll, not dropped."""
    key = "mssante:dr-late@cabinet.mssante.fr:r-late:v1:publish"
    mid = message_id(key, SENDER)
    await database.db[COLLECTION].insert_one({**_delivery(key), "state": "delivered", "remote_id": mid})
    assert await awaited(database.db, SENDER, {mid, "<not-ours@elsewhere>"}) == {mid}
