"""Static reading of rule contexts (facades/cda/conformance/contexts.py)."""

from __future__ import annotations

import pytest

from facades.cda.conformance.contexts import branches, may_match_attributes, split_guard, template_root

NS = {"cda": "urn:hl7-org:v3", "hl7": "urn:hl7-org:v3", "x": "urn:other"}


def test_union_is_split_only_at_top_level() -> None:
    assert branches("a[b | c] | d[contains(., '|')]") == ["a[b | c]", "d[contains(., '|')]"]


@pytest.mark.parametrize(("context", "expected"), [
    ("//hl7:doc[x]/hl7:author/*[not(self::hl7:a)][@y]",
     ("//hl7:doc[x]/hl7:author/*", "self::node()[not(self::hl7:a)][@y]")),
    ("//a/*[f(']/')]", ("//a/*", "self::node()[f(']/')]")),
    ("*[@x]", ("*[@x]", None)),  # no parent path to check first
    ("a/*[@x]", ("a/*[@x]", None)),  # relative: parent check is not cheaper
    ("//a//*[@x]", ("//a//*[@x]", None)),  # ancestor search
    ("//a/*[1]", ("//a/*[1]", None)),  # positional
    ("//a/*[@x][last()]", ("//a/*[@x][last()]", None)),
    ("//a/*[@x] | //b", ("//a/*[@x] | //b", None)),
    ("//a/hl7:b[@x]", ("//a/hl7:b[@x]", None)),
])
def test_split_guard(context: str, expected: tuple[str, str | None]) -> None:
    assert split_guard(context) == expected


def test_template_root_recognises_only_the_exact_hl7_shape() -> None:
    assert template_root("*[cda:templateId/@root='1.2.3']", NS) == "1.2.3"
    assert template_root(' *[hl7:templateId/@root = "1.2.3"] ', NS) == "1.2.3"
    assert template_root("*[x:templateId/@root='1.2.3']", NS) is None
    assert template_root("cda:section[cda:templateId/@root='1.2.3']", NS) is None
    assert template_root("*[cda:templateId/@root='1.2.3' and cda:code]", NS) is None


def test_attribute_contexts_are_detected() -> None:
    assert may_match_attributes("cda:value/@unit")
    assert may_match_attributes("cda:a | @code")
    assert not may_match_attributes("cda:value[@unit]")
