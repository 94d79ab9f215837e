"""Why a TLS call to a partner got no answer, in words a person can act on (a delivery's history, a Task).

Shared by the INSi and DMP clients and the MLLP/TLS client (a facade never imports another facade, so the one copy
lives here). httpx often says little itself: a TLS 1.3 server that refuses the client certificate completes the
handshake, then closes the connection, and the client sees ``ReadError('')`` or "Server disconnected without
sending a response" (an MLLP client: the connection closed before the ACK). So the reason names the likely cause
first, then the lowest-level error seen.
"""

from __future__ import annotations

import asyncio
import ssl

import httpx


def root_error(exc: BaseException) -> BaseException:
    """The lowest-level exception of ``exc``'s chain (its cause, or the one it was raised while handling)."""
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return exc


def transport_reason(exc: httpx.TransportError) -> str:
    """Say what most likely happened, then the lowest-level error seen."""
    root = root_error(exc)
    detail = f"{type(root).__name__}: {root}"
    if isinstance(root, ssl.SSLError):
        return f"TLS handshake failed ({detail})"
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out ({type(exc).__name__})"
    if isinstance(exc, httpx.ConnectError):
        return f"connection failed ({detail})"
    return (
        f"connection closed before any answer: the TLS client certificate was probably refused, "
        f"or the service is down ({detail})"
    )


def is_trust_refusal(exc: BaseException) -> bool:
    """A TLS refusal about certificates (the partner's not trusted, a name mismatch, ours refused by an alert):
    it does not heal by retrying, a person must fix a trust store or a certificate."""
    root = root_error(exc)
    if isinstance(root, ssl.SSLCertVerificationError):
        return True
    text = str(root).upper()
    return isinstance(root, ssl.SSLError) and any(w in text for w in ("CERTIFICATE", "UNKNOWN_CA", "ALERT"))


def closed_before_answer(exc: httpx.TransportError) -> bool:
    """The connection was closed with no TLS error, no timeout and no refusal to connect: under TLS 1.3 this is
    how a server that refuses the client certificate looks (it verifies it after the client's handshake ends),
    but also how a partner that dropped the connection mid-answer looks. ``certificate_refused`` tells them apart."""
    root = root_error(exc)
    return not isinstance(root, ssl.SSLError) and not isinstance(
        exc, httpx.TimeoutException | httpx.ConnectError)


async def certificate_refused(host: str, port: int, context: ssl.SSLContext, wait: float = 1.5) -> str:
    """Why the TLS server at ``host:port`` refuses this client (its certificate), or '' when it accepts it.

    A fresh connection is opened and nothing is sent: a server that accepts the client certificate waits for a
    request (the read times out after ``wait`` s), one that refuses it sends an alert or closes at once. The same
    question for every TLS client of a partner (the DMP's HTTPS, an EHR's MLLP/TLS)."""
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=context, server_hostname=host), wait * 4)
    except (OSError, TimeoutError) as exc:
        return f"TLS handshake failed ({type(exc).__name__}: {exc})" if isinstance(exc, ssl.SSLError) else ""
    try:
        data = await asyncio.wait_for(reader.read(1), wait)
    except TimeoutError:
        return ""
    except (ssl.SSLError, OSError) as exc:
        return f"the partner refused the TLS client certificate ({type(exc).__name__}: {exc})"
    finally:
        writer.close()
    if data:
        return ""
    return ("the partner closed a new TLS connection right after the handshake, before any request: it refuses "
            "the TLS client certificate")
