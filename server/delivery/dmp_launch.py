"""The hand-over between ``$dmp-access``'s answer and its launch page: one signed call per user action.

A click on the DMP button is one action: the JSON answer signs the VIHF and writes the AuditEvent, and its
``launch`` URL (the page a new window opens) must show *that* call, not sign and audit a second one. So the
answer keeps the call it built under a random single-use handle (only its digest is stored), bound to the
caller, the patient and the page, for at most ``LAUNCH_TTL``; the launch page takes it once
(``find_one_and_delete``). Every request is still checked in full by ``dmp_access.py`` (the permission table,
a person with an RPPS, a qualified identity) before a kept call is taken. Several server processes share the
collection, as they share sessions.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from facades.dmp.web_access import WebCall
from resources.search.date import now_utc

COLLECTION = "dmp_launches"
LAUNCH_TTL = timedelta(minutes=2)
"""A window opens on the launch URL right after the click; a link older than this is stale."""


@dataclass(frozen=True)
class LaunchOwner:
    """Who may take a kept call: the same caller, about the same patient and page."""

    caller: str
    patient: str
    target: str


def _digest(handle: str) -> str:
    return hashlib.sha256(handle.encode()).hexdigest()


async def keep(db: AsyncDatabase[Any], call: WebCall, owner: LaunchOwner) -> str:
    """Keep ``call`` for its launch page; the handle to put in the launch URL."""
    now = now_utc()
    await db[COLLECTION].delete_many({"expires": {"$lt": now}})
    handle = secrets.token_urlsafe(24)
    await db[COLLECTION].insert_one({
        "_id": _digest(handle), "caller": owner.caller, "patient": owner.patient, "target": owner.target,
        "url": call.url, "page": call.page, "mode": call.mode, "fields": call.fields, "vihf_expires": call.expires,
        "expires": now + LAUNCH_TTL})
    return handle


async def take(db: AsyncDatabase[Any], handle: str, owner: LaunchOwner) -> WebCall | None:
    """The call kept under ``handle`` if ``owner`` asked for it and it is fresh; taken once, whoever asks."""
    doc = await db[COLLECTION].find_one_and_delete({"_id": _digest(handle)})
    if doc is None or doc["expires"] < now_utc():
        return None
    if LaunchOwner(doc["caller"], doc["patient"], doc["target"]) != owner:
        return None
    return WebCall(doc["url"], doc["page"], doc["mode"], dict(doc["fields"]), doc["vihf_expires"].replace(tzinfo=UTC))
