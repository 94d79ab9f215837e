"""The worklist Task of an IMAP certificate refusal: the BAL's receipts cannot be read (SGL.MSS.22) until a person
fixes a certificate, a trust store or a revocation file, and retrying does not heal that.

Like a refused send (``worker.py``), one Task tells a person at the first refusal; the receipts poller tries
again at each poll, and the first poll that reads the BAL again closes the Task (``completed``, saying so). The
Task carries a fixed identifier, so the open one is found again after a restart or by a second ``sgl serve``;
one a person deleted or closed while the refusal goes on is followed by a new one at the next refused poll (the
receipts are still not read: a person must be told again)."""

from __future__ import annotations

import logging

from resources.interactions.search import plan_search
from resources.search.date import now_utc
from resources.store.base import FhirStore
from server.worklist import DELIVERY_FAILED, change_task, open_task, task_if_open, worklist_task

log = logging.getLogger(__name__)
KEY_SYSTEM = "https://opensgl.org/fhir/worklist-key"
IMAP_REFUSED = "mssante-imap-certificate"
LABEL = "Accusés MSSanté non lus : connexion IMAP refusée (certificat), à corriger par l'administrateur"


async def _open_alerts(store: FhirStore) -> list[str]:
    request = await plan_search(store, "Task", [("identifier", f"{KEY_SYSTEM}|{IMAP_REFUSED}"),
                                                ("status", "requested")], strict=True)
    return await store.search_ids(request, limit=10)


async def imap_refused(store: FhirStore, bal: str, where: str, reason: str) -> str | None:
    """Open the Task unless one is open already; the id of the Task opened, else ``None``."""
    if await _open_alerts(store):
        return None
    task = worklist_task(DELIVERY_FAILED, None, None, (
        f"Lecture des accusés de réception et de lecture de la BAL {bal} (IMAP {where}) : connexion refusée "
        f"(certificat) ; les accusés ne sont pas lus tant que ce n'est pas corrigé, la lecture réessaie à chaque "
        f"relève. Raison : {reason[:1500]}"), {"channel": "mssante", "recipient": bal, "answer": reason},
        label=LABEL)
    task["identifier"] = [{"system": KEY_SYSTEM, "value": IMAP_REFUSED}]
    stored = await open_task(store, task)
    log.warning("MSSanté receipts: IMAP certificate refused, Task/%s opened", stored["id"])
    return str(stored["id"])


async def imap_read(store: FhirStore) -> None:
    """A poll read the BAL: the open Task (if any) is closed, saying when."""
    for task_id in await _open_alerts(store):
        async with store.transaction() as session:
            current = await task_if_open(store, task_id, session)
            if current is not None:
                await change_task(store, current, {"status": "completed", "statusReason": {
                    "text": f"résolu : accusés lus le {now_utc():%Y-%m-%d %H:%M} UTC"}}, session)
        log.info("MSSanté receipts: the BAL is read again, Task/%s completed", task_id)
