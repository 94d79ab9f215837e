"""Limits on HTTP requests, checked in an ASGI middleware before any route reads a byte.

* Body size: a declared ``Content-Length`` over the limit is answered 413 at once, without reading the
  body; a body sent without one (chunked) is counted as it streams and refused as soon as it passes
  the limit, so a 50 MB upload never sits in memory. Documents (``$import-crbio``, ``$loinc-import``,
  ``Binary``) have their own, larger limit.
* Head size: a request line plus headers over ``MAX_HEAD_BYTES`` is 431 (Request Header Fields Too Large).
  A head that arrives in pieces is refused by the connection protocol (``server/http_protocol.py``) as soon
  as the buffered part passes the limit; one that arrived whole is refused here, before any route.
* Media type: a FHIR body must be JSON (``application/fhir+json``, ``application/json``); anything else
  is 415 rather than parsed as FHIR. Form-encoded searches and the document imports say their own.
* Coding: the server decodes no ``Content-Encoding`` and reads FHIR JSON as UTF-8 only (RFC 8259), so a body
  declared ``gzip``/``br``/... or JSON declared in another charset is 415 naming what was declared (found by
  probing: a gzip body was refused as "not valid UTF-8 at line 1 column 1", a ``br`` one holding plain JSON was
  stored, an ISO-8859-1 one was refused with a wrong position).

Both answers are OperationOutcomes, like every other error.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from resources.errors import Issue, SglError, operation_outcome
from resources.fhirjson import dumps

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

_DOCUMENT_SUFFIXES = ("/$import-crbio", "/$loinc-import", "/$identity-document")
_ANY_MEDIA_TYPE = ("/$import-crbio", "/$loinc-import", "/$identity-document")
"""Operations that read their body themselves (CDA XML, CSV, JSON, an ID scan) and say what is wrong with it."""
_JSON_TYPES = ("application/fhir+json", "application/json", "application/json+fhir")
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_WITH_BODY = ("POST", "PUT", "PATCH")
MAX_HEAD_BYTES = 16 * 1024
"""Request line plus headers: a FHIR request, bearer token included, needs a few KB (h11's default kept)."""
HEAD_TOO_LARGE = (f"the request line and headers pass the {MAX_HEAD_BYTES} bytes this server accepts; "
                  "nothing of the request was processed")


class PayloadTooLarge(SglError):
    """The request body passes the size limit: 413, nothing of it is processed."""

    status = 413
    issue_code = "too-long"


def is_document_path(path: str) -> bool:
    """Paths where large bodies are legitimate (a CR-Bio with its PDF, a LOINC table, a Binary)."""
    return path.endswith(_DOCUMENT_SUFFIXES) or path == "/fhir/Binary" or path.startswith("/fhir/Binary/")


def media_type_problem(path: str, content_type: str | None) -> str | None:
    """Why a body of ``content_type`` cannot be taken at ``path`` (None: it can)."""
    if not path.startswith("/fhir") or path.endswith(_ANY_MEDIA_TYPE):
        return None
    media = (content_type or "").split(";")[0].strip().lower()
    if _is_json(media):
        return None
    if path.endswith("/_search") and media in _FORM_TYPES:
        return None
    return (f"a FHIR request body must be {_JSON_TYPES[0]} (or {_JSON_TYPES[1]}), not "
            f"{media or 'a body without Content-Type'}")


def coding_problem(path: str, content_encoding: str | None, content_type: str | None) -> str | None:
    """Why a body declared with this ``Content-Encoding`` and ``Content-Type`` charset cannot be read (None: it
    can): any encoding but ``identity``; on JSON, any charset but UTF-8."""
    if not path.startswith("/fhir"):
        return None
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    if any(c != "identity" for c in codings):
        return (f"Content-Encoding {content_encoding!r} is not supported: send the body uncompressed; "
                "nothing of it was read")
    media, *params = (content_type or "").lower().split(";")
    if not _is_json(media.strip()) or path.endswith(_ANY_MEDIA_TYPE):
        return None
    charset = next((v.strip().strip('"') for k, _, v in (x.partition("=") for x in params) if k.strip() == "charset"),
                   "utf-8")
    if charset not in ("utf-8", "utf8"):
        return f"a FHIR JSON body is UTF-8 (RFC 8259), not charset={charset}; nothing of it was read"
    return None


def _is_json(media: str) -> bool:
    return media in _JSON_TYPES or (media.startswith("application/") and media.endswith("+json"))


class RequestLimits:
    """ASGI middleware enforcing the body limits and the media types above."""

    def __init__(self, app: App, *, max_body: int, max_document_body: int) -> None:
        self.app = app
        self.max_body = max_body
        self.max_document_body = max_document_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and head_size(scope) > MAX_HEAD_BYTES:
            log.warning("%s %s refused: request head of %d bytes", scope["method"], scope["path"], head_size(scope))
            await _refuse(send, 431, "too-long", HEAD_TOO_LARGE)
            return
        if scope["type"] != "http" or scope["method"] not in _WITH_BODY:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        limit = self.max_document_body if is_document_path(path) else self.max_body
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            log.warning("%s %s refused: body of %s bytes declared, limit %d", scope["method"], path, declared, limit)
            await _refuse(send, 413, "too-long", f"the request body ({declared} bytes) is larger than the "
                          f"{limit} bytes this server accepts here")
            return
        has_body = (declared.isdigit() and int(declared) > 0) or "transfer-encoding" in headers
        problem = ((media_type_problem(path, headers.get("content-type"))
                    or coding_problem(path, headers.get("content-encoding"), headers.get("content-type")))
                   if has_body else None)
        if problem is not None:
            await _refuse(send, 415, "not-supported", problem)
            return
        await self.app(scope, _counted(receive, limit), send)


def head_size(scope: Scope) -> int:
    """Bytes of the request line and headers as the client sent them (give or take the version)."""
    line = len(scope["method"]) + len(scope.get("raw_path") or b"") + len(scope.get("query_string", b"")) + 12
    return line + sum(len(name) + len(value) + 4 for name, value in scope["headers"])


def _counted(receive: Receive, limit: int) -> Receive:
    """``receive`` that raises 413 as soon as the body streamed so far passes ``limit``."""
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise PayloadTooLarge(f"the request body is larger than the {limit} bytes this server accepts here")
        return message

    return counted


async def _refuse(send: Send, status: int, code: str, diagnostics: str) -> None:
    body = dumps(operation_outcome([Issue(code=code, diagnostics=diagnostics)]))
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/fhir+json; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
