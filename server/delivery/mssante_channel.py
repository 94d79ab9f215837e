"""The ``mssante`` delivery channel: each CR-Bio version mailed from the lab's applicative BAL.

Recipients (asked by the outbox inside the storing transaction, no network): the prescriber and
correspondents at their MSSanté addresses and the patient at ``<INS>@patient.mssante.fr``, per
``recipients.py`` (refusals recorded on the dossier, qualified INS, complete reports only); for a
deletion, everyone the outbox's history shows actually received a version of the report (SGL.MSS.25:
a correspondent removed from the dossier since, or a recipient chosen by hand, is warned too). One
delivery per address, so the status is kept per recipient. A professional's delivery is named by
its address; the patient's by ``patient:Patient/<id>`` (the address, which carries the INS, stays
in the delivery's data and never reaches a log line or an idempotency key).

Sending (by the outbox worker): a mail per delivery with ``IHE_XDM.ZIP`` (the N3) and the PDF/A,
or, for a deletion, the pre-set notice alone. Answers mapped for the outbox:

- submitted: ``DELIVERED`` (remote id = the Message-ID; receipts later refine it, ``receipts.py``);
- TLS rule broken by the operator, operator down, SMTP 4xx: ``RETRY`` with the reason (the delivery
  stays pending and shows why; at the retry limit it becomes a failure Task);
- SMTP 5xx for the recipient, a mail that cannot be built: ``FAILED`` at once.

The Message-ID is derived from the delivery's idempotency key, so a resend after a crash carries
the same id and the recipient's platform recognises the duplicate. The client (and its TLS context,
with the CRLs) is built for each send, so renewed CRL and certificate files are picked up.

One departure from "plain data only": :meth:`recipients` reads the patient's recorded refusals through
``server.orders.refused_channels`` on the store (committed Consents: a search ``event.read`` cannot do).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from facades.mssante import (
    MssClient,
    MssMessageInvalid,
    MssRejected,
    MssTlsRefused,
    MssUnreachable,
    OperatorConfig,
    ReportMail,
    Sender,
    build_message,
)
from facades.mssante.cda_header import read_header
from resources.errors import SglError
from server.delivery.channel import (
    Action,
    ChannelAnswer,
    DeliveryItem,
    DocumentEvent,
    DocumentSet,
    Outcome,
    ReadResource,
    Recipient,
    Resource,
    register_channel,
)
from server.mssante.recipients import MailRecipient, display_name, plan_recipients, read_party
from server.mssante.wording import notice_wording, patient_identity, wording
from server.orders.refusals import refused_channels
from server.orders.requisition import COPIES_TO_EXTENSION
from server.settings import Settings

log = logging.getLogger(__name__)
Refusals = Callable[[str], Awaitable[set[str]]]
"""``await refusals("ServiceRequest/<id>")``: the channels the patient refused for that dossier."""
NAME = "mssante"
SENT = (Action.PUBLISH, Action.REPLACE, Action.DELETE)


def message_id(idempotency_key: str, sender: str) -> str:
    """A stable Message-ID for one delivery (same on every retry)."""
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:40]
    return f"<{digest}@{sender.rsplit('@', 1)[-1]}>"


def _host_port(value: str, default: int) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    return (host, int(port)) if host and port.isdigit() else (value, default)


async def dossier_requests(read: ReadResource, report: Resource) -> list[Resource]:
    """The ServiceRequests the report is based on (the dossier: prescriber, correspondents, refusals)."""
    return [r for b in report.get("basedOn", ()) if str(b.get("reference", "")).startswith("ServiceRequest/")
            and (r := await read("ServiceRequest", str(b["reference"]).partition("/")[2]))]


def delivery_recipient(chosen: MailRecipient, patient: Resource, **extra: str) -> Recipient:
    """One delivery's recipient: a professional named by address, the patient by ``patient:Patient/<id>``."""
    name = chosen.address if chosen.audience == "pro" else f"patient:Patient/{patient.get('id', '')}"
    return Recipient(name, {"audience": chosen.audience, "name": chosen.name, "address": chosen.address, **extra})


def pdf_name(documents: DocumentSet) -> str:
    """The PDF's CR-Bio file name (``CR-BIO_…_V2.pdf``) as the report's ``presentedForm`` titles it."""
    pdf = documents.documents.get("pdf")
    if pdf is None:
        return ""
    title = next((str(f.get("title")) for f in documents.report.get("presentedForm", ())
                  if f.get("url") == f"Binary/{pdf.binary_id}" and str(f.get("title", "")).lower().endswith(".pdf")),
                 "")
    return title or f"CR-BIO_{documents.report.get('id', 'report')}_V{pdf.version}.pdf"


