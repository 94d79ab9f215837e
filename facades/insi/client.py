"""The INSi client: SOAP 1.2 over HTTPS with the lab's organisation certificate (mutual TLS).

Every call that reaches the network is traced through the ``trace`` callback, whatever its end
(answer, SOAP fault, transport error), with the request, the answer or the error, the duration
and the user (SGL.INS.04, INS.40–42). A trace callback that fails makes the call fail: an INSi
call that cannot be traced must not look successful. The HTTP transport is injectable so that
unit tests need no socket; the default one uses the given ``ssl.SSLContext``.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Protocol, TypeVar

import httpx

from facades.insi.answer import read_answer
from facades.insi.envelope import Request, carte_vitale_request, traits_request
from facades.insi.errors import InsiAnswerUnreadable, InsiUnreachable
from facades.insi.model import (
    Caller,
    CarteVitaleQuery,
    Identity,
    Operation,
    Result,
    Software,
    TraitsQuery,
    Verification,
)
from facades.insi.patient_mapping import verification_query
from facades.insi.verification import compare
from facades.xmlsig import Seal
from resources.errors import SglError
from resources.transport import transport_reason

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Exchange:
    """One traced INSi call: what was asked, by whom, what came back (or what went wrong), how long.

    ``result`` is the parsed answer (code, INS, history, traits: SGL.INS.41) when there was one.
    """

    operation: Operation
    caller: Caller
    message_id: str
    request: bytes
    response: bytes | None
    result: Result | None
    error: SglError | None
    outcome: str
    duration: float
    started: datetime


TraceCallback = Callable[[Exchange], Awaitable[None]]


class _Summarised(Protocol):
    @property
    def summary(self) -> str: ...


T = TypeVar("T", bound=_Summarised)


def client_ssl_context(certfile: Path, keyfile: Path, cafile: Path) -> ssl.SSLContext:
    """TLS 1.2+ context presenting the organisation certificate and trusting only ``cafile``."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(cafile))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(certfile), str(keyfile))
    return context


class InsiClient:
    """An INSi endpoint (``url``) called as ``software``; one instance per process, shared by users."""

    def __init__(
        self,
        url: str,
        ssl_context: ssl.SSLContext,
        software: Software,
        *,
        trace: TraceCallback,
        timeout: float = 15.0,
        transport: httpx.AsyncBaseTransport | None = None,
        seal: Seal | None = None,
    ) -> None:
        self.url = url
        self.software = software
        self.seal = seal  # signs the VIHF with the structure's seal certificate (facades/xmlsig)
        self._trace = trace
        self._http = httpx.AsyncClient(verify=ssl_context, timeout=timeout, transport=transport)

    async def __aenter__(self) -> InsiClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def search_by_traits(self, query: TraitsQuery, caller: Caller) -> Result:
        """``rechercherInsAvecTraitsIdentite``: 00 with the identity, 01 not found or 02 several."""
        request = traits_request(query, self.software, caller, datetime.now(UTC), seal=self.seal)
        return await self._run(request, caller, lambda result: result)

    async def search_by_carte_vitale(self, query: CarteVitaleQuery, caller: Caller) -> Result:
        """``rechercherInsAvecCarteVitale`` with the beneficiary data read from the card."""
        request = carte_vitale_request(query, self.software, caller, datetime.now(UTC), self.seal)
        return await self._run(request, caller, lambda result: result)

    async def verify(self, stored: Identity, caller: Caller) -> Verification:
        """Verify a stored INS: a traits search with the stored traits, compared field by field."""
        request = traits_request(
            verification_query(stored), self.software, caller, datetime.now(UTC), operation=Operation.VERIFY,
            seal=self.seal,
        )
        return await self._run(request, caller, lambda result: compare(stored, result))

    async def _post(self, request: Request) -> bytes:
        try:
            response = await self._http.post(
                self.url, content=request.xml, headers={"Content-Type": request.content_type}
            )
        except httpx.TransportError as exc:
            raise InsiUnreachable(
                f"INSi at {self.url} unreachable: {transport_reason(exc)}", expression=self.url
            ) from exc
        body = response.content
        soap = response.headers.get("content-type", "").startswith(("application/soap+xml", "text/xml"))
        if response.status_code != 200 and not soap:
            raise InsiUnreachable(f"INSi at {self.url} answered HTTP {response.status_code}", expression=self.url)
        return body

    async def _run(self, request: Request, caller: Caller, interpret: Callable[[Result], T]) -> T:
        started = datetime.now(UTC)
        clock = time.perf_counter()
        response: bytes | None = None
        result: Result | None = None
        error: SglError | None = None
        outcome = ""
        try:
            response = await self._post(request)
            result = read_answer(response)
            value = interpret(result)
            outcome = value.summary
            return value
        except SglError as exc:
            error = exc
            outcome = f"error: {exc.diagnostics}"
            raise
        except Exception as exc:  # an unexpected failure is still traced, as unreadable
            error = InsiAnswerUnreadable(f"INSi call failed unexpectedly: {type(exc).__name__}: {exc}")
            outcome = f"error: {error.diagnostics}"
            raise error from exc
        finally:
            duration = time.perf_counter() - clock
            log.info("INSi %s by %s: %s (%.3f s)", request.operation.value, caller.user, outcome, duration)
            await self._trace(
                Exchange(
                    operation=request.operation,
                    caller=caller,
                    message_id=request.message_id,
                    request=request.xml,
                    response=response,
                    result=result,
                    error=error,
                    outcome=outcome,
                    duration=duration,
                    started=started,
                )
            )
