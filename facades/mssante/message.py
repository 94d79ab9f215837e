"""One MSSanté mail carrying a CR-Bio, built to the rules of ECO.2 (SGL.MSS.08–14, 26).

- ``Message-ID`` on every mail (MSS.08), ``In-Reply-To`` + ``References`` on replies (MSS.09);
- a ``text/plain`` body (MSS.10) ending with the footer saying the mail was sent automatically
  and naming the contact mailbox, with ``Reply-To`` pointing to that mailbox (MSS.11, MSS.26);
- ``From`` with a meaningful label: the applicative BAL's title (MSS.13);
- ``X-MSS-CODECDA`` / ``X-MSS-INS`` from the CDA in the XDM, ``X-MSS-NIL`` on every mail,
  ``X-MSS-MES: FIN`` on mails to a patient when replies are not expected;
- ``Disposition-Notification-To`` + ``Return-Receipt-To`` when receipts are wanted (MSS.14);
- attachments: ``IHE_XDM.ZIP`` and the PDF/A copy under its CR-Bio file name.

A notice (deletion, MSS.25) is the same mail without attachments.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from facades.mssante.cda_header import CdaHeader
from facades.mssante.errors import MssMessageInvalid
from facades.mssante.xdm import XDM_NAME, XdmSource, build_xdm
from resources.errors import InvalidInput
from resources.ins import check_matricule

PATIENT_DOMAIN = "patient.mssante.fr"
_ADDRESS = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
FOOTER = (
    "\n\n--\nCe message a été généré automatiquement par le logiciel de gestion du laboratoire {lab} "
    "depuis une boîte aux lettres applicative : merci de ne pas y répondre directement.\n"
    "Pour toute question, écrivez à {contact}."
)


def check_address(address: str, where: str) -> str:
    """A syntactically valid mail address (MSSanté addresses are ordinary RFC 5322 addr-specs)."""
    if not _ADDRESS.match(address):
        raise MssMessageInvalid(f"{where}: not a mail address: {address!r}", expression=where)
    return address


def patient_address(matricule: str | None, qualified: bool) -> str:
    """``<matricule INS>@patient.mssante.fr``, only for a qualified identity (SGL.MSS.12, MSS.20)."""
    if not qualified or not matricule:
        raise MssMessageInvalid("no mail to the patient: the identity is not qualified (INS not qualified), "
                                "SGL.MSS.12", expression="Patient.identifier")
    try:
        checked = check_matricule(matricule)
    except InvalidInput as exc:
        raise MssMessageInvalid(f"no mail to the patient: the INS matricule is malformed ({exc.diagnostics})",
                                expression="Patient.identifier") from exc
    return f"{checked}@{PATIENT_DOMAIN}"


@dataclass(frozen=True)
class Sender:
    """The applicative BAL and how it presents itself (MSS.11, MSS.13, MSS.26)."""

    address: str
    label: str
    contact: str
    """The personal or organisational mailbox named in the footer and in ``Reply-To``."""
    lab_name: str
    nil: str
    """The product reference given by the ANS convergence site (``X-MSS-NIL``)."""
    source_oid: str


@dataclass(frozen=True)
class ReportMail:
    """What to send: to whom, which documents, which mention."""

    to: tuple[str, ...]
    subject: str
    body: str
    n3: bytes | None = None
    pdf: bytes | None = None
    pdf_name: str = ""
    to_patient: bool = False
    replies_blocked: bool = False
    receipts: bool = True
    reply_to: str = ""
    """Overrides the sender's contact for this audience or prescriber (MSS.26)."""
    in_reply_to: str = ""
    references: tuple[str, ...] = field(default_factory=tuple)
    message_id: str = ""
    """Fixed by the caller for idempotent retries (the same delivery keeps its Message-ID)."""


def new_message_id(domain: str) -> str:
    return f"<{uuid.uuid4()}@{domain}>"


def _ins_flag(head: CdaHeader) -> str:
    return "O" if head.ins else "N"


def build_message(mail: ReportMail, sender: Sender, *, date: datetime | None = None) -> EmailMessage:
    """The RFC 5322 message, ready for SMTP; :class:`MssMessageInvalid` when the request is incomplete."""
    if not mail.to:
        raise MssMessageInvalid("no recipient", expression="to")
    for index, address in enumerate(mail.to):
        check_address(address, f"to[{index}]")
    if mail.to_patient and any(not a.lower().endswith("@" + PATIENT_DOMAIN) for a in mail.to):
        raise MssMessageInvalid(f"a mail to the patient goes to an address @{PATIENT_DOMAIN} only", expression="to")
    sender_domain = sender.address.split("@", 1)[1]
    contact = check_address(mail.reply_to or sender.contact, "reply_to")
    message = EmailMessage(policy=SMTP)
    message["Message-ID"] = mail.message_id or new_message_id(sender_domain)
    message["Date"] = format_datetime(date or datetime.now(UTC))
    message["From"] = Address(display_name=sender.label, addr_spec=sender.address)
    message["To"] = ", ".join(mail.to)
    message["Reply-To"] = contact
    message["Subject"] = mail.subject
    if mail.in_reply_to:
        message["In-Reply-To"] = mail.in_reply_to
        message["References"] = " ".join((*mail.references, mail.in_reply_to))
    if mail.receipts:
        message["Disposition-Notification-To"] = sender.address
        message["Return-Receipt-To"] = sender.address
    message["X-MSS-NIL"] = sender.nil
    if mail.to_patient and mail.replies_blocked:
        message["X-MSS-MES"] = "FIN"
    message.set_content(mail.body.rstrip() + FOOTER.format(lab=sender.lab_name, contact=contact), subtype="plain",
                        charset="utf-8", cte="quoted-printable")
    if mail.n3 is not None:
        archive, head = build_xdm(mail.n3, XdmSource(sender.source_oid, sender.lab_name, contact),
                                  message_id=str(message["Message-ID"]))
        message["X-MSS-CODECDA"] = head.code.code
        message["X-MSS-INS"] = _ins_flag(head)
        message.add_attachment(archive, maintype="application", subtype="zip", filename=XDM_NAME)
    if mail.pdf is not None:
        if not mail.pdf_name.lower().endswith(".pdf"):
            raise MssMessageInvalid("the PDF copy needs its CR-Bio file name", expression="pdf_name")
        message.add_attachment(mail.pdf, maintype="application", subtype="pdf", filename=mail.pdf_name)
    return message