def concept_text(concept: Resource | None) -> str:
    """A CodeableConcept as one would say it: its text, else its first display, else its first code."""
    concept = concept or {}
    codings = concept.get("coding") or ()
    return str(concept.get("text") or next((c["display"] for c in codings if c.get("display")), "")
               or next((c["code"] for c in codings if c.get("code")), ""))


def _date(report: Resource) -> str:
    value = str(report.get("effectiveDateTime") or report.get("issued") or "")[:10]
    return f"{value[8:10]}/{value[5:7]}/{value[:4]}" if len(value) == 10 else "ce jour"


class MssanteChannel:
    name = NAME

    def __init__(self, config: OperatorConfig, sender: Sender, refusals: Refusals,
                 patient_reply_to: str | None, *, automatic: bool = True) -> None:
        self.config, self.sender, self.refusals, self.patient_reply_to = config, sender, refusals, patient_reply_to
        self.automatic = automatic

    async def recipients(self, event: DocumentEvent) -> Sequence[Recipient]:
        if event.action == Action.DELETE:  # the notice goes to who received the report (SGL.MSS.25)
            return list(await event.delivered_to(NAME)) if event.delivered_to else []
        if event.action not in SENT:
            return []
        requests = await dossier_requests(event.read, event.report)
        refused = await self.refused(requests)
        chosen = await self._planned(event, requests, refused) if self.automatic else []
        if event.action == Action.REPLACE and event.delivered_to:
            # whoever holds an earlier version gets this one, "annule et remplace" (SGL.MSS.24), even when
            # it was sent by hand (hospital setting, a partial report: SGL.MSS.18, .23)
            known = {r.name for r in chosen}
            chosen += [r for r in await event.delivered_to(NAME)
                       if r.name not in known and not refused & {f"mssante-{r.extra.get('audience', 'pro')}"}]
        return chosen

    async def refused(self, requests: Sequence[Resource]) -> set[str]:
        """The MSSanté audiences the patient refused on any of the dossier's requisitions."""
        refused: set[str] = set()
        for request in requests:
            refused |= await self.refusals(f"ServiceRequest/{request['id']}")
        return refused

    async def _planned(self, event: DocumentEvent, requests: Sequence[Resource], refused: set[str]) -> list[Recipient]:
        references = [str(r["requester"]["reference"]) for r in requests if (r.get("requester") or {}).get("reference")]
        references += [str(e["valueReference"]["reference"]) for r in requests for e in r.get("extension", ())
                       if e.get("url") == COPIES_TO_EXTENSION and (e.get("valueReference") or {}).get("reference")]
        parties = [p for ref in dict.fromkeys(references) if (p := await read_party(event.read, ref))]
        plan = plan_recipients(event.report, event.patient, parties, refused,
                               invisible_to_patient=event.settings.invisible_to_patient)
        for skipped in plan.skipped:
            log.info("MSSanté: DiagnosticReport/%s %s: not sent to %s: %s", event.report.get("id"),
                     event.action.value, "the patient" if skipped.who == "patient" else skipped.who, skipped.reason)
        return [delivery_recipient(r, event.patient) for r in plan.recipients]

    def sender_for(self, documents: DocumentSet) -> Sender:
        """The sender with the lab's name and OID root as its documents state them (CDA author organisation,
        document id root): the channel needs no lab profile, and the XDM source is the documents' own."""
        stored = documents.documents.get("n3") or documents.previous.get("n3")
        if stored is None:
            return self.sender
        head = read_header(stored.content)
        return dataclasses.replace(self.sender, lab_name=head.organisation_name or self.sender.lab_name,
                                   source_oid=head.unique_id.split("^", 1)[0] or self.sender.source_oid)

    def mail(self, item: DeliveryItem, documents: DocumentSet) -> ReportMail:
        audience = str(item.extra.get("audience", "pro"))
        label = display_name(documents.patient) if audience == "pro" else ""
        text = wording(item.action.value, audience, patient_label="" if label == "correspondant" else label,
                       report_date=_date(documents.report), previous=f"(version {item.document_version - 1})")
        source = documents.documents if text.attach else {}
        if text.attach and ("n3" not in source or "pdf" not in source):
            raise MssMessageInvalid(f"no stored N3 and PDF for version {item.document_version}", expression="documents")
        pdf = source.get("pdf")
        return ReportMail(
            to=(str(item.extra.get("address") or item.recipient),), subject=text.subject, body=text.body,
            n3=source["n3"].content if "n3" in source else None, pdf=pdf.content if pdf else None,
            pdf_name=pdf_name(documents), to_patient=audience == "patient",
            reply_to=(self.patient_reply_to or "") if audience == "patient" else "",
            message_id=message_id(item.idempotency_key, self.sender.address))

    def notice_mail(self, item: DeliveryItem, documents: DocumentSet) -> ReportMail:
        """A refused tube's notice (``Action.NOTICE``, ``notices.py``): text only, to the requester."""
        notice = documents.notice
        if notice is None or not notice.communication:
            raise MssMessageInvalid(f"{item.extra.get('notice')} is no longer stored", expression="notice")
        if not notice.address:
            raise MssMessageInvalid(f"no MSSanté address known for {item.recipient} (SGL.ANN.05)",
                                    expression="recipient")
        reason = (notice.communication.get("reasonCode") or [{}])[-1]
        specimen = notice.specimen
        text = notice_wording(
            patient=patient_identity(documents.patient) if documents.patient else "non précisé",
            tube=str((specimen.get("accessionIdentifier") or {}).get("value") or specimen.get("id") or "?"),
            specimen=concept_text(specimen.get("type")), reason=concept_text(reason) or "non-conformité",
            lab=self.sender.lab_name)
        return ReportMail(to=(notice.address,), subject=text.subject, body=text.body,
                          message_id=message_id(item.idempotency_key, self.sender.address))

    async def send(self, item: DeliveryItem, documents: DocumentSet) -> ChannelAnswer:
        mid = message_id(item.idempotency_key, self.sender.address)
        try:
            notice = item.action == Action.NOTICE
            mail = self.notice_mail(item, documents) if notice else self.mail(item, documents)
            sent = await MssClient(self.config).send(build_message(mail, self.sender if notice
                                                                   else self.sender_for(documents)))
        except (MssMessageInvalid, MssRejected) as exc:
            return ChannelAnswer(Outcome.FAILED, exc.diagnostics, mid)
        except MssTlsRefused as exc:  # a certificate, a revocation check, TLS 1.2: a person fixes it, retries go on
            return ChannelAnswer(Outcome.RETRY, exc.diagnostics, trust_refused=True)
        except MssUnreachable as exc:
            return ChannelAnswer(Outcome.RETRY, exc.diagnostics)
        except SglError as exc:
            return ChannelAnswer(Outcome.FAILED, exc.diagnostics, mid)
        except OSError as exc:  # unreadable certificate or CRL file: fix the configuration, then it is retried
            return ChannelAnswer(Outcome.RETRY, f"MSSanté configuration: {type(exc).__name__}: {exc}")
        return ChannelAnswer(Outcome.DELIVERED, f"submitted over {sent.tls}", sent.message_id, {"tls": sent.tls})


