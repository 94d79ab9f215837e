"""HL7 v2 delimiters and escape sequences (HL7 2.5 chapter 2.7).

The message model keeps every leaf value exactly as received (escaped), so that a message
serialises back byte for byte; text is decoded only when read and encoded only when written.
Decoding gives plain text: delimiter escapes become the delimiter, ``\\Xhh..\\`` becomes the
characters those bytes encode in the message's own character set (MSH-18, HL7 2.5 2.7.5: ``\\XE9\\`` is é
in 8859/1; it was read as UTF-8 first, so ``\\XC3A9\\`` in an 8859/1 message gave é instead of Ã©), bytes
that are not valid in that set being an error, ``\\.br\\``/``\\.sp\\`` become a line break, other formatting and
character-set escapes (``\\H\\``, ``\\N\\``, ``\\.in+4\\``, ``\\C..\\``, ``\\M..\\``) are dropped and
locally defined ``\\Z..\\`` escapes are kept verbatim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEX = re.compile(r"^(?:[0-9A-Fa-f]{2})+$")


@dataclass(frozen=True)
class EncodingChars:
    """The field separator (MSH-1) and the encoding characters (MSH-2)."""

    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"
    truncation: str | None = None
    charset: str = ""
    """The Python codec of the message's MSH-18, in which ``\\Xhh..\\`` bytes are read; '' when MSH-18 is
    empty (then UTF-8, else Latin-1, as the message bytes themselves are read)."""

    @property
    def msh2(self) -> str:
        """The MSH-2 value: component, repetition, escape, sub-component (and truncation) characters."""
        return self.component + self.repetition + self.escape + self.subcomponent + (self.truncation or "")

    def delimiters(self) -> str:
        return self.field + self.msh2


DEFAULT_ENCODING = EncodingChars()


class EscapeError(ValueError):
    """A malformed escape sequence; ``offset`` is its position in the raw value."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


def _hex_text(digits: str, charset: str, offset: int) -> str:
    raw = bytes.fromhex(digits)
    try:
        return raw.decode(charset or "utf-8")
    except UnicodeDecodeError as exc:
        if not charset:
            return raw.decode("latin-1")
        raise EscapeError(f"escape sequence \\X{digits}\\ is not valid {charset}: {exc.reason}", offset) from None


def _sequence_text(body: str, enc: EncodingChars, offset: int) -> str:
    """The plain text of one escape sequence (the part between the two escape characters)."""
    simple = {"F": enc.field, "S": enc.component, "T": enc.subcomponent, "R": enc.repetition, "E": enc.escape}
    if enc.truncation:
        simple["P"] = enc.truncation
    if body in simple:
        return simple[body]
    if body in ("H", "N") or body[:1] in ("C", "M"):
        return ""
    if body.startswith("X"):
        if not _HEX.match(body[1:]):
            raise EscapeError(f"escape sequence \\{body}\\ is not pairs of hexadecimal digits", offset)
        return _hex_text(body[1:], enc.charset, offset)
    if body == ".br" or body.startswith(".sp"):
        return "\n"
    if body.startswith("."):
        return ""
    if body.startswith("Z"):
        return enc.escape + body + enc.escape
    raise EscapeError(f"unknown escape sequence \\{body}\\", offset)


def decode(raw: str, enc: EncodingChars = DEFAULT_ENCODING) -> str:
    """Plain text of an escaped leaf value; raises ``EscapeError`` on a malformed sequence."""
    esc = enc.escape
    if esc not in raw:
        return raw
    out: list[str] = []
    pos = 0
    while True:
        start = raw.find(esc, pos)
        if start < 0:
            out.append(raw[pos:])
            return "".join(out)
        end = raw.find(esc, start + 1)
        if end < 0:
            raise EscapeError("escape sequence is not terminated", start)
        out.append(raw[pos:start])
        out.append(_sequence_text(raw[start + 1:end], enc, start))
        pos = end + 1


def check(raw: str, enc: EncodingChars = DEFAULT_ENCODING) -> None:
    """Raise ``EscapeError`` when ``raw`` holds a malformed escape sequence."""
    decode(raw, enc)


def encode(text: str, enc: EncodingChars = DEFAULT_ENCODING) -> str:
    """Escape plain text for one leaf: delimiters and control characters become escape sequences."""
    esc = enc.escape
    table = {enc.field: "F", enc.component: "S", enc.subcomponent: "T", enc.repetition: "R", esc: "E"}
    if enc.truncation:
        table[enc.truncation] = "P"
    out: list[str] = []
    for ch in text:
        if ch in table:
            out.append(f"{esc}{table[ch]}{esc}")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"{esc}X{ord(ch):02X}{esc}")
        else:
            out.append(ch)
    return "".join(out)
