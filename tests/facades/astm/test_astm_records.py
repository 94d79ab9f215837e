"""E1394 records: parsing a real analyzer run, escapes, nesting, building back, located errors."""

from __future__ import annotations

import logging
from datetime import date, datetime

import pytest

from facades.astm.errors import AstmRecordError
from facades.astm.model import Comment, Delimiters, Header, Message, Order, Patient, PersonName, Query, Result
from facades.astm.model import TestId as Tid
from facades.astm.records import build_message, parse_message
from resources.errors import InvalidInput


def test_biochemistry_run_is_parsed_into_typed_records(biochemistry_run: str) -> None:
    m = parse_message(biochemistry_run)
    assert m.header.sender == ("c501", "1", "2.0.0", "SN1234")
    assert m.header.version == "LIS2-A2"
    assert m.header.timestamp == datetime(2026, 11, 26, 8, 30, 15)
    [patient] = m.patients
    assert patient.lab_id == "PAT0042"
    assert (patient.name.last, patient.name.first, patient.name.title) == ("MARTIN", "Claire", "Mme")
    assert patient.birthdate == date(1985, 3, 12)
    assert patient.sex == "F"
    [order] = patient.orders
    assert order.specimen_id == "26112600042"
    assert [t.local_code for t in order.tests] == ["GLU", "CREA", "NA", "K"]
    assert order.collected_at == datetime(2026, 11, 26, 7, 15)
    assert (order.specimen_type, order.report_type, order.action_code) == ("SER", "F", "N")
    values = [(r.test.local_code, r.value, r.units, r.reference_range, r.abnormal_flags, r.status)
              for r in order.results]
    assert values == [
        ("GLU", "6.8", "mmol/L", "3.9 to 5.8", "H", "F"),
        ("CREA", "72", "umol/L", "45 to 84", "N", "F"),
        ("NA", "141", "mmol/L", "136 to 145", "N", "F"),
        ("K", "5.9", "mmol/L", "3.5 to 5.1", "H", "F"),
    ]
    potassium = order.results[3]
    assert potassium.completed_at == datetime(2026, 11, 26, 8, 17)
    assert (potassium.operator, potassium.instrument) == ("BIO1", "c501")
    assert potassium.comments == [Comment(text=("Hemolysis index 60", "HIL"), source="I", type="I")]
    assert m.termination_code == "N"
    assert [(p.lab_id, o.specimen_id, r.test.local_code) for p, o, r in m.results()][0] == (
        "PAT0042", "26112600042", "GLU")


def test_host_query_gives_the_specimen_and_requested_tests(host_query: str) -> None:
    [query] = parse_message(host_query).queries
    assert (query.patient_id, query.specimen_id, query.status) == ("", "26112600077", "O")
    assert query.tests == [Tid(local_code="ALL")]


def test_manufacturer_components_of_a_query_are_kept_to_be_echoed_in_the_answer() -> None:
    text = "H|\\^&\rQ|1|^^SAMPLE7^0^50001^004^^S1^SC||^^^ALL||20261126090000|||||||O\rL|1|N\r"
    m = parse_message(text)
    [query] = m.queries
    assert (query.patient_id, query.specimen_id) == ("", "")
    assert query.extra_ids == ("SAMPLE7", "0", "50001", "004", "", "S1", "SC")
    answer = Message(patients=[Patient(orders=[Order(
        specimen_id=query.extra_ids[0], instrument_specimen_id=query.extra_ids[1],
        instrument_specimen_extra=query.extra_ids[2:], tests=[Tid("TSH")], action_code="N")])])
    assert "O|1|SAMPLE7|0^50001^004^^S1^SC|^^^TSH|" in build_message(answer)
    assert parse_message(build_message(m)) == m
    assert parse_message(build_message(answer)) == answer


def test_qualitative_result_keeps_every_component_of_its_value() -> None:
    m = parse_message("H|\\^&\rP|1\rO|1|S1\rR|1|^^^HBSAG^1|Negative^0.52|||N||F\rL|1\r")
    result = m.patients[0].orders[0].results[0]
    assert (result.value, result.value_extra) == ("Negative", ("0.52",))
    assert result.test == Tid(local_code="HBSAG", extra=("1",))
    assert "R|1|^^^HBSAG^1|Negative^0.52|||N||F" in build_message(m)


def test_escape_sequences_are_decoded_and_unknown_ones_kept() -> None:
    text = ("H|\\^&\rP|1\rO|1|S1||^^^GLU\rR|1|^^^GLU|5.1\r"
            "C|1|I|a&F&b&S&c&R&d&E&e &X41& &H&end|G\rL|1\r")
    [comment] = parse_message(text).patients[0].orders[0].results[0].comments
    assert comment.text == ("a|b^c\\d&e &X41& &H&end",)


