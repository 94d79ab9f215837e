"""At start-up, process again the journaled messages that a crash left ``received``.

A message is journaled before it is processed; when the server (or its database) dies between the
two, the entry stays ``received`` and its sender, having no ACK, may or may not send it again. The
replay hands each such entry, oldest first, to the same dispatcher code as a live message, before
the MLLP and ASTM listeners open. It is safe because every inbound handler already treats a resend
as a no-op (results by their run key, orders by placer number, identities by IPP): whatever part
was committed before the crash is not written twice. Answers (ACKs, query responses) have nobody
to go to and are dropped; the sender's own resend gets its answer from the live server.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from facades.astm import AstmRecordError, parse_message
from facades.hl7v2 import Hl7ParseError, InboundMessage, PartlyProcessed, parse
from server.inbound.astm_dispatch import AstmDispatcher
from server.inbound.hl7_dispatch import Hl7Dispatcher
from server.inbound.journal import InboundJournal

log = logging.getLogger(__name__)
REPLAY_PEER = "replay"


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


async def replay_received(journal: InboundJournal, hl7: Hl7Dispatcher, astm: AstmDispatcher) -> int:
    """Process again every ``received`` entry no live process is handling (claimed for this process: with
    several processes on one database each is replayed once) with the wired dispatchers; returns how many
    were replayed (each one settled)."""
    outcome: Counter[str] = Counter()
    entries, in_flight = await journal.claim_left()
    if in_flight:
        log.info("inbound journal: %d message(s) 'received' are being handled by another live process", in_flight)
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
    log.info("inbound journal: %d message(s) left 'received' by the last run replayed%s", len(entries),
             f" ({', '.join(f'{n} {s}' for s, n in sorted(outcome.items()))})" if entries else "")
    return len(entries)
