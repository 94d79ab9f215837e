"""Original-mode acknowledgements (HL7 2.5 chapter 2.9): AA, AE, AR with ERR segments.

The ACK answers the sender with sender and receiver swapped, MSH-9 ``ACK^<event>^ACK``, a fresh
MSH-10, MSH-11/12 (and MSH-17/18) echoed, MSA-2 = the received MSH-10, and one ERR per error:
ERR-2 the location (ERL), ERR-3 the table 0357 code, ERR-4 the severity, ERR-8 the user message.
A message whose MSH cannot be read still gets an ACK, built from whatever header is readable.

An acknowledgment that arrives (MSH-9 ``ACK``: an interface engine acknowledging what it believes we sent, or
echoing ours) is never answered (``is_acknowledgment``): the HL7 v2 control chapter has every message
acknowledged except the acknowledgments themselves, because answering an ACK with an ACK can make two engines
trade ACKs forever.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from facades.hl7v2.errors import APPLICATION_INTERNAL_ERROR, ERROR_CODE_TEXT, Hl7ParseError
from facades.hl7v2.escape import DEFAULT_ENCODING, EncodingChars
from facades.hl7v2.location import ErrorLocation
from facades.hl7v2.message import Field, Hl7Message, Segment
from facades.hl7v2.parser import encoding_chars
from facades.hl7v2.timestamps import hl7_timestamp

AckCode = Literal["AA", "AE", "AR"]
Severity = Literal["E", "W", "I"]
MSA3_MAX = 80  # MSA-3 is ST(80) in HL7 2.5; the full text goes to ERR-8


@dataclass(frozen=True)
class AckError:
    """One ERR segment: what went wrong, where, and how bad (``outcome.ack_error`` makes one from an
    exception)."""

    message: str
    code: int = APPLICATION_INTERNAL_ERROR
    severity: Severity = "E"
    location: ErrorLocation | None = None

    def segment(self, enc: EncodingChars) -> Segment:
        err = Segment("ERR", enc=enc)
        if self.location is not None:
            err.set(2, Field.of(*self.location.parts(), enc=enc))
        err.set(3, Field.of(str(self.code), ERROR_CODE_TEXT.get(self.code, ""), "HL70357", enc=enc))
        err.set(4, self.severity)
        err.set(8, self.message)
        return err


def new_control_id() -> str:
    """A fresh MSH-10: UTC time to the second and 6 random hex digits (20 characters, ST 20)."""
    return datetime.now(UTC).strftime("%Y%m%d%H%M%S") + secrets.token_hex(3)


def build_ack(received: Hl7Message, code: AckCode, errors: Sequence[AckError] = (), *,
              control_id: str | None = None, now: datetime | None = None) -> Hl7Message:
    """The acknowledgement of a parsed message."""
    return _ack(received.msh, received.enc, code, errors, control_id, now)


def build_ack_for_unreadable(raw: bytes | str, errors: Sequence[AckError], code: AckCode = "AR", *,
                             control_id: str | None = None, now: datetime | None = None) -> Hl7Message:
    """Best effort ACK for a message that could not be parsed: read what its MSH still gives."""
    text = raw.decode("latin-1") if isinstance(raw, bytes) else raw
    first = text.replace("\r\n", "\r").replace("\n", "\r").lstrip("\ufeff").split("\r", 1)[0]
    try:
        enc = encoding_chars(first)
    except Hl7ParseError:
        return _ack(None, DEFAULT_ENCODING, code, errors, control_id, now)
    fields = [Field.literal(enc.field, enc), Field.literal(enc.msh2, enc)]
    fields += [Field.from_er7(part, enc) for part in first.split(enc.field)[2:]]
    return _ack(Segment("MSH", fields, enc), enc, code, errors, control_id, now)


def _ack(msh: Segment | None, enc: EncodingChars, code: AckCode, errors: Sequence[AckError],
         control_id: str | None, now: datetime | None) -> Hl7Message:
    def echo(n: int) -> Field:
        return msh.field(n) if msh is not None else Field.of(None, enc=enc)

    header = Segment("MSH", enc=enc)
    for target, source in ((3, 5), (4, 6), (5, 3), (6, 4)):
        header.set(target, echo(source))
    header.set(7, hl7_timestamp(now))
    event = msh.get("9.2") if msh is not None else ""
    header.set(9, Field.of("ACK", event or None, "ACK", enc=enc))
    header.set(10, control_id or new_control_id())
    header.set(11, echo(11) if msh is not None and msh.get("11") else Field.of("P", enc=enc))
    header.set(12, echo(12) if msh is not None and msh.get("12") else Field.of("2.5", enc=enc))
    for n in (17, 18):
        if msh is not None and msh.get(str(n)):
            header.set(n, echo(n))
    msa = Segment("MSA", enc=enc)
    msa.set(1, code)
    msa.set(2, echo(10))
    if errors and code != "AA":
        msa.set(3, errors[0].message[:MSA3_MAX])
    return Hl7Message([header, msa, *(e.segment(enc) for e in errors)], enc)


def is_acknowledgment(message: Hl7Message) -> bool:
    """True for an ACK message (MSH-9.1 ``ACK``), which the MLLP server journals through its handler but
    does not answer: in HL7 v2 (chapter 2, acknowledgment rules) acknowledgments are the one kind of message
    that is not itself acknowledged, since an ACK for an ACK invites an endless exchange between two engines."""
    return message.msh.get("9.1").strip().upper() == "ACK"
