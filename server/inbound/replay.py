"""At start-up, process again the journaled messages that a crash left ``received``.

A message is journaled before it is processed; when the server (or its database) dies between the
two, the entry stays ``received`` and its sender, having no ACK, may or may not send it again. The
replay hands each such entry, oldest first, to the same dispatcher code as a live message, before
the MLLP and ASTM listeners open. It is safe because every inbound handler already treats a resend
as a no-op (results by their run key, orders by placer number, identities by IPP): whatever part
was committed before the crash is not written twice. Answers (ACKs, query responses) have nobody
to go to and are dropped; the sender's own resend gets its answer from the live server.

Several processes on one database (``journal.py``): a replay claims each entry by one conditional update, and
takes only entries no live process is handling. An entry that another process may still be handling at start-up
(it is recent and its owner is alive, or on another host) is left to it; if it is still ``received`` once it is
older than ``journal_replay_grace``, :func:`replay_later` (a background task of the process) takes it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any

from bson import ObjectId

from facades.astm import AstmRecordError, parse_message
from facades.hl7v2 import Hl7ParseError, InboundMessage, PartlyProcessed, parse
from resources.search.date import now_utc
from server.inbound.astm_dispatch import AstmDispatcher
from server.inbound.hl7_dispatch import Hl7Dispatcher
from server.inbound.journal import InboundJournal

log = logging.getLogger(__name__)
REPLAY_PEER = "replay"
WAKE_MARGIN_S = 1.0
"""Past the moment an entry becomes abandoned: the clocks of the database's clients differ by milliseconds."""
RETRY_S = 30.0
"""After a later replay that failed (the database unreachable)."""


async def _replay_one(hl7: Hl7Dispatcher, astm: AstmDispatcher, entry: dict[str, Any]) -> None:
    raw: bytes = entry["raw"]
    if entry["protocol"] == "astm":
        charset = entry.get("charset") or "latin-1"  # journaled in the character set it was read with
        text = raw.decode(charset)
        message = parse_message(text)
        message.charset = charset
        await astm.process(entry["_id"], text, message, peer=str(entry.get("peer", "")))
    else:
        inbound = InboundMessage(raw, parse(raw), f"{REPLAY_PEER} of {entry.get('peer', '?')}", 0)
        await hl7.process(entry["_id"], inbound)


async def _replay_claimed(journal: InboundJournal, hl7: Hl7Dispatcher, astm: AstmDispatcher,
                          entries: list[dict[str, Any]]) -> str:
    """Replay entries this process claimed, each settled; returns their outcomes for the log (``2 processed``)."""
    outcome: Counter[str] = Counter()
    for entry in entries:
        try:
            await _replay_one(hl7, astm, entry)
        except PartlyProcessed:  # settled ``partial`` by the dispatcher: the refused parts are on the worklist
            outcome["partial"] += 1
            continue
        except (Hl7ParseError, AstmRecordError) as exc:  # cannot happen for a message parsed when received
            await journal.settle(entry["_id"], "error", f"replay: {exc.diagnostics}")
        except Exception as exc:  # the handler failed again: it stays visible, with its reason
            log.exception("inbound %s: replay failed", entry["_id"])
            await journal.settle(entry["_id"], "error", f"replay: {type(exc).__name__}: {exc}")
        settled = await journal.find(entry["_id"])
        outcome[settled["status"] if settled else "?"] += 1
    return f" ({', '.join(f'{n} {s}' for s, n in sorted(outcome.items()))})" if entries else ""


async def replay_received(journal: InboundJournal, hl7: Hl7Dispatcher, astm: AstmDispatcher) -> list[ObjectId]:
    """Process again every ``received`` entry no live process is handling (claimed for this process: with
    several processes on one database each is replayed once) with the wired dispatchers. Returns the ids of
    those left to live processes, for :func:`replay_later`."""
    entries, in_flight = await journal.claim_left()
    if in_flight:
        log.info("inbound journal: %d message(s) 'received' are being handled by another live process", len(in_flight))
    outcome = await _replay_claimed(journal, hl7, astm, entries)
    log.info("inbound journal: %d message(s) left 'received' by the last run replayed%s", len(entries), outcome)
    return [entry["_id"] for entry in in_flight]


async def replay_later(journal: InboundJournal, hl7: Hl7Dispatcher, astm: AstmDispatcher,
                       waiting: list[ObjectId]) -> None:
    """The entries another live process was handling at start-up (``waiting``): each one that process leaves
    ``received`` (it died since, on another host, where its pid cannot be checked) is replayed once it is older than
    the journal's ``stale``, instead of waiting for the next restart. Bounded: it looks only at these entries, and
    ends once none is ``received`` any more; each wake-up is at the moment the oldest one becomes abandoned."""
    while waiting:
        try:
            left = await journal.left_received(waiting)
            if not left:
                return
            due = min(journal.since(entry) for entry in left) + journal.stale
            await asyncio.sleep(max(0.0, (due - now_utc()).total_seconds()) + WAKE_MARGIN_S)
            entries, in_flight = await journal.claim_left(among=waiting)
            if entries:
                outcome = await _replay_claimed(journal, hl7, astm, entries)
                log.info("inbound journal: %d message(s) another process left 'received' replayed later%s",
                         len(entries), outcome)
            waiting = [entry["_id"] for entry in in_flight]
        except Exception:  # the database down for a while: the entries stay ``received``, tried again
            log.exception("inbound journal: later replay failed, tried again in %.0f s", RETRY_S)
            await asyncio.sleep(RETRY_S)
