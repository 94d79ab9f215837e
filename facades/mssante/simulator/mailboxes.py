"""The simulated operator's state: what it received, every BAL's inbox, the receipts it answers.

When a mail is accepted, the operator plays the part of the recipients' platforms too:

- an address it was told is unknown (``unknown``) gets a DSN ``failed`` 5.1.1 in the sender's
  inbox, as a remote MTA's bounce would (RFC 3464);
- a known address keeps the mail (listed by ``/_sim/messages``) and, when the mail asks for a
  disposition notification, answers with an MDN ``processed`` (the recipient platform integrated
  it) or, when told so (``integration_error``), ``processed/Error: <code>^<label>`` (RFC 8098, the
  ANS "KO Intégration" shape).
"""

from __future__ import annotations

import base64
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.header import Header
from email.message import Message
from email.policy import compat32
from email.utils import format_datetime, getaddresses
from typing import Any

OPERATOR_DOMAIN = "simulateur.mssante.test"
INTEGRATION_ERROR = ("KO-03", "Document non intégré : patient inconnu")


@dataclass
class Stored:
    uid: int
    raw: bytes
    received: datetime
    seen: bool = False


@dataclass
class Delivered:
    """One mail as received by the operator, with its envelope."""

    raw: bytes
    sender: str
    recipients: tuple[str, ...]
    received: datetime
    client_certificate: str
    authenticated: bool = False
    """Whether the client also authenticated with SASL EXTERNAL (bound to its certificate)."""

    def summary(self, raw: bool = False) -> dict[str, Any]:
        message = message_from_bytes(self.raw, policy=compat32)
        attachments = [p.get_filename() for p in message.walk() if p.get_filename()]
        return {
            "messageId": str(message.get("Message-ID", "")), "from": str(message.get("From", "")),
            "to": list(self.recipients), "subject": str(message.get("Subject", "")),
            "headers": {k: str(v) for k, v in message.items()}, "attachments": attachments,
            "received": self.received.isoformat(), "envelopeFrom": self.sender,
            "clientCertificate": self.client_certificate, "authenticated": self.authenticated,
            "size": len(self.raw),
            **({"raw": base64.b64encode(self.raw).decode("ascii")} if raw else {}),
        }


@dataclass
class Mailboxes:
    """Thread-safe: the SMTP side runs in aiosmtpd's handlers, the IMAP and admin sides beside it."""

    unknown: set[str] = field(default_factory=set)
    integration_error: set[str] = field(default_factory=set)
    refuse_all: bool = False
    busy: int = 0
    """The next ``busy`` recipients are refused for now (``450 4.2.1``: a full mailbox, greylisting): try later."""
    delay: float = 0.0
    """Seconds a mail's DATA waits before the operator takes it (a slow operator: mails stay in flight, so a
    test can kill the sender then); a sender gone meanwhile leaves nothing behind."""
    delayed: frozenset[str] = frozenset({"data"})
    """Which answers ``delay`` holds: ``data`` (the default), and also ``ehlo`` and ``rcpt`` for an operator slow
    at every step (each answer in time, the whole exchange too long); ``taken``: the answer to DATA after the
    mail was taken (kept even if the sender gives up waiting); ``imap``: every IMAP command's answer."""
    delivered: list[Delivered] = field(default_factory=list)
    inboxes: dict[str, list[Stored]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _next_uid: int = 1

    def deliver(self, raw: bytes, sender: str, recipients: list[str], client_certificate: str, *,
                authenticated: bool = False) -> None:
        now = datetime.now(UTC)
        known = tuple(r for r in recipients if r.lower() not in self.unknown)
        with self._lock:
            if known:
                self.delivered.append(Delivered(raw, sender, known, now, client_certificate, authenticated))
        original = message_from_bytes(raw, policy=compat32)
        for recipient in recipients:
            if recipient.lower() in self.unknown:
                self.put(sender, dsn_failure(original, recipient))
            elif original.get("Disposition-Notification-To"):
                error = INTEGRATION_ERROR if recipient.lower() in self.integration_error else None
                self.put(sender, mdn(original, recipient, error))

    def put(self, address: str, raw: bytes) -> None:
        with self._lock:
            self.inboxes.setdefault(address.lower(), []).append(Stored(self._next_uid, raw, datetime.now(UTC)))
            self._next_uid += 1

    def inbox(self, address: str) -> list[Stored]:
        with self._lock:
            return list(self.inboxes.get(address.lower(), []))

    def messages(self, to: str | None = None, *, raw: bool = False) -> list[dict[str, Any]]:
        with self._lock:
            mails = list(self.delivered)
        wanted = to.lower() if to else None
        return [m.summary(raw) for m in mails if wanted is None or wanted in (r.lower() for r in m.recipients)]


def _report(original: Message, subject: str, report_type: str, human: str, fields: str) -> bytes:
    """A ``multipart/report`` written out by hand, the way MTAs and PFIs lay them out."""
    sender = getaddresses([str(original.get("From", ""))])[0][1]
    boundary = f"=_report_{uuid.uuid4().hex}"
    head = Header(subject, "utf-8").encode()
    returned = "".join(f"{k}: {v}\r\n" for k, v in original.items())
    text = (
        f"From: postmaster@{OPERATOR_DOMAIN}\r\nTo: {sender}\r\nSubject: {head}\r\n"
        f"Date: {format_datetime(datetime.now(UTC))}\r\nMessage-ID: <{uuid.uuid4()}@{OPERATOR_DOMAIN}>\r\n"
        f"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type={report_type};\r\n"
        f" boundary=\"{boundary}\"\r\n\r\n"
        f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        f"{base64.encodebytes(human.encode('utf-8')).decode('ascii')}\r\n"
        f"--{boundary}\r\nContent-Type: message/{report_type}\r\n\r\n{fields}\r\n"
        f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n{returned}\r\n"
        f"--{boundary}--\r\n"
    )
    return text.encode("utf-8")


def dsn_failure(original: Message, recipient: str) -> bytes:
    fields = (f"Reporting-MTA: dns; {OPERATOR_DOMAIN}\r\n\r\nFinal-Recipient: rfc822; {recipient}\r\n"
              f"Original-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
              f"Diagnostic-Code: smtp; 550 5.1.1 <{recipient}>: Recipient address rejected: unknown BAL\r\n")
    human = f"Le message n'a pas pu être remis à {recipient} : adresse MSSanté inconnue."
    return _report(original, "Undelivered Mail Returned to Sender", "delivery-status", human, fields)


def mdn(original: Message, recipient: str, error: tuple[str, str] | None) -> bytes:
    outcome = "processed" if error is None else f"processed/Error: {error[0]}^{error[1]}"
    fields = (f"Reporting-UA: {OPERATOR_DOMAIN}; PFI simulée\r\nFinal-Recipient: rfc822; {recipient}\r\n"
              f"Original-Recipient: rfc822; {recipient}\r\n"
              f"Original-Message-ID: {original.get('Message-ID', '')}\r\n"
              f"Disposition: automatic-action/MDN-sent-automatically; {outcome}\r\n")
    subject = str(original.get("Subject", ""))
    if error is None:
        human, title = f"Le message a été intégré par {recipient}.", f"Accusé de traitement : {subject}"
    else:
        human, title = f"Erreur {error[0]} : {error[1]}", f"[KO Intégration système !][{error[0]}] {subject}"
    return _report(original, title, "disposition-notification", human, fields)
