"""Create or update the Patient named by the message's IPP (A28, A31, A01, A04, A05, A03, A08).

The change is applied to the version just read and written with that version pinned (If-Match),
so a concurrent write is never overwritten with stale content: the step re-reads and retries
(``run_in_transaction``).
Creation goes through the conditional update on the IPP identifier, so two feeds cannot both
create the same IPP. Every write passes the caller's write rules (identitovigilance rules).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from facades.hl7v2.pam import IdentityChange, apply_change
from resources.errors import Conflict, PreconditionFailed
from resources.interactions import Outcome, WriteRule, conditional_update, update
from resources.store.base import FhirStore, StoreSession
from resources.store.transactions import RetriesExhausted, run_in_transaction
from server.identity_feed.lookup import find_by_ipp

ATTEMPTS = 3
Amend = Callable[[dict[str, Any]], dict[str, Any]]


async def upsert(store: FhirStore, change: IdentityChange, *, write_rule: WriteRule,
                 session: StoreSession | None = None,
                 amend: Amend | None = None) -> Outcome:
    """Write ``change`` onto the Patient of its IPP (``amend`` adds what the event adds, e.g. a merge link).

    Inside the caller's transaction (``session``) this is one attempt: a concurrent change fails the
    whole transaction. Alone, it is its own transaction, run again from the read when the Patient moved."""
    if session is not None:
        return await _upsert_once(store, change, write_rule, session, amend)
    try:
        return await run_in_transaction(store, lambda s: _upsert_once(store, change, write_rule, s, amend), ATTEMPTS,
                                        what=f"Patient of IPP {change.ipp.value}", also=(PreconditionFailed,))
    except RetriesExhausted as exc:
        raise Conflict(f"the Patient of IPP {change.ipp.value} kept changing during {ATTEMPTS} attempts; resend",
                       expression=change.ipp.location.expression()) from exc


async def _upsert_once(store: FhirStore, change: IdentityChange, write_rule: WriteRule, session: StoreSession,
                       amend: Amend | None) -> Outcome:
    current = await find_by_ipp(store, change.ipp, session=session)
    body = apply_change(change, current.resource if current else None)
    body = amend(body) if amend else body
    if current is None:
        return await conditional_update(store, "Patient", change.ipp.query(), body, write_rule=write_rule,
                                        session=session)
    return await update(store, "Patient", current.id, body, if_match=current.etag, write_rule=write_rule,
                        session=session)
