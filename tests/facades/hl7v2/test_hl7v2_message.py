"""Message model: fields, repetitions, builders, MSH quirk, error locations."""

import pytest

from facades.hl7v2.errors import ErrorLocation
from facades.hl7v2.escape import EncodingChars
from facades.hl7v2.message import Field, Hl7Message, Segment
from facades.hl7v2.parser import parse
from tests.facades.hl7v2.hl7v2_samples import adt


def test_field_repetitions_components_and_subcomponents() -> None:
    field = Field.from_er7("a^b&c~d")
    assert len(field) == 2
    assert field.value(2, 2) == "c"
    assert field.value(1, repetition=2) == "d"
    assert str(field.repetition(2)) == "d"
    assert field.repetition(3).is_empty and field.value(9, 9, 9) == ""


def test_empty_and_null_fields() -> None:
    assert len(Field.from_er7("")) == 0 and Field.from_er7("").is_empty
    assert Field.from_er7('""').is_null and not Field.from_er7("x").is_null


def test_field_builder_escapes_text_and_drops_trailing_empties() -> None:
    assert str(Field.of("A|B", ("x", "y"), None, "", None)) == "A\\F\\B^x&y"
    assert str(Field.of(None, None, "c")) == "^^c"
    assert str(Field.repeat([Field.of("a"), Field.of(None), Field.of("b")])) == "a~b"


def test_builder_uses_the_message_encoding_characters() -> None:
    enc = EncodingChars(field="#", component="!", repetition="%", escape="?", subcomponent="*")
    assert str(Field.of("x#y", ("1", "2"), enc=enc)) == "x?F?y!1*2"


def test_set_pads_fields_and_refuses_the_msh_encoding_fields() -> None:
    seg = Segment("ZZZ")
    seg.set(3, "v^1")
    assert seg.to_er7() == "ZZZ|||v\\S\\1"
    msh = Segment("MSH")
    assert msh.to_er7() == "MSH|^~\\&"
    msh.set(9, Field.of("ADT", "A01"))
    assert msh.get("9.2") == "A01" and msh.get(2) == "^~\\&"
    with pytest.raises(ValueError, match="MSH-1 and MSH-2"):
        msh.set(2, "x")


def test_field_positions_start_at_one() -> None:
    with pytest.raises(IndexError):
        Segment("PID").field(0)
    with pytest.raises(IndexError):
        Segment("PID").set(0, "x")
    with pytest.raises(ValueError, match="more than"):
        Segment("PID").get("3.1.1.1")


def test_locate_names_the_occurrence_of_a_segment() -> None:
    message = parse(adt().decode() + "OBX|1|ST|A||x\rOBX|2|ST|B||y\r")
    second = message.segments("OBX")[1]
    location = message.locate(second, 5)
    assert location == ErrorLocation("OBX", 2, 5)
    assert location.parts() == ["OBX", "2", "5"] and location.expression() == "OBX[2]-5"
    with pytest.raises(ValueError, match="not part of this message"):
        message.locate(Segment("OBX"))


def test_message_header_accessors() -> None:
    message = parse(adt("H1"))
    assert (message.message_type, message.trigger_event, message.control_id, message.version,
            message.charset) == ("ADT", "A01", "H1", "2.5", "UNICODE UTF-8")
    assert repr(message) == "Hl7Message(ADT^A01 'H1', 3 segments)"


def test_message_without_msh_has_no_header() -> None:
    with pytest.raises(ValueError, match="no MSH"):
        _ = Hl7Message([Segment("PID")]).control_id


def test_built_message_serialises_with_cr_after_every_segment() -> None:
    msh = Segment("MSH")
    msh.set(9, Field.of("ACK"))
    pid = Segment("PID")
    pid.set(1, "1")
    assert Hl7Message([msh, pid]).to_er7() == "MSH|^~\\&|||||||ACK\rPID|1\r"
    assert Hl7Message([msh, pid]).to_er7("\n").endswith("PID|1\n")