def test_delimiters_declared_in_the_header_are_used() -> None:
    text = "H!@#$\rP!1!!P9\rO!1!S1!!###NA@###K\rR!1!###NA!140!mmol/L\rL!1\r"
    m = parse_message(text)
    assert m.delimiters == Delimiters(field="!", repeat="@", component="#", escape="$")
    assert [t.local_code for t in m.patients[0].orders[0].tests] == ["NA", "K"]
    assert m.patients[0].orders[0].results[0].value == "140"
    assert build_message(m) == "H!@#$\rP!1!!P9\rO!1!S1!!###NA@###K\rR!1!###NA!140!mmol/L\rL!1!N\r"


def test_records_are_nested_per_level_and_comments_follow_their_record() -> None:
    text = ("H|\\^&\rC|1|L|header note\rP|1|A\rC|1|L|patient note\rO|1|S1\rR|1|^^^GLU|5\rR|2|^^^NA|140\r"
            "O|2|S2\rR|1|^^^K|4\rP|2|B\rO|1|S3\rC|1|L|order note\rL|1|N\r")
    m = parse_message(text)
    assert m.header.comments[0].text == ("header note",)
    assert [p.practice_id for p in m.patients] == ["A", "B"]
    assert [[o.specimen_id for o in p.orders] for p in m.patients] == [["S1", "S2"], ["S3"]]
    assert [len(o.results) for o in m.patients[0].orders] == [2, 1]
    assert m.patients[0].comments[0].text == ("patient note",)
    assert m.patients[1].orders[0].comments[0].text == ("order note",)


def test_crlf_and_lf_record_separators_are_tolerated(biochemistry_run: str) -> None:
    assert parse_message(biochemistry_run.replace("\r", "\r\n")) == parse_message(biochemistry_run)
    assert parse_message(biochemistry_run.replace("\r", "\n")) == parse_message(biochemistry_run)


def test_parse_then_build_gives_back_the_same_records(biochemistry_run: str) -> None:
    m = parse_message(biochemistry_run)
    rebuilt = build_message(m)
    assert parse_message(rebuilt) == m
    assert rebuilt.split("\r")[3] == biochemistry_run.split("\r")[3]  # R|1 is written as the analyzer did


def test_order_download_is_built_with_sequence_numbers_per_level() -> None:
    answer = Message(
        header=Header(sender=("OpenSGL",), receiver=("c501",), timestamp=datetime(2026, 11, 26, 8, 35)),
        patients=[
            Patient(lab_id="PAT0042", name=PersonName("MARTIN", "Claire"), sex="F",
                    birthdate=date(1985, 3, 12),
                    orders=[Order(specimen_id="26112600077", tests=[Tid("GLU"), Tid("K")],
                                  priority="S", action_code="N", specimen_type="SER",
                                  collected_at=datetime(2026, 11, 26, 7, 50)),
                            Order(specimen_id="26112600078", tests=[Tid("NA")], action_code="N")]),
            Patient(lab_id="PAT0043", orders=[Order(specimen_id="26112600079", tests=[Tid("CREA")])]),
        ],
        termination_code="F",
    )
    text = build_message(answer)
    assert text.split("\r") == [
        "H|\\^&|||OpenSGL|||||c501||P|LIS2-A2|20261126083500",
        "P|1||PAT0042||MARTIN^Claire||19850312|F",
        "O|1|26112600077||^^^GLU\\^^^K|S||20261126075000||||N||||SER||||||||||O",
        "O|2|26112600078||^^^NA|R||||||N||||||||||||||O",
        "P|2||PAT0043",
        "O|1|26112600079||^^^CREA|R||||||||||||||||||||O",
        "L|1|F",
        "",
    ]
    assert parse_message(text) == answer


def test_values_with_delimiters_are_escaped_when_built() -> None:
    m = Message(patients=[Patient(orders=[Order(specimen_id="S|1", results=[
        Result(test=Tid("GLU"), value="5^6", comments=[Comment(text=("a\\b&c",))])])])])
    text = build_message(m)
    assert "O|1|S&F&1|" in text
    assert "R|1|^^^GLU|5&S&6|" in text
    assert "C|1|I|a&R&b&E&c|G" in text
    assert parse_message(text) == m


def test_query_round_trips() -> None:
    m = Message(queries=[Query(specimen_id="SP1", tests=[Tid("ALL")],
                               begin_at=datetime(2026, 1, 2, 3, 4, 5))])
    text = build_message(m)
    assert "Q|1|^SP1||^^^ALL||20260102030405||||||O" in text
    assert parse_message(text) == m


