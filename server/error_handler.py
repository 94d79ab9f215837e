"""The one place where errors become HTTP: status from the error class, body an OperationOutcome."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from resources.errors import Issue, SglError, Unavailable, operation_outcome
from server.database import DATABASE_DOWN, RETRY_AFTER_S, unavailable
from server.responses import fhir_response

log = logging.getLogger(__name__)

_HTTP_ISSUE = {404: "not-found", 405: "not-supported", 406: "not-supported", 415: "not-supported"}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SglError)
    async def sgl_error(request: Request, exc: SglError) -> Response:
        log.info("%s %s -> %s: %s", request.method, request.url.path, exc.status, exc.diagnostics)
        headers = {"Retry-After": str(RETRY_AFTER_S)} if isinstance(exc, Unavailable) else None
        return fhir_response(exc.outcome(), exc.status, getattr(exc, "headers", None) or headers)

    @app.exception_handler(DATABASE_DOWN)
    async def database_down(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DATABASE_DOWN)
        return await sgl_error(request, unavailable(exc))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        issue = Issue(code=_HTTP_ISSUE.get(exc.status_code, "processing"), diagnostics=str(exc.detail))
        return fhir_response(operation_outcome([issue]), exc.status_code, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def request_error(request: Request, exc: RequestValidationError) -> Response:
        issues = [Issue(code="invalid", diagnostics=f"{'.'.join(map(str, e['loc']))}: {e['msg']}")
                  for e in exc.errors()]
        return fhir_response(operation_outcome(issues), 400)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        issue = Issue(code="exception", diagnostics=f"internal error: {type(exc).__name__}")
        return fhir_response(operation_outcome([issue]), 500)
