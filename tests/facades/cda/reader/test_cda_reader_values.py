"""Values of a subcontractor's CR-Bio (``facades/cda/reader/values.py``): a ``PQ`` value keeps its digits,
a value that is not a finite number is refused with its place."""

from __future__ import annotations

import pytest
from lxml import etree

from facades.cda.reader.values import decimal
from resources.errors import InvalidInput
from resources.fhirjson import dumps

PQ = etree.fromstring('<value xmlns="urn:hl7-org:v3" value="1.50" unit="g/L"/>')


@pytest.mark.parametrize(("sent", "kept"), [("1.50", b"1.50"), ("0.0", b"0.0"), ("4.89", b"4.89"), ("42", b"42"),
                                             ("1.0E-3", b"0.0010"), ("123456789012345678901234.5",
                                                                     b"123456789012345678901234.5")])
def test_a_pq_value_keeps_its_digits(sent: str, kept: bytes) -> None:
    assert dumps(decimal(sent, PQ)) == kept


@pytest.mark.parametrize("sent", ["NaN", "INF", "-Infinity", "1,5", ""])
def test_a_value_that_is_not_a_finite_number_is_refused(sent: str) -> None:
    with pytest.raises(InvalidInput, match="is not a number"):
        decimal(sent, PQ)
