"""What the report prints for a result (``server/documents/gather.py``): the digits received when the
catalogue sets no presentation, the catalogue's number of decimals when it does."""

from __future__ import annotations

from resources.fhirjson import loads
from server.documents.gather import value_text


def _result(value: str) -> dict[str, object]:
    return dict(loads(('{"resourceType":"Observation","status":"final","code":{"text":"Glucose"},'
                       '"valueQuantity":{"value":' + value + ',"unit":"g/L"}}').encode()))


def test_a_result_prints_its_digits_as_received_or_as_the_catalogue_says() -> None:
    assert value_text(_result("1.50")) == "1.50"
    assert value_text(_result("123456789012345678901234.5")) == "123456789012345678901234.5"
    assert value_text(_result("1.5")) == "1.5" and value_text(_result("7")) == "7"
    assert value_text(_result("1.50"), 1) == "1.5" and value_text(_result("1.5"), 2) == "1.50"
