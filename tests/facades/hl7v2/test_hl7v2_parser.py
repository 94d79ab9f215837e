"""Parser and model: ANS examples, accessors, MSH numbering, round trip, errors with positions."""

from pathlib import Path

import pytest

from facades.hl7v2.errors import Hl7ParseError
from facades.hl7v2.parser import check_header, parse
from resources.errors import InvalidInput
from tests.facades.hl7v2.hl7v2_samples import ADMISSION, ANS_EXAMPLES, adt


def _lines(path: Path, codec: str) -> str:
    text = path.read_bytes().decode(codec)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "".join(line + "\r" for line in lines if line.strip())


def test_kit_holds_the_ans_examples() -> None:
    assert len(ANS_EXAMPLES) >= 20


@pytest.mark.parametrize("path", ANS_EXAMPLES, ids=lambda p: p.name)
def test_ans_example_parses_and_round_trips(path: Path) -> None:
    message = parse(path.read_bytes())
    codec = "iso8859-15" if message.charset == "8859/15" else "utf-8"
    assert message.to_er7() == _lines(path, codec)
    assert message.control_id and message.message_type in ("ADT", "ORU", "ACK", "ZAM")


def test_admission_example_exposes_pid_fields() -> None:
    message = parse(ADMISSION.read_bytes())
    pid = message.segment("PID")
    assert pid is not None
    assert len(pid.field(3)) == 2
    assert pid.get("3.1", repetition=2) == "279035121518989"
    assert pid.get("3.4.2", repetition=2) == "1.2.250.1.213.1.4.10"
    assert pid.get("3.5", repetition=2) == "INS"
    assert pid.get("5.1") == "PAT-TROIS" and pid.get("5.7") == "L"
    assert pid.get("11.9", repetition=2) == "63220"
    assert pid.get(32) == "VALI"
    assert pid.field(99).is_empty and pid.get("99.9") == ""


def test_msh_numbering_counts_the_field_separator_as_msh_1() -> None:
    msh = parse(ADMISSION.read_bytes()).msh
    assert msh.get(1) == "|"
    assert msh.get(2) == "^~\\&"
    assert msh.get(3) == "GAM"
    assert msh.get("9.2") == "A01"
    assert msh.get(10) == "3975"
    assert msh.get("12.1") == "2.5"


def test_segments_returns_every_occurrence_in_order() -> None:
    path = next(p for p in ANS_EXAMPLES if p.name == "message_ORU_CR_Bio_INIT_N1_N3.hl7")
    message = parse(path.read_bytes())
    obx = message.segments("OBX")
    assert [s.get(1) for s in obx] == [str(i) for i in range(1, len(obx) + 1)]
    assert message.segment("ZZZ") is None


def test_lf_crlf_and_cr_separators_give_the_same_message() -> None:
    cr = adt().decode()
    assert parse(cr.replace("\r", "\n")).to_er7() == cr
    assert parse(cr.replace("\r", "\r\n")).to_er7() == cr


def test_blank_lines_and_a_utf8_bom_before_msh_are_ignored() -> None:
    message = parse(b"\xef\xbb\xbf\r\n" + adt("BOM1"))
    assert message.control_id == "BOM1" and message.to_er7() == adt("BOM1").decode()


def test_own_encoding_characters_are_used() -> None:
    message = parse("MSH#!%?*#A#B#C#D#20240101##ADT!A01#1#P#2.5\rPID#1##12!!!AUTH*1.2*ISO%34\r")
    pid = message.segment("PID")
    assert pid is not None
    assert pid.get("3.4.2") == "1.2" and pid.get("3.1", repetition=2) == "34"
    assert message.to_er7().startswith("MSH#!%?*#A#")


def test_escaped_values_are_decoded_on_read_and_kept_raw() -> None:
    message = parse(adt(pid5="O\\S\\NEIL^ANNE\\T\\MARIE"))
    pid = message.segment("PID")
    assert pid is not None
    assert pid.get("5.1") == "O^NEIL" and pid.get("5.2") == "ANNE&MARIE"
    assert "O\\S\\NEIL" in message.to_er7()


def test_bytes_are_decoded_with_the_msh_18_charset() -> None:
    text = adt().decode().replace("UNICODE UTF-8", "8859/15").replace("DOMINIQUE^DOMINIQUE", "HÉLÈNE^HÉLÈNE")
    pid = parse(text.encode("iso8859-15")).segment("PID")
    assert pid is not None and pid.get("5.2") == "HÉLÈNE"


def test_unterminated_escape_is_located_at_its_component() -> None:
    with pytest.raises(Hl7ParseError) as info:
        parse(adt(pid5="PAT\\F^DOMINIQUE"))
    err = info.value
    assert isinstance(err, InvalidInput)
    loc = err.location
    assert (loc.segment, loc.sequence, loc.field, loc.repetition, loc.component) == ("PID", 1, 5, 1, 1)
    assert err.code == 102
    assert err.expression == ["PID[1]-5[1].1.1"]


def test_second_occurrence_of_a_segment_is_numbered() -> None:
    text = adt().decode() + "OBX|1|ST|X||ok\rOBX|2|ST|X||bad\\\r"
    with pytest.raises(Hl7ParseError) as info:
        parse(text)
    assert info.value.location.segment == "OBX" and info.value.location.sequence == 2
    assert info.value.location.field == 5


@pytest.mark.parametrize(("text", "code", "field"), [
    ("", 100, None),
    ("PID|1||X\r", 100, None),
    ("MSH|^~\\\r", 102, 2),
    ("MSH|^^\\&|A\r", 102, 2),
    ("MSH|^~\\&|A|B|C|D|||ADT^A01|1|P|2.5\rpid|1\r", 100, None),
    ("MSH|^~\\&|A|B|C|D|||ADT^A01|1|P|2.5\rMSH|^~\\&|A\r", 100, None),
])
def test_unreadable_structure_raises_with_code_and_location(text: str, code: int, field: int | None) -> None:
    with pytest.raises(Hl7ParseError) as info:
        parse(text)
    assert info.value.code == code
    assert info.value.location.field == field


def test_unknown_charset_is_a_table_value_error_on_msh_18() -> None:
    data = adt().replace(b"UNICODE UTF-8", b"EBCDIC")
    with pytest.raises(Hl7ParseError) as info:
        parse(data)
    assert info.value.code == 103 and info.value.location.field == 18


def test_bytes_invalid_for_the_declared_charset_are_rejected() -> None:
    with pytest.raises(Hl7ParseError) as info:
        parse(adt().replace(b"DOMINIQUE^DOMINIQUE", b"DOMINIQUE^\xff"))
    assert info.value.location.field == 18


def test_check_header_requires_the_control_id() -> None:
    message = parse(adt(control_id=""))
    with pytest.raises(Hl7ParseError) as info:
        check_header(message)
    assert info.value.code == 101 and info.value.location.field == 10
