"""Receipts of the applicative BAL applied to the MSSanté deliveries (SGL.MSS.22).

A poller reads the BAL's unread mail over IMAP (``MssClient.fetch_receipts``), links every DSN / MDN
to its delivery by the Message-ID the channel stored as ``remote_id`` (one delivery per recipient,
so the Message-ID names the recipient too), and records on that delivery:

- ``receipt``: the strongest status so far (``delivered`` < ``processed``/``read``; ``failed`` and
  ``integration-error`` are never hidden by a later weaker one) with the error code and label;
- ``receipts``: every report received (added once: reading the same mail again changes nothing).

A failure (a bounce, or the recipient platform's "KO intégration") turns the delivery into a failed
one with a worklist Task naming the recipient and the error, like a refused send. Only then are the
mails marked read, so a crash in between reads them again and loses nothing.

A receipt can be in the BAL before its delivery names the Message-ID: the operator answers as soon as it
accepts the mail, while the outbox worker is still closing the SMTP session and recording the outcome.
Such a mail is left unread while a pending MSSanté delivery would send that Message-ID (it is derived from
the delivery's key, ``mssante_channel.message_id``), and read again at the next polls; marking it read at
once lost the receipt for good (seen under load: the report's receipts never arrived).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from facades.mssante import Fetched, MssClient, MssTlsRefused, OperatorConfig, Receipt, strongest
from resources.errors import SglError
from resources.search.date import now_utc
from resources.store.base import FhirStore
from server.context import AppContext
from server.delivery.lease import PENDING
from server.delivery.mssante_alert import imap_read, imap_refused
from server.delivery.mssante_channel import message_id, operator_config
from server.delivery.outbox import COLLECTION, FAILED
from server.delivery.worker import sent_what
from server.worklist import DELIVERY_FAILED, delivery_failed_label, open_task, worklist_task

log = logging.getLogger(__name__)
FAILURES = ("failed", "integration-error")
LABELS = {"delayed": "remise différée", "delivered": "remis", "processed": "intégré par le destinataire",
          "read": "lu", "failed": "non remis", "integration-error": "erreur d'intégration chez le destinataire"}


async def _fail(store: FhirStore, db: AsyncDatabase[Any], delivery: dict[str, Any], receipt: Receipt) -> None:
    what, focus = sent_what(delivery)
    description = (f"Envoi MSSanté {what} à {delivery['recipient']} : {LABELS[receipt.status]} "
                   f"({receipt.code} {receipt.label}).")
    async with store.transaction() as session:
        task = await open_task(store, worklist_task(
            DELIVERY_FAILED, focus, delivery.get("patient"), description,
            {"delivery": str(delivery["_id"]), "channel": "mssante", "recipient": delivery["recipient"],
             "answer": f"{receipt.code} {receipt.label}".strip() or receipt.status},
            label=delivery_failed_label(delivery["action"])), session)
        await db[COLLECTION].update_one({"_id": delivery["_id"], "state": {"$ne": FAILED}},
                                        {"$set": {"state": FAILED, "task": task["id"],
                                                  "last_answer": description}}, session=session)


async def apply_receipt(store: FhirStore, db: AsyncDatabase[Any], receipt: Receipt) -> bool:
    """Record one receipt on its delivery; ``False`` when no MSSanté delivery has that Message-ID."""
    deliveries = db[COLLECTION]
    delivery = await deliveries.find_one({"channel": "mssante", "remote_id": receipt.original_message_id})
    if delivery is None:
        return False
    status = strongest((delivery.get("receipt") or {}).get("status"), receipt.status)
    entry = {"status": receipt.status, "code": receipt.code, "label": receipt.label,
             "recipient": receipt.recipient, "report": receipt.report_message_id}
    await deliveries.update_one({"_id": delivery["_id"]}, {
        "$set": {"receipt": {"status": status, "code": receipt.code if status == receipt.status else
                             (delivery.get("receipt") or {}).get("code", ""),
                             "label": LABELS.get(status, status), "at": now_utc()}},
        "$addToSet": {"receipts": entry}})
    if receipt.status in FAILURES and delivery.get("state") != FAILED:
        await _fail(store, db, delivery, receipt)
    return True


async def awaited(db: AsyncDatabase[Any], sender: str, message_ids: set[str]) -> set[str]:
    """Those of ``message_ids`` that a pending MSSanté delivery sends (or has just sent, its outcome not yet
    recorded): their receipts came early, not from elsewhere. A delivery that recorded one of them since
    ``apply_receipt`` looked counts too (one query, so a delivery settled in between is seen either pending or
    with its ``remote_id``, never neither): the next poll applies its receipt."""
    if not message_ids:
        return set()
    found: set[str] = set()
    query = {"channel": "mssante", "$or": [{"state": PENDING}, {"remote_id": {"$in": sorted(message_ids)}}]}
    async for delivery in db[COLLECTION].find(query, {"_id": 1}):
        mid = message_id(str(delivery["_id"]), sender)
        if mid in message_ids:
            found.add(mid)
    return found


async def apply_fetched(store: FhirStore, db: AsyncDatabase[Any], fetched: list[Fetched], sender: str) -> list[str]:
    """Apply every receipt; the UIDs that may now be marked read: all but the mails holding a receipt that came
    before its delivery recorded the Message-ID (``sender`` is the BAL's address, part of every Message-ID).
    Non-receipts are left to people in the mailbox, marked read too so they are not fetched at every poll."""
    early: dict[str, set[str]] = {}  # Message-ID -> UIDs of the mails with a receipt no delivery has claimed yet
    for mail in fetched:
        for receipt in mail.receipts:
            if not await apply_receipt(store, db, receipt):
                early.setdefault(receipt.original_message_id, set()).add(mail.uid)
    waiting = await awaited(db, sender, set(early))
    kept = {uid for mid in waiting for uid in early[mid]}
    for mid in early:
        if mid in waiting:
            log.info("MSSanté receipt for %s came before its delivery recorded it: read again at the next poll", mid)
        else:
            log.info("MSSanté receipt for an unknown Message-ID %s (not ours or already purged)", mid)
    return [mail.uid for mail in fetched if mail.uid not in kept]


def receipt_poller(ctx: AppContext) -> ReceiptPoller | None:
    """The BAL's receipt reader when MSSanté is configured (``SGL_MSS_*``), else ``None``."""
    config = operator_config(ctx.settings)
    if config is None or ctx.settings.mss_from is None:
        return None
    return ReceiptPoller(ctx.store, ctx.database.db, config, ctx.settings.mss_receipts_poll, ctx.settings.mss_from)


class ReceiptPoller:
    """Reads the BAL every ``interval`` seconds; an error is logged and the next poll tries again. A certificate
    refusal also tells a person (one Task, ``mssante_alert.py``), closed by the next poll that reads the BAL."""

    def __init__(self, store: FhirStore, db: AsyncDatabase[Any], config: OperatorConfig, interval: float,
                 sender: str) -> None:
        self.store, self.db, self.config, self.interval, self.sender = store, db, config, interval, sender

    async def poll_once(self) -> int:
        client = MssClient(self.config)
        fetched = await client.fetch_receipts()
        await client.mark_read(await apply_fetched(self.store, self.db, fetched, self.sender))
        return sum(len(m.receipts) for m in fetched)

    async def run(self) -> None:
        while True:
            try:
                await self.poll_once()
                await imap_read(self.store)
            except MssTlsRefused as exc:  # a certificate, a revocation check, TLS rules: a person must fix it
                log.warning("MSSanté receipts not read: %s", exc)
                await self._tell(exc.diagnostics)
            except (SglError, OSError, PyMongoError) as exc:  # the next poll tries again
                log.warning("MSSanté receipts not read: %s", exc)
            await asyncio.sleep(self.interval)

    async def _tell(self, reason: str) -> None:
        try:
            await imap_refused(self.store, self.sender, f"{self.config.imap_host}:{self.config.imap_port}", reason)
        except (SglError, OSError, PyMongoError):  # the database restarting: the next refused poll tells
            log.warning("MSSanté receipts: the IMAP refusal Task could not be written", exc_info=True)
