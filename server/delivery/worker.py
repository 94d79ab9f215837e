"""The delivery worker: takes due deliveries under a lease, sends them through their channel, records the
answer, and decides what follows.

- ``DELIVERED``: done. ``RETRY`` (or an exception, or no answer within ``delivery_timeout``): attempt n+1
  after an exponential backoff with jitter, until ``delivery_attempts``; then, like ``FAILED``, the delivery
  fails and a worklist Task names the recipient, the document and the partner's last answer (one transaction).
- A certificate refusal (``ChannelAnswer.trust_refused``) does not heal by retrying: at the first one a Task tells
  a person (the lab's administrator) the reason while the retries go on (``alert_task`` on the delivery; one Task,
  not one per attempt). If the delivery later succeeds the Task closes itself (``completed``, saying so); if the
  retries run out, that same Task becomes the failure Task. A person may have deleted or closed it meanwhile:
  nothing is left to close then, and a failure opens a new Task (``worklist.task_if_open``); the outcome is
  recorded in the same transaction either way, so the delivery never stays leased to be sent again.
- Every attempt is appended to the delivery's ``history`` (when, by which process, outcome, the partner's
  text, its remote id): kept, never rewritten.
- Ordering: a delivery whose ``after`` is not finished is not taken (a replacement never overtakes the
  version it replaces); a failed or cancelled predecessor releases it.
- At most ``delivery_concurrency`` sends at once per process; leases (``lease.py``) keep two processes off
  the same item; the idempotency key travels with each send so a resend after a crash is recognised.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from resources.search.date import now_utc
from resources.store.base import FhirStore
from server.delivery.backoff import backoff
from server.delivery.channel import Action, Channel, ChannelAnswer, Outcome
from server.delivery.lease import PENDING, Leases
from server.delivery.loading import delivery_item, document_set
from server.delivery.outbox import COLLECTION, DELIVERED, FAILED, FINISHED
from server.worklist import (
    DELIVERY_FAILED,
    DELIVERY_FAILED_LABELS,
    TRUST_REFUSED,
    change_task,
    delivery_failed_label,
    open_task,
    task_if_open,
    worklist_task,
)

log = logging.getLogger(__name__)

RESTART_AFTER_FIX = {"dmp": " ; le client DMP lit ses fichiers de certificats au démarrage : une fois corrigés "
                            "(SGL_DMP_CERT, SGL_DMP_KEY, SGL_DMP_CA), redémarrer sgl serve"}
"""What a person must do besides fixing a refused certificate, per channel (MSSanté and MLLP read their files
at each connection: nothing more)."""


def sent_what(stored: dict[str, Any]) -> tuple[str, str]:
    """What a delivery carries, in words for its failure Task, and the Task's focus: the report, the patient of
    an identity message, or the notice of a refused tube."""
    notice = str(stored.get("notice") or "")
    if stored["action"] == Action.IDENTITY.value:
        return f"de l'identité {stored.get('patient')} (version {stored['version']})", str(stored.get("patient"))
    if notice:
        return f"de l'avis de tube refusé {notice}", notice
    report = f"DiagnosticReport/{stored['report_id']}"
    return f"du CR-Bio {report} version {stored['version']}", report


class LostLease(Exception):
    """This process no longer holds the item (its lease expired and another process took it)."""


class DeliveryWorker:
    def __init__(self, store: FhirStore, db: AsyncDatabase[Any], channels: Mapping[str, Channel], leases: Leases,
                 *, attempts: int, backoff_base: float, backoff_cap: float, timeout: float) -> None:
        self.store, self.db, self.channels, self.leases = store, db, dict(channels), leases
        self.attempts, self.base, self.cap, self.timeout = attempts, backoff_base, backoff_cap, timeout

    async def ready(self, candidate: dict[str, Any]) -> bool:
        """Not before the delivery it follows is finished (ordering per patient and document)."""
        if not candidate.get("after"):
            return True
        before = await self.db[COLLECTION].find_one({"_id": candidate["after"]}, {"state": 1})
        return before is None or before.get("state") in FINISHED

    async def handle(self, stored: dict[str, Any]) -> None:
        item = delivery_item(stored)
        channel = self.channels.get(item.channel)
        started = now_utc()
        if channel is None:
            answer = ChannelAnswer(Outcome.RETRY, f"channel {item.channel!r} is not configured on this server")
        else:
            try:
                documents = await document_set(self.store, item)
                answer = await asyncio.wait_for(channel.send(item, documents), self.timeout)
            except TimeoutError:
                answer = ChannelAnswer(Outcome.RETRY, f"no answer within {self.timeout:g} s")
            except Exception as exc:  # a channel must map its partner's answers; anything else is transient
                log.warning("delivery %s: %s raised", item.id, item.channel, exc_info=True)
                answer = ChannelAnswer(Outcome.RETRY, f"{type(exc).__name__}: {exc}")
        await self.settle(stored, answer, started)

    async def settle(self, stored: dict[str, Any], answer: ChannelAnswer, started: Any) -> None:
        attempt = int(stored.get("attempts", 0)) + 1
        entry = {"attempt": attempt, "started": started, "ended": now_utc(), "owner": self.leases.owner,
                 "outcome": answer.outcome.value, "text": answer.text[:4000], "remote_id": answer.remote_id,
                 "detail": dict(answer.detail)}
        push = {"history": entry}
        if answer.outcome == Outcome.DELIVERED:
            done = {"state": DELIVERED, "attempts": attempt, "delivered": now_utc(), "remote_id": answer.remote_id}
            if stored.get("alert_task"):  # the certificate was fixed: the Task that asked for it closes
                async with self.store.transaction() as session:
                    if not await self.leases.give_back(stored["_id"], done, push=push, session=session):
                        raise LostLease(f"delivery {stored['_id']}: lease lost before its delivery was recorded")
                    alert = await task_if_open(self.store, stored["alert_task"], session)
                    if alert is not None:  # a Task a person deleted or closed has nothing left to close
                        await change_task(self.store, alert, {"status": "completed", "statusReason": {
                            "text": f"résolu : envoi réussi à l'essai {attempt} ({answer.text[:200]})"}}, session)
            else:
                await self.leases.give_back(stored["_id"], done, push=push)
            log.info("delivery %s delivered (attempt %d)", stored["_id"], attempt)
        elif answer.outcome == Outcome.RETRY and attempt < self.attempts:
            due = now_utc() + timedelta(seconds=backoff(attempt, self.base, self.cap))
            changes = {"state": PENDING, "attempts": attempt, "due": due, "last_answer": answer.text[:4000]}
            if answer.trust_refused and not stored.get("alert_task"):
                async with self.store.transaction() as session:
                    task = await open_task(self.store, self._task(stored, answer, TRUST_REFUSED, (
                        f"certificat refusé à l'essai {attempt} ; l'envoi réessaie (prochain essai "
                        f"{due:%Y-%m-%d %H:%M} UTC, {self.attempts - attempt} essais restants)"
                        f"{RESTART_AFTER_FIX.get(stored['channel'], '')}")), session)
                    if not await self.leases.give_back(stored["_id"], {**changes, "alert_task": task["id"]},
                                                       push=push, session=session):
                        raise LostLease(f"delivery {stored['_id']}: lease lost before its alert was recorded")
                log.warning("delivery %s: certificate refused, Task/%s opened", stored["_id"], task["id"])
            else:
                await self.leases.give_back(stored["_id"], changes, push=push)
            log.info("delivery %s: attempt %d %s, next at %s", stored["_id"], attempt, answer.outcome.value, due)
        else:
            await self.fail(stored, attempt, answer, push)

    def _task(self, stored: dict[str, Any], answer: ChannelAnswer, label: str, why: str) -> dict[str, Any]:
        """The worklist Task of a delivery: what was sent, to whom, why a person is needed, the partner's answer."""
        what, focus = sent_what(stored)
        kind = "" if stored["action"] in DELIVERY_FAILED_LABELS else f" {stored['action']}"  # create, replace...
        description = (f"Envoi{kind} {what} par {stored['channel']} à {stored['recipient']} : {why}. "
                       f"Réponse du partenaire : {answer.text[:1000] or '(aucune)'}")
        return worklist_task(DELIVERY_FAILED, focus, stored.get("patient"), description,
                             {"delivery": str(stored["_id"]), "channel": stored["channel"],
                              "recipient": stored["recipient"], "answer": answer.text or "(none)"}, label=label)

    async def fail(self, stored: dict[str, Any], attempt: int, answer: ChannelAnswer, push: dict[str, Any]) -> None:
        why = "refused" if answer.outcome == Outcome.FAILED else f"still failing after {attempt} attempts"
        failure = self._task(stored, answer, delivery_failed_label(stored["action"]), why)
        async with self.store.transaction() as session:
            alert = await task_if_open(self.store, stored["alert_task"], session) if stored.get("alert_task") else None
            if alert is not None:  # the certificate Task opened earlier becomes the failure Task (one Task)
                task = await change_task(self.store, alert, {k: failure[k] for k in ("code", "description", "input")},
                                         session)
            else:  # none, or a person deleted or closed it meanwhile: the failure must still reach a person
                task = await open_task(self.store, failure, session)
            if not await self.leases.give_back(stored["_id"], {"state": FAILED, "attempts": attempt,
                                                               "task": task["id"], "last_answer": answer.text[:4000]},
                                               push=push, session=session):
                raise LostLease(f"delivery {stored['_id']}: lease lost before its failure was recorded")
        log.warning("delivery %s failed: %s", stored["_id"], why)
