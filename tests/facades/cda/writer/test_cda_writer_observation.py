"""One CR-Bio result entry (``facades/cda/writer/observation.py``): a decimal read with its precision keeps
its digits in the ``PQ`` value, the reference range and the narrative row."""

from __future__ import annotations

from lxml import etree

from facades.cda.writer.observation import observation
from resources.fhirjson import loads

GLUCOSE = (b'{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org",'
           b'"code":"2345-7","display":"Glucose [Mass/volume] in Serum or Plasma"}]},'
           b'"effectiveDateTime":"2026-12-05T08:15:00+01:00","valueQuantity":{"value":1.50,"unit":"g/L",'
           b'"system":"http://unitsofmeasure.org","code":"g/L"},"referenceRange":[{"low":{"value":0.70,'
           b'"unit":"g/L","system":"http://unitsofmeasure.org","code":"g/L"},"high":{"value":1.0E0,"unit":"g/L",'
           b'"system":"http://unitsofmeasure.org","code":"g/L"}}]}')


def _values(parent: etree._Element) -> list[str]:
    return [str(v) for v in parent.xpath("//*[local-name()='value' or local-name()='low' or local-name()='high']"
                                         "/@value")]


def test_a_decimal_keeps_its_digits_in_the_value_the_range_and_the_narrative() -> None:
    parent = etree.Element("entry")
    row = observation(parent, loads(GLUCOSE), "res-1", when="20261205081500+0100", expression="Observation")
    assert _values(parent) == ["1.50", "0.70", "1.0"]  # 1.0E0 in plain notation, its two digits kept
    assert row.value == "1.50" and row.range == "0.70 - 1.0"
    plain = etree.Element("entry")  # a value a float prints back (1.5) is written as before
    row = observation(plain, loads(GLUCOSE.replace(b"1.50", b"1.5")), "res-1", when="20261205081500+0100",
                      expression="Observation")
    assert _values(plain)[0] == "1.5" and row.value == "1.5"
