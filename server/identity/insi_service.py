"""The INSi client as the server builds it: endpoint, organisation certificate and software identity
from settings (``SGL_INSI_URL``, ``SGL_INSI_CERT``/``KEY``/``CA``, ``SGL_INSI_IDAM``, ``SGL_INSI_INSTANCE``),
every exchange stored as an AuditEvent before the answer is used.

A client is opened per operation (one mutual-TLS handshake, a few ms) rather than shared for the
process, so that nothing outlives the request and a renewed certificate is picked up at once; the
bulk verification keeps one client for its whole run.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from cryptography import x509

from facades.insi import Caller as InsiCaller
from facades.insi import Exchange, InsiClient, Professional, Software, TraceCallback, client_ssl_context
from facades.xmlsig import Seal
from resources.errors import Unavailable
from resources.store.base import FhirStore
from server.access.caller import Caller
from server.identity.insi_audit import insi_audit_event
from server.psc.pending import professional_of
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


def insi_caller(settings: Settings, user: str, professional: Professional | None = None) -> InsiCaller:
    return InsiCaller(user=user, structure=settings.structure_id, professional=professional,
                      vihf_issuer=certificate_subject(settings.insi_cert) if professional else "")


def certificate_subject(cert: Path | None) -> str:
    """The subject DN of the organisation certificate (the VIHF's Issuer), empty when unreadable."""
    if cert is None:
        return ""
    try:
        return x509.load_pem_x509_certificate(cert.read_bytes()).subject.rfc4514_string()
    except (OSError, ValueError):
        return ""


async def caller_for_insi(settings: Settings, store: FhirStore, caller: Caller) -> InsiCaller:
    """The INSi caller of an operation: a user who logged in through Pro Santé Connect is named in a VIHF
    (SGL.INS.48); other callers (password login, API clients, the CLI) call with the organisation
    certificate only."""
    professional = None
    db = getattr(store, "db", None)
    if caller.kind == "user" and db is not None:
        found = await professional_of(db, caller.id.removeprefix("user:"))
        if found and found.get("national_id") and found.get("profession"):
            professional = Professional(**found)
    return insi_caller(settings, caller.id, professional)


@functools.lru_cache(maxsize=4)
def _seal(cert: Path, key: Path) -> Seal:
    """One Seal per certificate for the process: its key is checked once (about 0.1 s), not at every call."""
    return Seal.from_files(cert, key)


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
    seal = _seal(cert, key)  # the VIHF is signed with the organisation certificate (facades/xmlsig)
    async with InsiClient(settings.insi_url, context, software, trace=tracer(store, subject), seal=seal) as client:
        yield client
