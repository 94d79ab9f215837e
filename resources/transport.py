"""Why an HTTPS call to a partner got no answer, in words a person can act on (a delivery's history, a Task).

Shared by the INSi and DMP clients (a facade never imports another facade, so the one copy lives here). httpx
often says little itself: a TLS 1.3 server that refuses the client certificate completes the handshake, then
closes the connection, and the client sees ``ReadError('')`` or "Server disconnected without sending a
response". So the reason names the likely cause first, then the lowest-level error seen.
"""

from __future__ import annotations

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