def operator_config(settings: Settings) -> OperatorConfig | None:
    if not (settings.mss_smtp and settings.mss_cert and settings.mss_key and settings.mss_ca and settings.mss_from):
        return None
    smtp, imap = _host_port(settings.mss_smtp, 587), _host_port(settings.mss_imap or settings.mss_smtp, 143)
    return OperatorConfig(smtp[0], smtp[1], imap[0], imap[1], settings.mss_cert, settings.mss_key, settings.mss_ca,
                          tuple(settings.mss_crl),
                          timeout=min(30.0, settings.delivery_timeout / 2), ocsp=settings.mss_ocsp,
                          deadline=settings.delivery_timeout * 0.8)  # ends before the outbox stops waiting


def build(context: Any) -> MssanteChannel | None:
    settings: Settings = context.settings
    config = operator_config(settings)
    if config is None or settings.mss_from is None:
        return None
    sender = Sender(address=settings.mss_from, label=settings.mss_label,
                    contact=settings.mss_contact or settings.mss_from, lab_name=settings.mss_label,
                    nil=settings.mss_nil, source_oid="")
    store = context.store

    async def refusals(service_request: str) -> set[str]:
        return await refused_channels(store, service_request)

    return MssanteChannel(config, sender, refusals, settings.mss_reply_to_patients, automatic=settings.mss_automatic)


register_channel(NAME, build)
