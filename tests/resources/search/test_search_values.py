"""Unit tests of write-time extraction and query-time filters, per parameter type."""

from __future__ import annotations

from datetime import datetime

import pytest

from resources.errors import InvalidInput
from resources.search import cursor, date, quantity, reference, string, token
from resources.search.clause import RANK_LOW_CARDINALITY, combine
from resources.search.extract import search_document


def test_partial_dates_are_ranges() -> None:
    assert date.parse_range("2024") == (datetime(2024, 1, 1), datetime(2024, 12, 31, 23, 59, 59, 999000))
    assert date.parse_range("2024-02")[1] == datetime(2024, 2, 29, 23, 59, 59, 999000)
    assert date.parse_range("2024-05-02T08:15:00+02:00") == (datetime(2024, 5, 2, 6, 15),
                                                             datetime(2024, 5, 2, 6, 15, 0, 999000))


@pytest.mark.parametrize("bad", ["14/07/1982", "2024-13", "2024-02-30", "20240101"])
def test_bad_dates_are_refused_with_the_parameter_named(bad: str) -> None:
    with pytest.raises(InvalidInput) as err:
        date.build_filter("s.birthdate", "birthdate", bad, None)
    assert err.value.expression == ["birthdate"]


def test_date_prefixes_compare_the_right_end() -> None:
    assert "s.date.hi" in date.build_filter("s.date", "date", "gt2024-01-01", None).filter
    assert "s.date.lo" in date.build_filter("s.date", "date", "lt2024-01-01", None).filter
    eq = date.build_filter("s.date", "date", "2024-01-01", None)
    assert list(eq.filter)[0] == "s.date.lo" and "$elemMatch" in eq.filter["s.date"]


def test_token_extraction_keeps_system_and_bare_code() -> None:
    cc = {"coding": [{"system": "http://loinc.org", "code": "2345-7"}, {"code": "GLY"}]}
    assert token.extract([cc]) == ["http://loinc.org|2345-7", "2345-7", "|GLY", "GLY"]
    ident = {"system": "urn:oid:1.2.3", "value": "IPP1"}
    assert token.extract([ident]) == ["urn:oid:1.2.3|IPP1", "IPP1"]


def test_token_system_only_is_an_index_range_rechecked_on_one_value() -> None:
    clause = token.build_filter("s.code", "code", "http://loinc.org|", None)
    assert clause.filter == {"s.code": {"$gte": "http://loinc.org|", "$lt": "http://loinc.org}"}}
    assert clause.holds({"s": {"code": ["http://loinc.org|2345-7", "2345-7"]}})
    # one value above the range and another below it must not pass as a match
    assert not clause.holds({"s": {"code": ["urn:x|1", "1"]}})


def test_alternatives_of_prefixes_are_rechecked_as_any_of() -> None:
    clause = string.build_filter("s.family", "family", "autre,dupont", None)
    assert "$or" in clause.filter and len(clause.element_check) == 2
    # "martin" >= "autre" and "aubigne" < "autrf": the range of "autre" alone is met by two values
    assert not clause.holds({"s": {"family": ["martin", "aubigne"]}})
    assert clause.holds({"s": {"family": ["dupont-x", "dupont"]}})


def test_clauses_combine_flat_most_selective_first() -> None:
    status = token.build_filter("s.status", "status", "final", None, rank=RANK_LOW_CARDINALITY)
    code = token.build_filter("s.code", "code", "2345-7", None)
    low = date.build_filter("s.date", "date", "ge2024-01-01", None)
    high = date.build_filter("s.date", "date", "le2024-12-31", None)
    flt = combine([status, code, low, high])
    assert list(flt)[0] == "s.code" and "$and" not in flt and "$or" not in flt
    assert flt["s.date.hi"] == {"$gte": datetime(2024, 1, 1)}


def test_string_normalisation_strips_accents_case_and_splits_words() -> None:
    norm, exact = string.extract([{"family": "Lefèvre-D'Aubigné", "given": ["Éloïse"]}])
    assert "lefevre-d'aubigne" in norm and "aubigne" in norm and "eloise" in norm
    assert exact == ["Lefèvre-D'Aubigné", "Éloïse"]


def test_reference_query_forms() -> None:
    assert reference.normalise_query_value("123", ("Patient",), None) == "Patient/123"
    assert reference.normalise_query_value("123", ("Patient", "Group"), None) == "123"
    assert reference.normalise_query_value("123", ("Patient", "Group"), "Group") == "Group/123"
    with pytest.raises(InvalidInput):
        reference.normalise_query_value("Device/1", ("Patient",), None)
    assert reference.extract([{"reference": "http://x/fhir/Patient/9/_history/2"}]) == ["Patient/9", "9"]


def test_quantity_equality_uses_the_precision_of_the_value() -> None:
    clause = quantity.build_filter("s.value-quantity", "value-quantity", "5.4", None)
    assert clause.filter["s.value-quantity.v"] == {"$gte": 5.35, "$lt": 5.45}
    with pytest.raises(InvalidInput):
        quantity.build_filter("s.value-quantity", "value-quantity", "abc", None)


def test_cursor_round_trips_and_rejects_garbage() -> None:
    key = "2024-01-02T03:04:05.000\x1fabc"
    assert cursor.decode(cursor.encode(key)) == key
    assert cursor.after(("k.date", -1), key) == {"k.date": {"$lt": key}}
    with pytest.raises(InvalidInput):
        cursor.decode("not-a-cursor")


def test_search_document_of_an_observation() -> None:
    obs = {"resourceType": "Observation", "id": "obs-1", "status": "final",
           "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7"}]},
           "subject": {"reference": "Patient/1"}, "effectiveDateTime": "2024-05-02",
           "valueQuantity": {"value": 5.4, "system": "http://unitsofmeasure.org", "code": "mmol/L"}}
    s, _, k = search_document(obs)
    assert s["subject"] == ["Patient/1", "1"] and "patient" not in s
    assert s["code-value-quantity"][0]["t"] == "http://loinc.org|2345-7"
    assert k["date"] == "2024-05-02T00:00:00.000\x1fobs-1"
