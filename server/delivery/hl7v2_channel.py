"""The ``hl7v2`` channel: each CR-Bio version to the hospital EHRs (partners of role ``dpi`` registered with
``--send-to HOST:PORT``) as an ORU^R01 over MLLP (MLLP/TLS with ``SGL_DPI_TLS_CA``, its files read at each
exchange), SGL.DOC.17 / SGL.RES.01.

Answers mapped for the outbox: ``AA``/``CA`` = delivered (remote id = the acknowledged MSH-10); ``AE``/``AR`` =
refused for good, with the partner's ERR / MSA-3 text; no connection, no ACK in time, an unreadable ACK or one
acknowledging another message (wrong MSA-2) = transient (retried). MSH-10 is derived from the delivery's
idempotency key, so a resend after a crash carries the control id the partner already acknowledged.
The INS goes in PID-3 for a qualified identity (SGL.INS.56, ``facades/hl7v2/pid.py``).

``IDENTITY`` deliveries (written by ``identity_updates.py`` with the patient's change, SGL.INS.34/36) go the
same way to the same port: an ADT^A31, or an ADT^A40 whose MRG-1 names the merged patient
(``facades/hl7v2/identity_adt.py``), with the same answer mapping.
"""

from __future__ import annotations

import hashlib
import ssl
from collections.abc import Callable, Sequence
from typing import Any

from facades.hl7v2.client import MllpClient, nack_reason
from facades.hl7v2.crbio_oru import build_crbio_oru
from facades.hl7v2.errors import MllpUnavailable, NackReceived
from facades.hl7v2.identity_adt import build_identity_adt
from facades.hl7v2.message import Hl7Message
from facades.hl7v2.outbound import OruParties
from facades.hl7v2.pid import AssigningAuthority
from resources.errors import InvalidInput
from resources.transport import is_trust_refusal
from server.access.roles import DPI
from server.delivery.channel import (
    Action,
    ChannelAnswer,
    DeliveryItem,
    DocumentEvent,
    DocumentSet,
    Outcome,
    Recipient,
    register_channel,
)
from server.partners.model import Partner
from server.partners.registry import PartnerRegistry
from server.settings import Settings

NAME = "hl7v2"
SENT = (Action.PUBLISH, Action.REPLACE, Action.DELETE)


def control_id(idempotency_key: str) -> str:
    """A stable MSH-10 (20 characters, the HL7 2.5 length) for one delivery."""
    return "SGL" + hashlib.sha1(idempotency_key.encode("utf-8")).hexdigest()[:17].upper()


NO_IPP = AssigningAuthority("", "", system="urn:opensgl:no-ipp")
"""Matches no identifier: PID-3 then carries the qualified INS alone, or the message cannot be built (FAILED)."""


def _ipp_authority(patient: dict[str, Any]) -> AssigningAuthority:
    for ident in patient.get("identifier", ()):
        types = {c.get("code") for c in (ident.get("type") or {}).get("coding", ())}
        system = str(ident.get("system", ""))
        if "PI" in types and system:
            oid = system.removeprefix("urn:oid:")
            namespace = str((ident.get("assigner") or {}).get("display") or "")
            return AssigningAuthority(namespace, oid, "ISO" if oid.replace(".", "").isdigit() and "." in oid else "N",
                                      system=system)
    return NO_IPP


def partner_extra(partner: Partner) -> dict[str, Any]:
    """What a delivery keeps of its DPI partner when it is written: where and to whom its messages go."""
    return {"send_to": partner.send_to, "application": partner.hl7_application or partner.name,
            "facility": partner.hl7_facility or ""}


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    if settings.dpi_tls_ca is None:
        return None
    context = ssl.create_default_context(cafile=str(settings.dpi_tls_ca))
    if settings.mllp_tls_cert and settings.mllp_tls_key:
        context.load_cert_chain(str(settings.mllp_tls_cert), str(settings.mllp_tls_key))
    return context


