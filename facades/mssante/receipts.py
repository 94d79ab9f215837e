"""Receipts read back from the applicative BAL (SGL.MSS.22): DSN (RFC 3464) and MDN (RFC 8098).

Each report becomes one :class:`Receipt` per recipient it talks about, linked to the mail we sent
by its Message-ID: ``Original-Message-ID`` for an MDN; for a DSN (which has no such field) the
``Message-ID`` of the returned headers, else ``Original-Envelope-Id``. Statuses, from weakest to
strongest: ``delayed`` < ``delivered`` < ``read``/``processed`` (the recipient's platform
integrated it); ``failed`` and ``integration-error`` are final failures with a code and label.
Anything else in the mailbox is not a receipt (``None``): left for a person to read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message
from email.parser import HeaderParser
from email.policy import compat32

DSN_ACTIONS = {"failed": "failed", "delivered": "delivered", "relayed": "delivered", "expanded": "delivered",
               "delayed": "delayed"}
RANK = {"delayed": 1, "delivered": 2, "read": 3, "processed": 3, "failed": 4, "integration-error": 4}
"""Which status wins when several receipts concern the same recipient of the same mail."""


@dataclass(frozen=True)
class Receipt:
    original_message_id: str
    recipient: str
    status: str
    code: str = ""
    label: str = ""
    report_message_id: str = ""


def _field(block: Message, name: str) -> str:
    """A header value; raw UTF-8 (which MDNs of French platforms carry) comes back as text, not mojibake."""
    wanted = name.lower()
    value = next((v for k, v in block.raw_items() if k.lower() == wanted), None)
    if value is None:
        return ""
    text = " ".join(str(value).split())
    try:
        return text.encode("ascii", "surrogateescape").decode("utf-8", "replace").strip()
    except UnicodeEncodeError:
        return text.strip()


def _address(field: str | None) -> str:
    """``rfc822; someone@x`` -> ``someone@x``."""
    value = (field or "").split(";", 1)[-1].strip()
    return value.strip("<>").lower()


def _part(message: Message, content_type: str) -> Message | None:
    return next((p for p in message.walk() if p.get_content_type() == content_type), None)


def _text_of(part: Message) -> str:
    data = part.get_payload(decode=True)
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return str(part.get_payload())


def _returned_message_id(message: Message) -> str:
    for kind in ("text/rfc822-headers", "message/rfc822"):
        part = _part(message, kind)
        if part is None:
            continue
        payload = part.get_payload()
        if isinstance(payload, list) and payload and isinstance(payload[0], Message):
            return _field(payload[0], "Message-ID")
        found = HeaderParser().parsestr(_text_of(part)).get("Message-ID")
        if found:
            return str(found).strip()
    return ""


def _read_dsn(message: Message, report_id: str) -> list[Receipt]:
    part = _part(message, "message/delivery-status")
    payload = part.get_payload() if part is not None else None
    blocks = [b for b in payload if isinstance(b, Message)] if isinstance(payload, list) else []
    if not blocks:
        return []
    original = _returned_message_id(message) or _field(blocks[0], "Original-Envelope-Id")
    receipts = []
    for block in blocks[1:]:
        action = _field(block, "Action").lower()
        if action not in DSN_ACTIONS:
            continue
        diagnostic = " ".join(_field(block, "Diagnostic-Code").split(";", 1)[-1].split())
        recipient = _address(_field(block, "Original-Recipient") or _field(block, "Final-Recipient"))
        receipts.append(Receipt(original, recipient, DSN_ACTIONS[action], _field(block, "Status"), diagnostic,
                                report_id))
    return receipts


_DISPOSITION = re.compile(r";\s*(?P<type>[a-z-]+)(?:/(?P<modifier>[^:\s]+):?\s*(?P<detail>.*))?$", re.I | re.S)


def _read_mdn(message: Message, report_id: str) -> list[Receipt]:
    part = _part(message, "message/disposition-notification")
    if part is None:
        return []
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):  # parsed as a message
        fields: Message = payload[0]
    else:
        fields = HeaderParser().parsestr(_text_of(part))
    disposition = " ".join(_field(fields, "Disposition").split())
    found = _DISPOSITION.search(disposition)
    if not found:
        return []
    kind, modifier, detail = found["type"].lower(), (found["modifier"] or "").lower(), (found["detail"] or "").strip()
    code, _, label = detail.partition("^")
    if modifier == "error" or kind in {"deleted", "failed"}:
        status = "integration-error"
    elif kind == "displayed":
        status = "read"
    else:
        status = "processed"
    recipient = _address(_field(fields, "Original-Recipient") or _field(fields, "Final-Recipient"))
    return [Receipt(_field(fields, "Original-Message-ID"), recipient, status, code.strip(), label.strip(),
                    report_id)]


def read_receipt(raw: bytes) -> list[Receipt]:
    """The receipts one mail carries; ``[]`` when it is not a delivery or disposition report."""
    message = message_from_bytes(raw, policy=compat32)
    if message.get_content_type() != "multipart/report":
        return []
    report_id = _field(message, "Message-ID")
    kind = str(message.get_param("report-type", "")).lower()
    if kind == "delivery-status":
        return _read_dsn(message, report_id)
    if kind == "disposition-notification":
        return _read_mdn(message, report_id)
    return []


def strongest(current: str | None, new: str) -> str:
    """The status to show for a recipient once ``new`` arrives (a failure is never hidden)."""
    if current is None or RANK.get(new, 0) >= RANK.get(current, 0):
        return new
    return current
