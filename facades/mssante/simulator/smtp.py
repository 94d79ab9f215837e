"""The operator's submission side: aiosmtpd with mandatory STARTTLS and client certificates.

``require_starttls`` makes every command but EHLO/STARTTLS/NOOP/QUIT wait for TLS; the TLS context
requires a client certificate chained to the test IGC-Santé CA (an applicative BAL has no
password), and SASL ``EXTERNAL`` is the only mechanism offered, accepted once that certificate is
there. What is accepted goes to :class:`Mailboxes`, which also writes the receipts.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

from facades.mssante.simulator.mailboxes import Mailboxes


def _subject_cn(peer: object) -> str:
    if not isinstance(peer, dict):
        return ""
    return next((str(v) for rdn in peer.get("subject", ()) for k, v in rdn if k == "commonName"), "")


def _peer(session: Session) -> object:
    extra: Any = session.ssl
    return extra.get("peercert") if isinstance(extra, dict) else None


class OperatorHandler:
    """aiosmtpd hooks (``handle_*``) and the ``EXTERNAL`` mechanism (``auth_*``)."""

    def __init__(self, boxes: Mailboxes) -> None:
        self.boxes = boxes

    async def _hold(self, step: str) -> None:
        if self.boxes.delay > 0 and step in self.boxes.delayed:
            await asyncio.sleep(self.boxes.delay)  # cancelled with the session if the sender disconnects

    async def handle_EHLO(self, server: SMTP, session: Session, envelope: Envelope, hostname: str,
                          responses: list[str]) -> list[str]:
        await self._hold("ehlo")
        session.host_name = hostname  # what aiosmtpd does itself when no hook is set
        return responses

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        await self._hold("rcpt")
        if self.boxes.refuse_all:
            return "550 5.7.1 Recipient refused by the simulator (refuse_all)"
        if self.boxes.busy > 0:
            self.boxes.busy -= 1
            return "450 4.2.1 Mailbox temporarily unavailable, try again later"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if not _peer(session):
            return "530 5.7.0 Must issue a STARTTLS command first"
        content = envelope.original_content or b""
        await self._hold("data")
        self.boxes.deliver(content, str(envelope.mail_from), list(envelope.rcpt_tos), _subject_cn(_peer(session)),
                           authenticated=bool(session.authenticated))
        await self._hold("taken")  # an operator that queued the mail but answers late: it keeps it all the same
        return "250 2.0.0 Ok: queued"

    async def auth_EXTERNAL(self, server: SMTP, args: list[str]) -> AuthResult:
        assert server.session is not None
        return AuthResult(success=bool(_peer(server.session)), handled=False)


async def start_smtp(host: str, port: int, context: ssl.SSLContext, boxes: Mailboxes) -> asyncio.Server:
    loop = asyncio.get_running_loop()
    handler = OperatorHandler(boxes)

    def protocol() -> SMTP:
        return SMTP(handler, hostname="smtp.simulateur.mssante.test", tls_context=context, require_starttls=True,
                    auth_require_tls=True, auth_exclude_mechanism=["LOGIN", "PLAIN"], loop=loop,
                    data_size_limit=40 * 1024 * 1024, timeout=60)

    return await loop.create_server(protocol, host, port)