class Hl7v2Channel:
    name = NAME

    def __init__(self, partners: PartnerRegistry, facility: str, tls: Callable[[], ssl.SSLContext | None] | None,
                 timeout: float) -> None:
        """``tls`` makes the MLLP/TLS context at each exchange (``None``: plain MLLP), so a trust store or a
        certificate the administrator fixed is read at the next try, without restarting the server."""
        self.partners, self.facility, self.tls, self.timeout = partners, facility, tls, timeout

    async def recipients(self, event: DocumentEvent) -> Sequence[Recipient]:
        if event.action not in SENT:
            return []
        return [Recipient(p.name, partner_extra(p)) for p in await self.partners.all() if p.role == DPI and p.send_to]

    def _parties(self, item: DeliveryItem, documents: DocumentSet) -> OruParties:
        return OruParties("OPENSGL", self.facility, str(item.extra.get("application", item.recipient)),
                          str(item.extra.get("facility", "")), _ipp_authority(documents.patient))

    async def send(self, item: DeliveryItem, documents: DocumentSet) -> ChannelAnswer:
        if item.action == Action.IDENTITY:
            return await self._send_identity(item, documents)
        source = documents.previous if item.action == Action.DELETE else documents.documents
        document = source.get("n3") or source.get("pdf")
        if document is None:
            return ChannelAnswer(Outcome.FAILED, f"no stored document for version {item.document_version}")
        parties = self._parties(item, documents)
        settings = item.settings
        flags = {"MASQUE_PS": settings.masked_to_professionals, "INVISIBLE_PATIENT": settings.invisible_to_patient,
                 "INVISIBLE_REP_LEGAUX": settings.invisible_to_legal_representatives, "DESTDMP": True}
        msh10 = control_id(item.idempotency_key)
        try:
            message = build_crbio_oru(parties=parties, control_id=msh10, event=item.action.value,
                                      patient=documents.patient, report=documents.report, document=document.content,
                                      flags=flags, results=documents.results)
        except InvalidInput as exc:  # e.g. a patient with neither IPP nor qualified INS for PID-3
            return ChannelAnswer(Outcome.FAILED, f"the ORU^R01 cannot be built: {exc.diagnostics}")
        return await self._exchange(item, message, msh10)

    async def _send_identity(self, item: DeliveryItem, documents: DocumentSet) -> ChannelAnswer:
        """ADT^A31 of the patient, or ADT^A40 when the delivery names a merged patient."""
        msh10 = control_id(item.idempotency_key)
        merged = documents.merged_patient
        if item.extra.get("merged") and not merged:
            return ChannelAnswer(Outcome.FAILED, f"the merged patient {item.extra['merged']} is not stored any more")
        try:
            message = build_identity_adt(parties=self._parties(item, documents), control_id=msh10,
                                         event="A40" if merged else "A31", patient=dict(documents.patient),
                                         merged=dict(merged) if merged else None)
        except InvalidInput as exc:
            return ChannelAnswer(Outcome.FAILED, f"the ADT cannot be built: {exc.diagnostics}")
        return await self._exchange(item, message, msh10)

    async def _exchange(self, item: DeliveryItem, message: Hl7Message, msh10: str) -> ChannelAnswer:
        """Send over MLLP and map the ACK: AA/CA delivered, AE/AR failed with the ERR text, the rest retried."""
        host, _, port = str(item.extra.get("send_to", "")).rpartition(":")
        try:
            context = self.tls() if self.tls is not None else None
        except (OSError, ValueError) as exc:  # a missing or unreadable CA, certificate or key file (SSLError: OSError)
            return ChannelAnswer(Outcome.RETRY, f"MLLP/TLS configuration: {type(exc).__name__}: {exc}")
        try:
            async with MllpClient(host, int(port), connect_timeout=self.timeout, read_timeout=self.timeout,
                                  ssl_context=context) as client:
                ack = await client.send(message)
        except NackReceived as exc:
            return ChannelAnswer(Outcome.FAILED, f"{exc.acknowledgment_code}: {nack_reason(exc.ack)}", msh10,
                                 {"ack": exc.ack.to_er7()[:2000]})
        except MllpUnavailable as exc:  # MLLP/TLS: a certificate refused (in the handshake, or after it under TLS
            # 1.3: the client's probe) tells a person
            return ChannelAnswer(Outcome.RETRY, exc.diagnostics, None,
                                 trust_refused=exc.trust_refused or is_trust_refusal(exc))
        return ChannelAnswer(Outcome.DELIVERED, f"{ack.segment('MSA').get('1')}", msh10,  # type: ignore[union-attr]
                             {"ack": ack.to_er7()[:2000]})


def build(context: Any) -> Hl7v2Channel | None:
    """The channel of the server's ``AppContext``; ``None`` for a context without a partner registry."""
    settings: Settings = context.settings
    partners: PartnerRegistry | None = getattr(context, "partners", None)
    if partners is None:
        return None
    tls = (lambda: tls_context(settings)) if settings.dpi_tls_ca else None
    return Hl7v2Channel(partners, settings.structure_id, tls, min(30.0, settings.delivery_timeout / 2))


register_channel(NAME, build)
