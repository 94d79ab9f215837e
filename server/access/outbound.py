"""The way out: an ASGI middleware that masks the INS in every JSON answer to a caller whose role is
not entitled to it (``masking.py``), whatever route produced it (read, search with ``_include``,
batch, history, operations). It reads the caller the enforcement stored on the request, so an
answer to nobody (401) or to the public routes is left as is."""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from resources.errors import InvalidInput
from resources.fhirjson import dumps, loads
from server.access.caller import Caller
from server.access.masking import mask_ins
from server.access.permissions import allows


def _needs_mask(scope: Scope) -> bool:
    caller = scope.get("state", {}).get("caller")
    return isinstance(caller, Caller) and not allows(caller.role, "Patient", "ins")


class InsMaskingMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))
                if _needs_mask(scope) and b"json" in headers.get(b"content-type", b""):
                    start = message
                    return
                await send(message)
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    await _send_masked(send, start, b"".join(chunks))
            else:
                await send(message)

        await self.app(scope, receive, capture)


async def _send_masked(send: Send, start: Message, body: bytes) -> None:
    try:
        masked: Any = dumps(mask_ins(loads(body))) if body else body
    except InvalidInput:
        masked = body
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(masked)).encode()))
    await send({**start, "headers": headers})
    await send({"type": "http.response.body", "body": masked})