@pytest.mark.parametrize(("text", "line", "words"), [
    ("H|\\^&\rP|1|PAT-9\rO|1|S1\rR|1|^^^GLU|5|||||||||2026-11-26\rR|2|^^^UREE|0.3\rL|1\r", 4, "R.13: timestamp"),
    ("H|\\^&\rP|1|PAT-9\rO|1|S1\rR|1|^^^GLU|5||||||||20261332\rR|2|^^^UREE|0.3\rL|1\r", 4, "R.12"),
    ("H|\\^&\rP|1|PAT-9\rO|1|S1\rR|1||5\rR|2|^^^UREE|0.3\rL|1\r", 4, "test ID is empty"),
    ("H|\\^&\rP|1|PAT-9\rO|1|S1\rR|1|^^^GLU||g/L||H||F\rR|2|^^^UREE|0.3\rL|1\r", 4, "R.9) F says the result"),
])
def test_an_unreadable_r_record_is_set_aside_and_the_others_are_read(text: str, line: int, words: str) -> None:
    message = parse_message(text)
    [refused] = message.refused
    assert refused.line == line and words in refused.diagnostics
    assert refused.raw == text.split("\r")[line - 1] and refused.specimen_id == "S1" and refused.patient_id == "PAT-9"
    assert [r.test.local_code for _, _, r in message.results()] == ["UREE"]


def test_units_cut_by_an_unescaped_component_separator_are_read_whole() -> None:
    text = "H|\\^&\rP|1\rO|1|S1\rR|1|^^^WBC|6.1|10^3/µL\rR|2|^^^PLT|250|10&S&3/µL\rL|1\r"
    assert [r.units for _, _, r in parse_message(text).results()] == ["10^3/µL", "10^3/µL"]


def test_test_code_in_the_fifth_component_is_read() -> None:
    [(_, _, result)] = parse_message("H|\\^&\rP|1\rO|1|S1\rR|1|^^^^HBA1C|6.1|%\rL|1\r").results()
    assert result.test.local_code == "" and result.test.extra == ("HBA1C",)


@pytest.mark.parametrize(("text", "record_type", "line", "field", "words"), [
    ("H|\\^&\rO|1|S1\rL|1\r", "O", 2, None, "without a preceding P"),
    ("H|\\^&\rP|1\rR|1|^^^GLU|5\rL|1\r", "R", 3, None, "without a preceding O"),
    ("H|\\^&\rP|1\rX|1\rL|1\r", "X", 3, 1, "unknown record type"),
    ("H|\\^&\rP|x\rL|1\r", "P", 2, 2, "sequence number"),
    ("H|\\^&\rP|1\r", "L", 3, None, "no L terminator"),
    ("H|\\^&\rL|1\rP|1\r", "P", 3, None, "after the L terminator"),
    ("H|\\^&\rP|1\rH|\\^&\rL|1\r", "H", 3, None, "second H"),
    ("P|1\rL|1\r", "P", 1, 1, "must start with an H record"),
    ("H|||&\rL|1\r", "H", 1, 2, "distinct"),
    ("H|\\^&\rP|1||||||19851332\rL|1\r", "P", 2, 8, "not a valid date"),
    ("\r\r", "H", 1, None, "empty"),
])
def test_malformed_record_error_names_the_record_line_and_field(
        text: str, record_type: str, line: int, field: int | None, words: str) -> None:
    with pytest.raises(AstmRecordError) as caught:
        parse_message(text)
    error = caught.value
    assert isinstance(error, InvalidInput)
    assert (error.record_type, error.line, error.field) == (record_type, line, field)
    assert words in str(error)
    assert f"{record_type} record at line {line}" in str(error)
    issue = error.outcome()["issue"][0]
    assert issue["code"] == "invalid"
    assert issue["expression"][0].startswith(f"{record_type} line {line}")


def test_value_that_cannot_be_written_names_the_record_line_and_field() -> None:
    m = Message(patients=[Patient(orders=[Order(specimen_id="S1", results=[Result(test=Tid("GLU"),
                                                                                  value="5\r6")])])])
    with pytest.raises(AstmRecordError) as caught:
        build_message(m)
    assert (caught.value.record_type, caught.value.line, caught.value.field) == ("R", 4, 4)


def test_unexpected_sequence_number_is_accepted_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="facades.astm.records"):
        m = parse_message("H|\\^&\rP|1\rO|1|S1\rR|1|^^^GLU|5\rR|5|^^^NA|140\rL|1\r")
    assert len(m.patients[0].orders[0].results) == 2
    assert "R record at line 5 has sequence number 5, expected 2" in caplog.text
