"""The INSi client as the server builds it: endpoint, organisation certificate and software identity
from settings (``SGL_INSI_URL``, ``SGL_INSI_CERT``/``KEY``/``CA``, ``SGL_INSI_IDAM``, ``SGL_INSI_INSTANCE``),
every exchange stored as an AuditEvent before the answer is used.

A client is opened per operation (one mutual-TLS handshake, a few ms) rather than shared for the
process, so that nothing outlives the request and a renewed certificate is picked up at once; the
bulk verification keeps one client for its whole run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib.metadata import version

from facades.insi import Caller as InsiCaller
from facades.insi import Exchange, InsiClient, Software, TraceCallback, client_ssl_context
from resources.errors import Unavailable
from resources.store.base import FhirStore
from server.identity.insi_audit import insi_audit_event
from server.settings import Settings


@dataclass
class Subject:
    """The patient the next INSi calls are about; the bulk check moves it from one patient to the next."""

    patient_id: str | None = None


def tracer(store: FhirStore, subject: Subject) -> TraceCallback:
    """Store each exchange as an AuditEvent naming the patient (SGL.INS.04, .40-.42)."""
    async def trace(exchange: Exchange) -> None:
        await store.create(insi_audit_event(exchange, subject.patient_id))
    return trace


def insi_caller(settings: Settings, user: str) -> InsiCaller:
    return InsiCaller(user=user, structure=settings.structure_id)


@asynccontextmanager
async def open_insi(settings: Settings, store: FhirStore, subject: Subject) -> AsyncIterator[InsiClient]:
    """An INSi client for one operation; 503 when INSi is not configured."""
    if not settings.insi_url:
        raise Unavailable("INSi is not configured on this server (SGL_INSI_URL)", expression="SGL_INSI_URL")
    cert, key, ca = settings.insi_cert, settings.insi_key, settings.insi_ca
    if cert is None or key is None or ca is None:
        raise Unavailable("INSi needs the organisation certificate: set SGL_INSI_CERT, SGL_INSI_KEY and SGL_INSI_CA",
                          expression="SGL_INSI_CERT")
    context = client_ssl_context(cert, key, ca)
    software = Software("OpenSGL", version("opensgl"), settings.insi_idam, settings.insi_instance)
    async with InsiClient(settings.insi_url, context, software, trace=tracer(store, subject)) as client:
        yield client
