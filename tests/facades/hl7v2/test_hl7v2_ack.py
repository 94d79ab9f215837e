"""ACK builder: header swap, MSA, ERR per HL7 2.5, unreadable messages; hl7apy reads the result."""

from datetime import UTC, datetime

import pytest
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message

from facades.hl7v2.ack import AckCode, AckError, build_ack, build_ack_for_unreadable, new_control_id
from facades.hl7v2.errors import ErrorLocation
from facades.hl7v2.parser import parse
from tests.facades.hl7v2.hl7v2_samples import ADMISSION, adt

NOW = datetime(2026, 11, 26, 2, 0, 0, tzinfo=UTC)


def test_aa_swaps_sender_and_receiver_and_echoes_the_control_id() -> None:
    ack = build_ack(parse(ADMISSION.read_bytes()), "AA", control_id="ACK1", now=NOW)
    assert ack.to_er7() == (
        "MSH|^~\\&|DPI|CHU-X|GAM|CHU-X|20261126020000+0000||ACK^A01^ACK|ACK1|D|2.5^FRA^2.11"
        "|||||FRA|UNICODE UTF-8\r"
        "MSA|AA|3975\r"
    )


def test_ae_carries_err_with_location_code_severity_and_message() -> None:
    error = AckError("patient locked by another user", 206, "E", ErrorLocation("PID", 1, 3, 2, 1))
    ack = build_ack(parse(adt("C42")), "AE", [error], now=NOW)
    msa, err = ack.segment("MSA"), ack.segment("ERR")
    assert msa is not None and err is not None
    assert msa.get(1) == "AE" and msa.get(2) == "C42" and msa.get(3) == "patient locked by another user"
    assert str(err.field(2)) == "PID^1^3^2^1"
    assert str(err.field(3)) == "206^Application record locked^HL70357"
    assert err.get(4) == "E" and err.get(8) == "patient locked by another user"


def test_new_control_ids_are_unique_and_fit_msh_10() -> None:
    ids = {new_control_id() for _ in range(200)}
    assert len(ids) == 200 and all(len(i) == 20 for i in ids)


def test_error_text_with_delimiters_is_escaped() -> None:
    ack = build_ack(parse(adt()), "AE", [AckError("bad value a|b^c")])
    err = ack.segment("ERR")
    assert err is not None and err.get(8) == "bad value a|b^c"
    assert "a\\F\\b\\S\\c" in ack.to_er7()


def test_unreadable_message_gets_an_ack_from_its_readable_header() -> None:
    raw = adt("BAD7").replace(b"DOMINIQUE^DOMINIQUE", b"DOMI\\F")
    error = AckError("unterminated escape", 102, "E", ErrorLocation("PID", 1, 5))
    ack = build_ack_for_unreadable(raw, [error])
    msa = ack.segment("MSA")
    assert msa is not None and msa.get(1) == "AR" and msa.get(2) == "BAD7"
    assert ack.msh.get(3) == "SGL" and ack.msh.get("9.2") == "A01"


def test_message_without_msh_still_gets_an_ar() -> None:
    ack = build_ack_for_unreadable(b"PID|1||X", [AckError("no MSH", 100)])
    msa = ack.segment("MSA")
    assert msa is not None and msa.get(1) == "AR" and msa.get(2) == ""
    assert ack.msh.get("9.1") == "ACK" and ack.msh.get("12") == "2.5"


@pytest.mark.parametrize("code", ["AA", "AE", "AR"])
def test_hl7apy_validates_our_ack_against_the_hl7_2_5_structure(code: AckCode) -> None:
    errors = [] if code == "AA" else [AckError("boom", 207, "E", ErrorLocation("PID", 1, 5))]
    ack = build_ack(parse(adt("X9")), code, errors)
    parsed = parse_message(ack.to_er7(), validation_level=VALIDATION_LEVEL.STRICT)
    assert parsed.validate() is True
    assert parsed.msa.msa_1.value == code


def test_hl7apy_validates_the_ack_of_an_unreadable_message_with_a_readable_header() -> None:
    raw = adt("BAD8").replace(b"DOMINIQUE^DOMINIQUE", b"DOMI\\F")
    ack = build_ack_for_unreadable(raw, [AckError("unterminated escape", 102, "E", ErrorLocation("PID", 1, 5))])
    assert parse_message(ack.to_er7(), validation_level=VALIDATION_LEVEL.STRICT).validate() is True


def test_ack_without_any_readable_header_leaves_msa_2_empty_rather_than_guess() -> None:
    ack = build_ack_for_unreadable(b"garbage", [AckError("no MSH", 100)])
    parsed = parse_message(ack.to_er7())
    assert parsed.msh.msh_9.value == "ACK^^ACK"
    assert parsed.msa.msa_1.value == "AR" and parsed.msa.msa_2.value == ""


def test_hl7apy_reads_our_ack() -> None:
    ack = build_ack(parse(adt("X9")), "AE", [AckError("boom", 207, "E", ErrorLocation("PID", 1, 5))])
    parsed = parse_message(ack.to_er7(), find_groups=False)
    assert parsed.msa.msa_1.value == "AE"
    assert parsed.msa.msa_2.value == "X9"
    assert parsed.err.err_3.err_3_1.value == "207"
