"""ER7 text or bytes -> ``Hl7Message``, with positions on every error.

Delimiters come from the message itself (MSH-1, MSH-2); segments end with CR, and LF or CRLF are
accepted too (the ANS example files use LF). Bytes are decoded with the character set that MSH-18
declares. Each error is an ``Hl7ParseError`` naming the segment, its occurrence and the field, so
the NACK's ERR segment can point at it. Pure code, no I/O.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace

from facades.hl7v2.errors import (
    REQUIRED_FIELD_MISSING,
    SEGMENT_SEQUENCE_ERROR,
    TABLE_VALUE_NOT_FOUND,
    ErrorLocation,
    Hl7ParseError,
)
from facades.hl7v2.escape import EncodingChars, EscapeError, check
from facades.hl7v2.message import Field, Hl7Message, Segment

log = logging.getLogger(__name__)

_SEGMENT_ID = re.compile(r"^[A-Z][A-Z0-9]{2}$")

# MSH-18 (HL7 table 0211) -> Python codec; an empty MSH-18 means ASCII, read here as UTF-8.
CHARSETS = {
    "": "utf-8",
    "ASCII": "ascii",
    "UNICODE UTF-8": "utf-8",
    "UNICODE": "utf-8",
    "8859/1": "latin-1",
    "8859/15": "iso8859-15",
}


def codec_for(charset: str) -> str:
    """The Python codec for an MSH-18 value; raises ``Hl7ParseError`` (MSH-18, code 103) if unknown."""
    try:
        return CHARSETS[charset.strip().upper()]
    except KeyError:
        raise Hl7ParseError(f"character set {charset!r} (MSH-18) is not supported; use one of "
                            f"{', '.join(c for c in CHARSETS if c)}", ErrorLocation("MSH", 1, 18),
                            code=TABLE_VALUE_NOT_FOUND) from None


def encoding_chars(header: str) -> EncodingChars:
    """Read MSH-1 and MSH-2 from the start of a message."""
    if not header.startswith("MSH"):
        found = header[:3] or "nothing"
        raise Hl7ParseError(f"a message must start with an MSH segment, found {found!r}",
                            ErrorLocation("MSH", 1), code=SEGMENT_SEQUENCE_ERROR)
    if len(header) < 8:
        raise Hl7ParseError("MSH segment is too short to hold MSH-1 and MSH-2", ErrorLocation("MSH", 1, 2))
    sep = header[3]
    end = header.find(sep, 4)
    msh2 = header[4:] if end < 0 else header[4:end]
    chars = sep + msh2
    if (sep.isalnum() or sep.isspace() or len(msh2) not in (4, 5) or len(set(chars)) != len(chars)
            or any(c.isalnum() or c.isspace() for c in msh2)):
        raise Hl7ParseError(f"MSH-1/MSH-2 {chars!r} are not a separator and 4 distinct encoding characters",
                            ErrorLocation("MSH", 1, 2))
    return EncodingChars(sep, msh2[0], msh2[1], msh2[2], msh2[3], msh2[4] if len(msh2) == 5 else None)


def _declared_charset(header: str, enc: EncodingChars) -> str:
    """MSH-18 (first repetition) read off the MSH line."""
    parts = header.split(enc.field)
    return parts[17].split(enc.repetition)[0] if len(parts) > 17 else ""


def _with_charset(enc: EncodingChars, header: str) -> EncodingChars:
    """``enc`` knowing the codec of MSH-18, for the ``\\Xhh..\\`` escapes (their bytes are in that set)."""
    declared = _declared_charset(header, enc)
    return replace(enc, charset=codec_for(declared)) if declared.strip() else enc


def decode_bytes(data: bytes) -> str:
    """Decode a message with the character set named in its MSH-18."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    first = data.lstrip().split(b"\r", 1)[0].split(b"\n", 1)[0].decode("latin-1")
    enc = encoding_chars(first)
    charset = _declared_charset(first, enc)
    codec = codec_for(charset)
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        if not charset.strip():
            log.warning("message declares no MSH-18 and is not UTF-8; reading it as Windows-1252")
            return data.decode("cp1252", errors="replace")
        raise Hl7ParseError(f"byte {exc.start} is not valid {charset} (MSH-18): {exc.reason}",
                            ErrorLocation("MSH", 1, 18)) from None


def split_segments(text: str) -> list[str]:
    """Segment lines: split on CR (CRLF accepted); on LF when the text has no CR; blank lines dropped."""
    lines = text.replace("\r\n", "\r").split("\r") if "\r" in text else text.split("\n")
    return [line for line in lines if line.strip()]


def _parse_field(raw: str, enc: EncodingChars, where: ErrorLocation) -> Field:
    field = Field.from_er7(raw, enc)
    if enc.escape not in raw:
        return field
    for r, rep in enumerate(field.repetitions, 1):
        for c, comp in enumerate(rep, 1):
            for s, leaf in enumerate(comp, 1):
                try:
                    check(leaf, enc)
                except EscapeError as exc:
                    loc = ErrorLocation(where.segment, where.sequence, where.field, r, c, s)
                    where_text = f"{loc.expression()}: {exc} at character {exc.offset + 1}"
                    raise Hl7ParseError(where_text, loc) from None
    return field


def parse(data: str | bytes) -> Hl7Message:
    """Parse one ER7 message (text, or bytes in its MSH-18 character set)."""
    text = decode_bytes(data) if isinstance(data, bytes) else data.lstrip("\ufeff")
    lines = split_segments(text)
    enc = _with_charset(encoding_chars(lines[0] if lines else ""), lines[0])
    segments: list[Segment] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, 1):
        name = line[:3]
        sequence = seen[name] = seen.get(name, 0) + 1
        if not _SEGMENT_ID.match(name) or (len(line) > 3 and line[3] != enc.field):
            raise Hl7ParseError(f"line {number}: {line[:10]!r} does not start with a segment id and "
                                f"the field separator {enc.field!r}", ErrorLocation(name, sequence),
                                code=SEGMENT_SEQUENCE_ERROR)
        if name == "MSH" and number > 1:
            raise Hl7ParseError(f"line {number}: a second MSH segment; send one message per frame",
                                ErrorLocation("MSH", sequence), code=SEGMENT_SEQUENCE_ERROR)
        raws = line.split(enc.field)[1:]
        if name == "MSH":
            fields = [Field.literal(enc.field, enc), Field.literal(enc.msh2, enc)]
            fields += [_parse_field(r, enc, ErrorLocation(name, 1, i)) for i, r in enumerate(raws[1:], 3)]
        else:
            fields = [_parse_field(r, enc, ErrorLocation(name, sequence, i)) for i, r in enumerate(raws, 1)]
        segments.append(Segment(name, fields, enc))
    return Hl7Message(segments, enc)


def check_header(message: Hl7Message) -> None:
    """Require what an acknowledgement needs: MSH-9.1, MSH-10 and MSH-12 (HL7 code 101 otherwise)."""
    msh = message.msh
    for path, what in (("9.1", "message type"), ("10", "message control id"), ("12.1", "version id")):
        if not msh.get(path):
            field, _, comp = path.partition(".")
            raise Hl7ParseError(f"MSH-{path} ({what}) is required", ErrorLocation(
                "MSH", 1, int(field), None, int(comp) if comp else None), code=REQUIRED_FIELD_MISSING)

