"""Static reading of rule contexts (facades/cda/conformance/contexts.py)."""

from __future__ import annotations

import pytest

from facades.cda.conformance.contexts import branches, may_match_attributes, split_guard, template_root, walk_plan

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


H = "Q{urn:hl7-org:v3}"


def test_walk_plan_stops_below_paths_no_rule_continues() -> None:
    plan = walk_plan(["//hl7:doc[hl7:x]/hl7:author[@a]/hl7:time", "//hl7:doc/hl7:author/*[not(self::hl7:id)]",
                      "//hl7:doc/*", "/"], NS)
    assert plan is not None
    assert plan.anchors == (f"{H}doc",)
    assert plan.stops == ((f"{H}doc", (), (f"{H}author",)), (f"{H}doc", (f"{H}author",), ()))


def test_walk_plan_keeps_walking_below_a_wildcard_with_steps_of_its_own() -> None:
    plan = walk_plan(["//hl7:doc/*/hl7:id", "//hl7:doc/hl7:author/hl7:time"], NS)
    assert plan is not None and plan.stops == ()


@pytest.mark.parametrize("context", [
    "*[cda:templateId/@root='1.2.3']",  # may match anywhere
    "//hl7:doc//hl7:id",  # descendant step
    "//hl7:doc/@code",  # attribute
    "//hl7:doc/text()",
    "//y:doc",  # unknown prefix
])
def test_walk_plan_refuses_contexts_that_are_not_anchored_child_paths(context: str) -> None:
    assert walk_plan(["//hl7:doc/hl7:a", context], NS) is None


def test_walk_plan_reads_unions_and_relative_paths() -> None:
    plan = walk_plan(["hl7:doc/hl7:a | //x:doc/x:b", "/hl7:doc/hl7:a/hl7:c"], NS)
    assert plan is not None
    assert plan.anchors == (f"{H}doc", "Q{urn:other}doc")
    assert (f"{H}doc", (), (f"{H}a",)) in plan.stops
