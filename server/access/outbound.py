"""The way out: an ASGI middleware that masks the INS in every JSON answer to a caller whose role is
not entitled to it, and documents' inline content to a caller who may not read Binary (``masking.py``),
whatever route produced it (read, search with ``_include``, batch, history, operations). It reads the
caller the enforcement stored on the request, so an answer to nobody (401) or to the public routes is
left as is."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from resources.errors import InvalidInput
from resources.fhirjson import dumps, loads
from server.access.caller import Caller
from server.access.masking import mask_attachment_data, mask_ins
from server.access.permissions import allows

Masking = Callable[[Any], Any]


def _maskings(scope: Scope) -> list[Masking]:
    """What the caller of this request may not see in an answer (empty: the answer goes as it is)."""
    caller = scope.get("state", {}).get("caller")
    if not isinstance(caller, Caller):
        return []
    out: list[Masking] = []
    if not allows(caller.role, "Patient", "ins"):
        out.append(mask_ins)
    if not allows(caller.role, "Binary", "read"):
        out.append(mask_attachment_data)
    return out


class InsMaskingMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []
        masks: list[Masking] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))
                if b"json" in headers.get(b"content-type", b"") and (maskings := _maskings(scope)):
                    start, masks[:] = message, maskings
                    return
                await send(message)
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    await _send_masked(send, start, b"".join(chunks), masks)
            else:
                await send(message)

        await self.app(scope, receive, capture)


async def _send_masked(send: Send, start: Message, body: bytes, masks: list[Masking]) -> None:
    try:
        masked: Any = body
        if body:
            answer = loads(body)
            for mask in masks:
                answer = mask(answer)
            masked = dumps(answer)
    except InvalidInput:
        masked = body
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(masked)).encode()))
    await send({**start, "headers": headers})
    await send({"type": "http.response.body", "body": masked})
