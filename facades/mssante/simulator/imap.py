"""The subset of IMAP4rev1 (RFC 3501) an applicative BAL needs to read its receipts.

``CAPABILITY``, ``STARTTLS`` (mandatory: nothing else before it but ``CAPABILITY``/``NOOP``/
``LOGOUT``), ``AUTHENTICATE EXTERNAL`` (the TLS client certificate is the identity; ``LOGIN`` is
disabled), ``SELECT``/``EXAMINE INBOX``, ``UID SEARCH`` (``ALL``/``UNSEEN``), ``UID FETCH``
(``BODY[]``, ``BODY.PEEK[]``, ``RFC822``, ``FLAGS``), ``UID STORE +FLAGS (\\Seen)``, ``NOOP``, ``LOGOUT``.
The TLS rules are the server context's (TLS 1.2, the four suites, client certificate required).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import ssl
from collections.abc import Callable

from facades.mssante.simulator.mailboxes import Mailboxes, Stored

log = logging.getLogger(__name__)
MAX_LINE = 8 * 1024
IDLE_TIMEOUT = 60.0
MAX_COMMANDS = 10_000
_COMMAND = re.compile(r"^(?P<tag>[A-Za-z0-9.]+) (?P<name>[A-Za-z]+)(?: (?P<args>.*))?$")


def _uids(spec: str, stored: list[Stored]) -> list[Stored]:
    """A UID set (``1``, ``2:5``, ``3,7``, ``4:*``) against the mailbox."""
    top = max((s.uid for s in stored), default=0)
    wanted: set[int] = set()
    for piece in spec.split(","):
        low, _, high = piece.partition(":")
        start = top if low == "*" else int(low)
        end = start if not high else (top if high == "*" else int(high))
        wanted.update(range(min(start, end), max(start, end) + 1))
    return [s for s in stored if s.uid in wanted]


class ImapSession:
    """One client connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, context: ssl.SSLContext,
                 boxes: Mailboxes, bal_for: Callable[[dict[str, object]], str | None]) -> None:
        self.reader, self.writer, self.context, self.boxes, self.bal_for = reader, writer, context, boxes, bal_for
        self.tls = False
        self.user: str | None = None
        self.selected = False

    async def send(self, line: str) -> None:
        self.writer.write(line.encode("utf-8") + b"\r\n")
        await self.writer.drain()

    def capabilities(self) -> str:
        return "IMAP4rev1 AUTH=EXTERNAL" if self.tls else "IMAP4rev1 STARTTLS LOGINDISABLED"

    async def run(self) -> None:
        await self.send(f"* OK [CAPABILITY {self.capabilities()}] simulateur MSSanté prêt")
        for _ in range(MAX_COMMANDS):
            line = await asyncio.wait_for(self.reader.readline(), IDLE_TIMEOUT)
            if not line:
                return
            found = _COMMAND.match(line.decode("utf-8", "replace").rstrip("\r\n"))
            if not found:
                await self.send("* BAD malformed command")
                continue
            tag, name, args = found["tag"], found["name"].upper(), found["args"] or ""
            if not await self.dispatch(tag, name, args):
                return

    async def dispatch(self, tag: str, name: str, args: str) -> bool:
        if self.boxes.delay > 0 and "imap" in self.boxes.delayed and name != "LOGOUT":
            await asyncio.sleep(self.boxes.delay)  # a slow operator: each answer in time, the session too long
        if name == "LOGOUT":
            await self.send("* BYE au revoir")
            await self.send(f"{tag} OK LOGOUT completed")
            return False
        if name == "CAPABILITY":
            await self.send(f"* CAPABILITY {self.capabilities()}")
            await self.send(f"{tag} OK CAPABILITY completed")
        elif name == "NOOP":
            await self.send(f"{tag} OK NOOP completed")
        elif name == "STARTTLS" and not self.tls:
            await self.send(f"{tag} OK Begin TLS negotiation now")
            await self.writer.start_tls(self.context)
            self.tls = True
        elif not self.tls:
            await self.send(f"{tag} NO [PRIVACYREQUIRED] STARTTLS first")
        elif name == "AUTHENTICATE":
            await self.authenticate(tag, args)
        elif self.user is None:
            await self.send(f"{tag} NO authenticate first")
        elif name in {"SELECT", "EXAMINE"}:
            await self.select(tag, name, args)
        elif name == "UID" and self.selected:
            await self.uid(tag, args)
        else:
            await self.send(f"{tag} BAD command not supported by the simulator: {name}")
        return True

    async def authenticate(self, tag: str, args: str) -> None:
        if args.strip().upper() != "EXTERNAL":
            await self.send(f"{tag} NO only AUTHENTICATE EXTERNAL (the client certificate) is accepted")
            return
        await self.send("+ ")
        response = await asyncio.wait_for(self.reader.readline(), IDLE_TIMEOUT)
        if response.strip() == b"*":
            await self.send(f"{tag} BAD authentication cancelled")
            return
        peer = self.writer.get_extra_info("peercert") or {}
        self.user = self.bal_for(peer)
        if self.user is None:
            await self.send(f"{tag} NO no BAL is bound to this certificate")
            return
        await self.send(f"{tag} OK authenticated as {self.user}")

    async def select(self, tag: str, name: str, args: str) -> None:
        if args.strip().strip('"').upper() != "INBOX":
            await self.send(f"{tag} NO only INBOX exists")
            return
        assert self.user is not None
        stored = self.boxes.inbox(self.user)
        await self.send(f"* {len(stored)} EXISTS")
        await self.send("* 0 RECENT")
        await self.send("* FLAGS (\\Seen)")
        await self.send("* OK [UIDVALIDITY 1] UIDs valid")
        await self.send(f"* OK [UIDNEXT {max((s.uid for s in stored), default=0) + 1}] next UID")
        self.selected = True
        mode = "READ-WRITE" if name == "SELECT" else "READ-ONLY"
        await self.send(f"{tag} OK [{mode}] {name} completed")

    async def uid(self, tag: str, args: str) -> None:
        assert self.user is not None
        sub, _, rest = args.partition(" ")
        stored = self.boxes.inbox(self.user)
        position = {s.uid: i + 1 for i, s in enumerate(stored)}
        sub = sub.upper()
        if sub == "SEARCH":
            criteria = rest.strip().upper()
            chosen = [s for s in stored if criteria != "UNSEEN" or not s.seen]
            await self.send("* SEARCH" + "".join(f" {s.uid}" for s in chosen))
        elif sub == "FETCH":
            spec, _, items = rest.partition(" ")
            for s in _uids(spec, stored):
                await self.fetch(position[s.uid], s, items.upper())
        elif sub == "STORE":
            spec, _, change = rest.partition(" ")
            if "\\SEEN" not in change.upper() or not change.upper().startswith(("+FLAGS", "FLAGS")):
                await self.send(f"{tag} BAD only +FLAGS (\\Seen) is supported")
                return
            for s in _uids(spec, stored):
                s.seen = True
                await self.send(f"* {position[s.uid]} FETCH (UID {s.uid} FLAGS (\\Seen))")
        else:
            await self.send(f"{tag} BAD UID {sub} not supported")
            return
        await self.send(f"{tag} OK UID {sub} completed")

    async def fetch(self, seq: int, stored: Stored, items: str) -> None:
        flags = "(\\Seen)" if stored.seen else "()"
        if "BODY" not in items and "RFC822" not in items:
            await self.send(f"* {seq} FETCH (UID {stored.uid} FLAGS {flags})")
            return
        if "PEEK" not in items:
            stored.seen = True
        key = "RFC822" if "RFC822" in items else "BODY[]"
        self.writer.write(f"* {seq} FETCH (UID {stored.uid} {key} {{{len(stored.raw)}}}\r\n".encode("ascii"))
        self.writer.write(stored.raw + b")\r\n")
        await self.writer.drain()


async def serve_imap(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, context: ssl.SSLContext,
                     boxes: Mailboxes, bal_for: Callable[[dict[str, object]], str | None]) -> None:
    """Connection callback; any TLS failure, timeout or disconnect just ends the session."""
    try:
        await ImapSession(reader, writer, context, boxes, bal_for).run()
    except (ConnectionError, TimeoutError, ssl.SSLError, asyncio.IncompleteReadError, ValueError) as exc:
        log.info("IMAP session ended: %s", type(exc).__name__)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError, ssl.SSLError, asyncio.CancelledError):
            await writer.wait_closed()
