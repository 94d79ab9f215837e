"""Escape sequences: decode, encode, malformed input."""

import pytest

from facades.hl7v2.escape import EncodingChars, EscapeError, decode, encode


@pytest.mark.parametrize(("raw", "text"), [
    (r"a\F\b", "a|b"),
    (r"a\S\b", "a^b"),
    (r"a\T\b", "a&b"),
    (r"a\R\b", "a~b"),
    (r"a\E\b", "a\\b"),
    (r"x\X0D0A\y", "x\r\ny"),
    ("caf\\XC3A9\\", "café"),
    (r"\H\bold\N\ text", "bold text"),
    (r"line1\.br\line2", "line1\nline2"),
    (r"keep\Zlocal\here", r"keep\Zlocal\here"),
    ("no escapes at all", "no escapes at all"),
])
def test_escape_sequences_decode_to_plain_text(raw: str, text: str) -> None:
    assert decode(raw) == text


def test_encode_escapes_every_delimiter_and_control_character() -> None:
    assert encode("a|b^c&d~e\\f\rg") == r"a\F\b\S\c\T\d\R\e\E\f\X0D\g"


def test_encode_then_decode_round_trips_text() -> None:
    text = "PAT|TROIS ^ O'NEIL & fils ~ \\ é\n"
    assert decode(encode(text)) == text


def test_custom_encoding_characters_are_honoured() -> None:
    enc = EncodingChars(field="#", component="!", repetition="%", escape="?", subcomponent="*")
    assert encode("a#b!c", enc) == "a?F?b?S?c"
    assert decode("a?F?b?S?c", enc) == "a#b!c"


def test_truncation_character_of_hl7_2_7_is_escaped() -> None:
    enc = EncodingChars(truncation="#")
    assert encode("a#b", enc) == r"a\P\b"
    assert decode(r"a\P\b", enc) == "a#b"


@pytest.mark.parametrize(("raw", "offset"), [(r"abc\F", 3), (r"ab\Q\c", 2), ("\\X0\\", 0), ("\\XZZ\\", 0)])
def test_malformed_escape_raises_with_its_offset(raw: str, offset: int) -> None:
    with pytest.raises(EscapeError) as info:
        decode(raw)
    assert info.value.offset == offset


def test_hex_escapes_are_read_in_the_declared_character_set() -> None:
    latin = EncodingChars(charset="latin-1")
    assert decode("caf\\XC3A9\\", latin) == "cafÃ©" and decode("caf\\XE9\\", latin) == "café"
    assert decode("caf\\XE9\\", EncodingChars(charset="iso8859-15")) == "café"
    assert decode("\\XA4\\", EncodingChars(charset="iso8859-15")) == "€"
    with pytest.raises(EscapeError, match="not valid utf-8"):
        decode("caf\\XE9\\", EncodingChars(charset="utf-8"))
    assert decode("caf\\XE9\\") == "café"  # no MSH-18: UTF-8, else Latin-1, as the bytes of such a message
