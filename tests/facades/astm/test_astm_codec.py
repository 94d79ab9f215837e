"""E1394 field codec: escapes, splitting and timestamps."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from facades.astm.codec import (
    escape,
    format_timestamp,
    join_record,
    parse_timestamp,
    read_delimiters,
    split_record,
    unescape,
)
from facades.astm.errors import AstmRecordError
from facades.astm.model import Delimiters

D = Delimiters()


@pytest.mark.parametrize("value", ["plain", "a|b", "x^y\\z", "R&D", "&F&", "|^\\&", ""])
def test_escape_then_unescape_gives_the_value_back(value: str) -> None:
    escaped = escape(value, D)
    assert not any(c in escaped for c in "|^\\")
    assert unescape(escaped, D) == value


def test_escape_character_is_escaped_first_so_nothing_is_doubled() -> None:
    assert escape("a&b|c", D) == "a&E&b&F&c"


def test_unterminated_escape_is_kept_verbatim() -> None:
    assert unescape("5 & 6 &F", D) == "5 & 6 &F"


def test_record_is_split_into_repeats_of_components_and_header_delimiters_kept_whole() -> None:
    assert split_record("H|\\^&|x", D) == [(("H",),), (("\\^&",),), (("x",),)]
    assert split_record("O|1|^^^GLU\\^^^K", D)[2] == (("", "", "", "GLU"), ("", "", "", "K"))


def test_join_drops_trailing_empty_fields_and_components() -> None:
    fields = [(("R",),), (("1",),), (("", "", "", "GLU", ""),), (("",),), (("",),)]
    assert join_record(fields, D, record_type="R") == "R|1|^^^GLU"


@pytest.mark.parametrize(("text", "expected"), [
    ("20261126", datetime(2026, 11, 26)),
    ("202611260830", datetime(2026, 11, 26, 8, 30)),
    ("20261126083015", datetime(2026, 11, 26, 8, 30, 15)),
    ("", None),
])
def test_timestamps_of_every_precision_are_read(text: str, expected: datetime | None) -> None:
    assert parse_timestamp(text, record_type="R", line=4, field=13) == expected


@pytest.mark.parametrize("text", ["2026112", "2026-11-26", "20261126T0830", "20260230"])
def test_bad_timestamp_names_its_field(text: str) -> None:
    with pytest.raises(AstmRecordError) as caught:
        parse_timestamp(text, record_type="R", line=4, field=13)
    assert caught.value.expression == ["R line 4, R.13"]


def test_timestamps_are_written_in_full_and_dates_as_dates() -> None:
    assert format_timestamp(datetime(2026, 1, 2, 3, 4, 5)) == "20260102030405"
    assert format_timestamp(date(1985, 3, 12)) == "19850312"
    assert format_timestamp(None) == ""


def test_delimiters_must_be_distinct_and_not_letters() -> None:
    assert read_delimiters("H|\\^&") == D
    for bad in ("H|\\^|", "H|ab&", "H| ^&", "H|\\^"):
        with pytest.raises(AstmRecordError):
            read_delimiters(bad)
