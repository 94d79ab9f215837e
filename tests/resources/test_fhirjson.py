"""FHIR JSON in and out (``resources/fhirjson.py``): decimals come back with the digits sent, an object with a
key twice is refused with its path. Numbers shaped like those of FR Core lab Observations and of other FHIR
servers' exports (``1.50``, ``0.0``, ``1.0E-3``, 25 digits, ``-0``, large exponents)."""

from __future__ import annotations

import bson
import pytest
from bson.codec_options import CodecOptions
from hypothesis import given, settings
from hypothesis import strategies as st

from resources.decimals import ExactDecimal
from resources.errors import InvalidInput
from resources.fhirjson import DuplicateKey, content_hash, dumps, loads
from resources.store.decimals import DECIMAL_CODECS, to_bson

SENT = ["1.50", "0.0", "0.00", "1.0E-3", "1.0e-3", "123456789012345678901234.5", "-0", "-0.0", "1E300", "1e+2",
        "6.0221408E23", "2.5E-320", "18446744073709551615", "100.0", "5.4", "3", "-12"]
JSON_NUMBER = st.from_regex(r"-?(0|[1-9][0-9]{0,30})(\.[0-9]{1,30})?([eE][+-]?[0-9]{1,3})?", fullmatch=True)
READ_BACK = CodecOptions(type_registry=DECIMAL_CODECS)


def observation(value: str) -> bytes:
    return ('{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org",'
            '"code":"2345-7"}]},"valueQuantity":{"value":' + value + ',"unit":"g/L","system":'
            '"http://unitsofmeasure.org","code":"g/L"}}').encode()


def through_bson(resource: dict[str, object]) -> dict[str, object]:
    """What the store writes and a client with ``DECIMAL_CODECS`` reads back."""
    decoded: dict[str, object] = bson.decode(bson.encode({"r": to_bson(resource)}), codec_options=READ_BACK)["r"]
    return decoded


@pytest.mark.parametrize("text", SENT)
def test_each_number_comes_back_with_the_digits_sent(text: str) -> None:
    body = observation(text)
    resource = loads(body)
    assert dumps(resource) == body
    assert dumps(through_bson(resource)) == body


def test_exact_decimals_still_compute_as_floats() -> None:
    value = loads(observation("1.50"))["valueQuantity"]["value"]
    assert isinstance(value, ExactDecimal) and value == 1.5 and value >= 1.5 and value + 1 == 2.5
    assert type(value + 1) is float and type(float(value)) is float


def test_the_content_hash_sees_the_digits_and_is_the_same_after_storage() -> None:
    sent = loads(observation("1.50"))
    assert content_hash(sent) == content_hash(through_bson(sent))
    assert content_hash(sent) != content_hash(loads(observation("1.5")))


@settings(max_examples=300, deadline=None, derandomize=True)
@given(JSON_NUMBER)
def test_any_json_number_is_kept_exactly_or_refused(text: str) -> None:
    body = observation(text)
    try:
        resource = loads(body)
    except InvalidInput as refused:  # past what orjson reads (1E400, 2**64): refused, never altered
        assert "malformed JSON" in refused.diagnostics
        return
    assert dumps(resource) == body
    assert dumps(through_bson(resource)) == body


@pytest.mark.parametrize(("body", "path"), [
    (b'{"resourceType":"Observation","status":"final","code":{"text":"K"},"status":"preliminary"}',
     "Observation.status"),
    (b'{"resourceType":"Observation","valueQuantity":{"value":1.5,"unit":"g/L","value":15}}',
     "Observation.valueQuantity.value"),
    (b'{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient"}},'
     b'{"resource":{"resourceType":"Observation","subject":{"reference":"Patient/a",  "reference" :"Patient/b"}}}]}',
     "Bundle.entry[1].resource.subject.reference"),
    (b'[{"a":1},{"b":{"c":[{"d":1,"d":1}]}}]', "$this[1].b.c[0].d"),
])
def test_a_key_twice_in_one_object_is_refused_with_its_path(body: bytes, path: str) -> None:
    with pytest.raises(DuplicateKey) as refused:
        loads(body)
    assert refused.value.status == 400 and refused.value.expression == [path]
    assert refused.value.outcome()["issue"][0]["code"] == "structure"
    assert repr(path.rsplit(".", 1)[-1]) in refused.value.diagnostics


def test_the_same_key_in_two_objects_is_not_a_duplicate() -> None:
    assert loads(b'{"a":{"value":1},"b":{"value":2}}') == {"a": {"value": 1}, "b": {"value": 2}}
