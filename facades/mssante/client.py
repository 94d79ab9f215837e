"""The production MSSanté client: SMTP submission and IMAP, both with STARTTLS and mutual TLS.

The applicative BAL authenticates with its IGC-Santé organisation certificate (the TLS client
certificate); when the operator advertises SASL ``EXTERNAL`` the client also says so, which binds
the session to that certificate. Every session is checked against the MSSanté TLS rules
(:mod:`facades.mssante.tls`) *before* anything is sent: a refused session sends nothing and the
error's text is the reason the delivery stays pending.

The stdlib ``smtplib``/``imaplib`` are synchronous; the async methods run them in a thread so a
slow operator never blocks the event loop. One connection per call: a lab sends a few hundred
mails a day, and a fresh handshake re-checks the operator's certificate each time.

A thread cannot be stopped from outside, so the SMTP and IMAP exchanges bound themselves: every socket operation
has the ``timeout``, and the whole exchange has ``deadline`` (shorter than the outbox's delivery timeout), after
which a watchdog shuts the socket down and the call ends with :class:`MssUnreachable` naming the step it was
waiting on. ``send``, ``fetch_receipts`` and ``mark_read`` return only once their thread has ended, even when
their caller stops waiting: the outbox records an attempt only after the operator can no longer take that mail,
and the receipts poller records what it read only once the session is over.
"""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import logging
import re
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from typing import Any, TypeVar

from facades.mssante.errors import MssRejected, MssTlsRefused, MssUnreachable
from facades.mssante.ocsp import check_ocsp
from facades.mssante.receipts import Receipt, read_receipt
from facades.mssante.tls import check_session, client_context, explain, offered, probe_context
from resources.transport import root_error

log = logging.getLogger(__name__)
MAX_RECEIPTS_PER_POLL = 200
T = TypeVar("T")


@dataclass(frozen=True)
class OperatorConfig:
    """Where the operator is and what the lab presents to it (``SGL_MSS_*`` settings)."""

    smtp_host: str
    smtp_port: int
    imap_host: str
    imap_port: int
    cert: Path
    key: Path
    roots: Path
    crls: tuple[Path, ...] = ()
    timeout: float = 30.0
    """Each socket operation (connect, a command, a reply)."""
    ocsp: str | None = None
    """An OCSP responder URL that overrides the certificate's own (AIA); with neither, the CRLs decide."""
    deadline: float = 60.0
    """The whole SMTP exchange (connection to the answer to DATA), and each IMAP session of a receipts poll: set
    below the outbox's delivery timeout."""


@dataclass(frozen=True)
class Sent:
    message_id: str
    accepted: tuple[str, ...]
    refused: dict[str, str] = field(default_factory=dict)
    tls: str = ""


@dataclass(frozen=True)
class Fetched:
    """A mail of the BAL's inbox: its IMAP UID, and the receipts it carries (maybe none)."""

    uid: str
    receipts: tuple[Receipt, ...]


def _secure(starttls: object, sock_of: object, config: OperatorConfig) -> str:
    """Run STARTTLS and check the session, then the operator certificate's revocation by OCSP (MSS.06);
    translate TLS errors into :class:`MssTlsRefused`. Nothing is sent to the operator before this passes."""
    try:
        starttls()  # type: ignore[operator]
    except (ssl.SSLError, ssl.CertificateError) as exc:
        raise MssTlsRefused(explain(exc)) from exc
    sock = sock_of()  # type: ignore[operator]
    assert isinstance(sock, ssl.SSLSocket)
    tls = check_session(sock)
    leaf = sock.getpeercert(binary_form=True) or b""
    checked = check_ocsp(leaf, config.roots, config.ocsp, timeout=min(config.timeout, 10.0, config.deadline / 5))
    if not checked and not config.crls:
        raise MssTlsRefused("TLS refused: no CRL configured and no OCSP responder known for the operator "
                            "certificate: revocation cannot be checked (SGL.MSS.06)")
    return f"{tls}, {checked}" if checked else tls


