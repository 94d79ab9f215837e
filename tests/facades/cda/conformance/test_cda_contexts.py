"""Static reading of rule contexts (facades/cda/conformance/contexts.py)."""

from __future__ import annotations

import pytest

from facades.cda.conformance.contexts import (
    branches,
    may_match_attributes,
    needs_template_id,
    split_guard,
    template_root,
    walk_plan,
)

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



@pytest.mark.parametrize("context", [
    "*[cda:templateId/@root='1.2.3']",
    '*[hl7:templateId/@root = "1.2.3" and not(cda:templateId/@root="1.2.4")]',
    "*[cda:templateId[@root='1.2.3']]",
    "*[cda:templateId/@root='1.2.3']//*[cda:templateId/@root='1.2.4']",  # the last step decides
    "cda:act[cda:templateId/@root='1.2.3'][cda:code]",
    "*[cda:templateId/@root='1.2.3'] | cda:a[cda:templateId/@root='1.2.4']",
    "*[cda:templateId/@root='a or b']",  # inside a string
])
def test_contexts_that_need_a_template_id_on_the_element(context: str) -> None:
    assert needs_template_id(context, NS)


@pytest.mark.parametrize("context", [
    "*[cda:templateId/@root='1.2.3' or @classCode='OBS']",  # matches without one
    "*[cda:templateId/@root='1.2.3'\nor @classCode='OBS']",
    "*[(cda:templateId/@root='1.2.3' or @x)]",
    "*[cda:templateId/@root='1.2.3']/cda:performer",  # the templateId is on the parent
    "cda:entry[cda:act/cda:templateId/@root='1.2.3']",  # on a grandchild
    "*[@x][cda:templateId/@root='1.2.3']",  # not the first predicate: left alone
    "*[cda:templateId/@root=('1', '2')]",
    "*[x:templateId/@root='1.2.3']",  # not HL7
    "*[cda:templateId/@root='1.2.3'] | cda:b",  # one branch without
    "*[not(cda:templateId/@root='1.2.3')]",
    "self::cda:a[cda:templateId/@root='1.2.3']",
])
def test_contexts_that_can_match_without_a_template_id(context: str) -> None:
    assert not needs_template_id(context, NS)


H = "Q{urn:hl7-org:v3}"


def test_walk_plan_gives_each_path_with_steps_below_it_a_mode() -> None:
    contexts = ["//hl7:doc[hl7:x]/hl7:author[@a]/hl7:time", "//hl7:doc/hl7:author/*[not(self::hl7:id)]",
                "//hl7:doc/*", "/", "hl7:doc"]
    plan = walk_plan(contexts, NS)
    assert plan is not None
    assert plan.anchor == f"{H}doc"
    assert plan.parents == ((f"{H}doc",), (f"{H}doc", f"{H}author"))
    assert plan.below((f"{H}doc",)) == (f"{H}author",)
    assert plan.below((f"{H}doc", f"{H}author")) == ()
    assert [plan.modes_of(c, NS) for c in contexts] == [
        ("sgl:below-2",), ("sgl:below-2",), ("sgl:below-1",), ("sgl:root",), ("sgl:anchor",)]
    assert plan.modes_of("//hl7:doc/hl7:a | //hl7:doc/hl7:author/hl7:b", NS) == ("sgl:below-1", "sgl:below-2")


@pytest.mark.parametrize("context", [
    "*[cda:templateId/@root='1.2.3']",  # may match anywhere
    "//hl7:doc//hl7:id",  # descendant step
    "//hl7:doc/@code",  # attribute
    "//hl7:doc/text()",
    "//y:doc",  # unknown prefix
    "//hl7:doc/*/hl7:id",  # an element below a wildcard would be on two paths
    "//x:doc/hl7:a",  # a second anchor
])
def test_walk_plan_refuses_contexts_that_are_not_paths_from_one_anchor(context: str) -> None:
    assert walk_plan(["//hl7:doc/hl7:a", context], NS) is None
