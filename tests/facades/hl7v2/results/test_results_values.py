"""OBX-5 read by OBX-2: each type keeps what was sent, and a value that is not of its type is refused."""

from __future__ import annotations

import pytest

from facades.hl7v2 import ErrorLocation, Field, Hl7ParseError
from facades.hl7v2.results import Coding, TypedValue
from facades.hl7v2.results.dtm import LAB_ZONE
from facades.hl7v2.results.values import typed_value

WHERE = ErrorLocation("OBX", 3, 5)


def read(kind: str, er7: str) -> TypedValue:
    return typed_value(kind, Field.from_er7(er7), WHERE, zone=LAB_ZONE)


@pytest.mark.parametrize(("kind", "er7", "expected"), [
    ("NM", "007.50", TypedValue("quantity", "007.50")),
    ("SN", "<^0.5", TypedValue("quantity", "0.5", "<")),
    ("SN", "=^12", TypedValue("quantity", "12")),
    ("SN", "^10^-^20", TypedValue("range", "10", high="20")),
    ("SN", "^1^:^40", TypedValue("ratio", "1", high="40")),
    ("ST", "0511340140", TypedValue("string", "0511340140")),
    ("ST", "a\\S\\b", TypedValue("string", "a^b")),
    ("TX", "two  spaces", TypedValue("string", "two  spaces")),
    ("TM", "0959", TypedValue("time", "09:59:00")),
    ("TM", "235959", TypedValue("time", "23:59:59")),
    ("DT", "20270131", TypedValue("dateTime", "2027-01-31")),
    ("DTM", "20261126081500+0100", TypedValue("dateTime", "2026-11-26T08:15:00+01:00")),
    ("ED", "^application^pdf^Base64^JVBERi0=", TypedValue("string", "^application^pdf^Base64^JVBERi0=")),
    ("XAD", "1 rue A^^Paris^^75001^FRA", TypedValue("string", "1 rue A^^Paris^^75001^FRA")),
    ("CWE", "260385009^Negative^SCT^NEG^Négatif^99LOC", TypedValue(
        "coded", "Negative", codings=(Coding("260385009", "Negative", "http://snomed.info/sct"),
                                      Coding("NEG", "Négatif", "", "99LOC")))),
    ("CE", "LA6577-6^Negative^LN", TypedValue("coded", "Negative",
                                              codings=(Coding("LA6577-6", "Negative", "http://loinc.org"),))),
    ("NM", "", TypedValue("")),
    ("TX", "first line~second line", TypedValue("string", "first line~second line")),
])
def test_each_type_keeps_what_was_sent(kind: str, er7: str, expected: TypedValue) -> None:
    assert read(kind, er7) == expected


@pytest.mark.parametrize(("kind", "er7", "words"), [
    ("NM", "1,5", "not a number"),
    ("NM", "12..3", "not a number"),
    ("SN", "!^5", "not an SN comparator"),
    ("SN", "<^x", "structured numeric"),
    ("TM", "2561", "not an HL7 time"),
    ("DTM", "2026-11-26", "date/time"),
])
def test_a_value_not_of_its_type_is_refused_at_obx_5(kind: str, er7: str, words: str) -> None:
    with pytest.raises(Hl7ParseError) as caught:
        read(kind, er7)
    assert caught.value.location == WHERE and caught.value.code == 102 and words in caught.value.diagnostics


@pytest.mark.parametrize(("kind", "er7"), [
    ("NM", "5.5~6.1"),
    ("SN", "<^5~>^10"),
    ("CE", "ECOLI^Escherichia coli^L~KLEPNE^Klebsiella pneumoniae^L"),
    ("CWE", "260385009^Negative^SCT~10828004^Positive^SCT"),
    ("DTM", "20261126081500~20261126091500"),
])
def test_a_repeated_value_of_a_single_valued_type_is_refused_not_cut_to_its_first(kind: str, er7: str) -> None:
    """Found by probing the MLLP listener: ``OBX|1|CE|ORGA||ECOLI^..^L~KLEB^..^L`` was acknowledged AA and
    stored with E. coli only; the second organism was lost."""
    with pytest.raises(Hl7ParseError) as caught:
        read(kind, er7)
    assert caught.value.location == WHERE and caught.value.code == 102
    assert "2 repetitions" in caught.value.diagnostics