class _Watchdog:
    """The overall deadline of one exchange run in a thread: when it passes, the socket is shut down, which ends any
    operation the thread is blocked in; ``step`` names the last command sent (what the answer was awaited to)."""

    def __init__(self, deadline: float, sock_of: Callable[[], object]) -> None:
        self.step, self.expired = "connection", False
        self._end, self._sock_of = time.monotonic() + deadline, sock_of
        self._timer = threading.Timer(deadline, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def _expire(self) -> None:
        self.expired = True
        sock = self._sock_of()
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def enter(self, step: str) -> None:
        """Before sending a command: refused once the deadline passed, else it becomes the step."""
        if self.expired or time.monotonic() >= self._end:
            self.expired = True
            raise TimeoutError("deadline passed")
        self.step = step

    def cancel(self) -> None:
        self._timer.cancel()


class _BoundedSmtp(smtplib.SMTP):
    """An SMTP session with an overall deadline (``_Watchdog``)."""

    def __init__(self, host: str, port: int, timeout: float, deadline: float) -> None:
        self.watch = _Watchdog(deadline, lambda: self.sock)
        try:
            super().__init__(host, port, timeout=min(timeout, deadline))
        except BaseException:
            self.watch.cancel()
            raise

    def putcmd(self, cmd: str, args: str = "") -> None:
        if cmd.upper() != "QUIT":  # the closing of a session that is over: neither bounded nor the step to name
            self.watch.enter(cmd.upper())
        super().putcmd(cmd, args)

    def close(self) -> None:
        self.watch.cancel()
        super().close()


class _BoundedImap(imaplib.IMAP4):
    """An IMAP session with an overall deadline (``_Watchdog``): each socket operation has the timeout, but an
    operator answering every command just in time would otherwise hold the poll for as long as it likes."""

    def __init__(self, host: str, port: int, timeout: float, deadline: float) -> None:
        self.watch = _Watchdog(deadline, lambda: getattr(self, "sock", None))
        try:
            super().__init__(host, port, timeout=min(timeout, deadline))
        except BaseException as exc:
            self.watch.cancel()
            if self.watch.expired:  # the greeting or the first CAPABILITY held past the deadline
                raise TimeoutError(f"deadline passed waiting for the answer to {self.watch.step}") from exc
            raise

    def _command(self, name: str, *args: Any) -> Any:
        if name != "LOGOUT":  # the closing of a session that is over
            self.watch.enter(f"{name} {args[0]}" if name == "UID" and args else name)
        return super()._command(name, *args)  # type: ignore[misc]  # private in the stubs; the tag, as made

    def shutdown(self) -> None:
        self.watch.cancel()
        super().shutdown()


async def _in_thread(call: Callable[..., T], *args: Any) -> T:
    """``call(*args)`` in a thread (it bounds itself); cancelled, this still returns only once the thread has ended,
    so the caller records nothing while the operator may still be answering."""
    thread = asyncio.ensure_future(asyncio.to_thread(call, *args))
    try:
        return await asyncio.shield(thread)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await thread
        raise


class MssClient:
    """An applicative BAL at one operator."""

    def __init__(self, config: OperatorConfig) -> None:
        self.config = config
        self.context = client_context(config.cert, config.key, config.roots, config.crls)

    # --- SMTP ---------------------------------------------------------------------------------
    async def send(self, message: EmailMessage) -> Sent:
        """Submit ``message`` to its ``To`` recipients; :class:`MssRejected` if every one is refused, at least one
        for good (5xx); :class:`MssUnreachable` (try again) when every refusal is temporary (4xx) or the exchange
        passed its deadline. Cancelled, it still returns only once the thread has ended (within the deadline)."""
        return await _in_thread(self._send, message)

    def _send(self, message: EmailMessage) -> Sent:
        sender = getaddresses([str(message["From"])])[0][1]
        recipients = [a for _, a in getaddresses([str(v) for v in message.get_all("To", [])])]
        message_id = str(message["Message-ID"])
        smtp: _BoundedSmtp | None = None
        try:
            with _BoundedSmtp(self.config.smtp_host, self.config.smtp_port, self.config.timeout,
                              self.config.deadline) as smtp:
                smtp.ehlo()
                if not smtp.has_extn("starttls"):
                    raise MssTlsRefused("TLS refused: the operator does not offer STARTTLS on submission (SGL.MSS.01)")
                tls = _secure(lambda: smtp.starttls(context=self.context), lambda: smtp.sock, self.config)
                smtp.ehlo()
                if "EXTERNAL" in smtp.esmtp_features.get("auth", "").upper().split():
                    code, reply = smtp.docmd("AUTH", "EXTERNAL =")
                    if code != 235:
                        raise MssRejected(f"the operator refused our certificate (AUTH EXTERNAL {code} {reply!r})")
                refused = smtp.send_message(message, sender, recipients)
        except smtplib.SMTPRecipientsRefused as exc:
            if all(code < 500 for code, _ in exc.recipients.values()):  # 4xx only (full mailbox, greylisting)
                raise MssUnreachable(f"every recipient refused for now: {_refusals(exc.recipients)}") from exc
            raise MssRejected(f"every recipient refused: {_refusals(exc.recipients)}",
                              {a: _text(r) for a, r in exc.recipients.items()}) from exc
        except smtplib.SMTPResponseException as exc:
            reason = f"SMTP {exc.smtp_code} {_text((exc.smtp_code, exc.smtp_error))}"
            raise (MssRejected(reason) if exc.smtp_code >= 500 else MssUnreachable(reason)) from exc
        except (MssTlsRefused, ssl.SSLError, ssl.CertificateError, smtplib.SMTPException, OSError) as exc:
            if smtp is not None and (smtp.watch.expired or isinstance(root_error(exc), TimeoutError)):  # too slow
                raise MssUnreachable(self._late(smtp.watch.step, message_id, smtp.watch.expired)) from exc
            if isinstance(exc, MssTlsRefused):
                raise MssTlsRefused(self._diagnosed(exc.diagnostics)) from exc
            if isinstance(exc, ssl.SSLError | ssl.CertificateError):
                raise MssTlsRefused(self._diagnosed(explain(exc))) from exc
            raise MssUnreachable(f"operator unreachable ({type(exc).__name__}: {exc})") from exc
        log.info("MSSanté mail %s submitted over %s to %d recipient(s), %d refused", message_id, tls,
                 len(recipients) - len(refused), len(refused))
        return Sent(message_id, tuple(a for a in recipients if a not in refused),
                    {a: _text(r) for a, r in refused.items()}, tls)

    def _late(self, step: str, message_id: str, expired: bool) -> str:
        """What the delivery records when the operator was too slow: where the exchange stopped, and whether the
        operator may hold the mail (only once the whole message was sent, waiting for the answer to DATA)."""
        cut = (f"the SMTP exchange was cut at its {self.config.deadline:g} s deadline" if expired
               else f"no answer within {self.config.timeout:g} s")
        where = "the answer to the end of the message (DATA)" if step == "DATA" else f"the answer to {step}"
        taken = (f"the operator may have taken the mail: a resend carries the same Message-ID {message_id}"
                 if step == "DATA" else "the mail was not sent")
        return f"operator too slow: {cut} while waiting for {where}; {taken}"

    def _diagnosed(self, reason: str, imap: bool = False) -> str:
        """When the handshake just broke off, look at what the operator offers to name the rule it breaks."""
        if "SGL.MSS" in reason:
            return reason
        context = probe_context(self.config.cert, self.config.key)
        try:
            if imap:
                probe = imaplib.IMAP4(self.config.imap_host, self.config.imap_port, timeout=self.config.timeout)
                try:  # closed whatever the operator answers (a NO to STARTTLS raises before the look)
                    probe.starttls(ssl_context=context)
                    seen = _offered(probe.sock)
                finally:
                    probe.shutdown()
            else:
                with smtplib.SMTP(self.config.smtp_host, self.config.smtp_port, timeout=self.config.timeout) as smtp:
                    smtp.starttls(context=context)
                    seen = _offered(smtp.sock)
        except (smtplib.SMTPException, imaplib.IMAP4.error, OSError):
            return reason
        return f"TLS refused: {seen} [{reason}]" if seen else reason

    # --- IMAP ---------------------------------------------------------------------------------
    async def fetch_receipts(self, limit: int = MAX_RECEIPTS_PER_POLL) -> list[Fetched]:
        """The unread mails of the inbox (at most ``limit``), with their receipts, left unread.

        Call :meth:`mark_read` with their UIDs once the receipts are durably recorded, so a crash in
        between reads them again rather than losing them. The exchange has ``deadline`` like a send
        (:class:`MssUnreachable` naming the command it was waiting on); :class:`MssTlsRefused` when the TLS is.
        """
        return await _in_thread(self._fetch, limit)

    async def mark_read(self, uids: Sequence[str]) -> None:
        if uids:
            await _in_thread(self._mark, list(uids))

    def _imap(self) -> _BoundedImap:
        try:
            imap = _BoundedImap(self.config.imap_host, self.config.imap_port, self.config.timeout,
                                self.config.deadline)
        except (OSError, imaplib.IMAP4.error) as exc:
            if isinstance(exc, TimeoutError) or isinstance(root_error(exc), TimeoutError):
                raise MssUnreachable(self._imap_late("connection", "deadline" in str(exc))) from exc
            raise MssUnreachable(f"IMAP operator unreachable ({type(exc).__name__}: {exc})") from exc
        try:
            if "STARTTLS" not in imap.capabilities:
                raise MssTlsRefused("TLS refused: the operator does not offer STARTTLS on IMAP (SGL.MSS.01)")
            _secure(lambda: imap.starttls(ssl_context=self.context), lambda: imap.sock, self.config)
            imap.authenticate("EXTERNAL", lambda _: b"")
            imap.select("INBOX")
        except BaseException as exc:
            with contextlib.suppress(Exception):
                imap.shutdown()
            if isinstance(exc, Exception):
                raise self._imap_failure(imap, exc) from exc
            raise
        return imap

    def _imap_failure(self, imap: _BoundedImap, exc: Exception) -> Exception:
        """What an IMAP exchange's failure means: too slow (the deadline, a socket timeout), a TLS refusal (a
        person fixes it), the operator unreachable or answering an error (the next poll tries again)."""
        if imap.watch.expired or isinstance(root_error(exc), TimeoutError):
            return MssUnreachable(self._imap_late(imap.watch.step, imap.watch.expired))
        if isinstance(exc, MssTlsRefused):
            return MssTlsRefused(self._diagnosed(exc.diagnostics, imap=True))
        if isinstance(exc, ssl.SSLError | ssl.CertificateError):
            return MssTlsRefused(self._diagnosed(explain(exc), imap=True))
        if isinstance(exc, imaplib.IMAP4.error):
            return MssUnreachable(f"IMAP error: {exc}")
        if isinstance(exc, OSError):
            return MssUnreachable(f"IMAP operator unreachable ({type(exc).__name__}: {exc})")
        return exc

    def _imap_late(self, step: str, expired: bool) -> str:
        cut = (f"the IMAP exchange was cut at its {self.config.deadline:g} s deadline" if expired
               else f"no answer within {self.config.timeout:g} s")
        return (f"operator too slow: {cut} while waiting for the answer to {step}; the receipts are read again "
                "at the next poll")

    def _fetch(self, limit: int) -> list[Fetched]:
        imap = self._imap()
        try:
            _, found = imap.uid("SEARCH", "UNSEEN")
            uids = (found[0] or b"").decode().split()[:limit]
            fetched = []
            for uid in uids:
                _, data = imap.uid("FETCH", uid, "(BODY.PEEK[])")
                raw = next((part[1] for part in data if isinstance(part, tuple)), b"")
                fetched.append(Fetched(uid, tuple(read_receipt(raw))))
            return fetched
        except (imaplib.IMAP4.error, OSError) as exc:
            raise self._imap_failure(imap, exc) from exc
        finally:
            with contextlib.suppress(Exception):
                imap.logout()
            imap.watch.cancel()

    def _mark(self, uids: list[str]) -> None:
        imap = self._imap()
        try:
            imap.uid("STORE", ",".join(uids), "+FLAGS", "(\\Seen)")
        except (imaplib.IMAP4.error, OSError) as exc:
            raise self._imap_failure(imap, exc) from exc
        finally:
            with contextlib.suppress(Exception):
                imap.logout()
            imap.watch.cancel()


def _offered(sock: object) -> str:
    return offered(sock.version(), (sock.cipher() or ("", "", 0))[0]) if isinstance(sock, ssl.SSLSocket) else ""


_CTRL = re.compile(r"[\r\n\t]+")


def _text(reply: tuple[int, bytes | str]) -> str:
    code, text = reply
    decoded = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {_CTRL.sub(' ', decoded)}".strip()


def _refusals(recipients: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{a}: {_text(r)}" for a, r in recipients.items())
