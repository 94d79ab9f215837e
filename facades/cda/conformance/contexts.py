"""What a rule context (an XSLT match pattern) tells us before any document is seen.

``xslt.py`` uses these answers to pick the cheapest faithful way to evaluate each rule; they only
read the pattern text (a scanner that skips strings, brackets and parentheses), never guess: when a
context is not in one of the recognised shapes, the rule is compiled the plain way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

HL7_NS = "urn:hl7-org:v3"
# ``*[cda:templateId/@root='…']``: the shape of most IHE / CI-SIS body rules.
_TEMPLATE_RULE = re.compile(r"""^\*\[\s*([\w.-]+):templateId/@root\s*=\s*(?:'([^']*)'|"([^"]*)")\s*\]$""")


def outside_strings(expr: str) -> Iterator[tuple[int, str]]:
    """Each character of an XPath expression that is not inside a string literal (nor one of its quotes)."""
    quote = ""
    for pos, char in enumerate(expr):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        else:
            yield pos, char


def _depths(expr: str) -> Iterator[tuple[int, str, int]]:
    """``outside_strings`` with the bracket/parenthesis depth after each character."""
    depth = 0
    for pos, char in outside_strings(expr):
        depth += 1 if char in "[(" else -1 if char in "])" else 0
        yield pos, char, depth


def top_level(expr: str, wanted: str) -> list[int]:
    """Positions of the character ``wanted`` outside strings, brackets and parentheses."""
    return [pos for pos, char, depth in _depths(expr) if char == wanted and depth == 0]


def branches(context: str) -> list[str]:
    """The alternatives of a union pattern (``a | b``), stripped."""
    cuts = [-1, *top_level(context, "|"), len(context)]
    return [context[a + 1:b].strip() for a, b in zip(cuts, cuts[1:], strict=False)]


def split_guard(context: str) -> tuple[str, str | None]:
    """``(match, guard)``: a final ``*[p]…`` step gives its predicates to a guard on ``self::node()``.

    Saxon tests a step's own predicates before its parent, so Art-Decor's closed-template contexts
    (``//hl7:ClinicalDocument[…]/hl7:author[…]/*[not(self::hl7:a[…] or …)]``) would run a long
    predicate on every element. Only done when it pays and is safe: an absolute child-axis parent
    path to check first, a single path (no union), no positional predicate.
    """
    if len(branches(context)) > 1:
        return context, None
    slashes = top_level(context, "/")
    if not slashes or not context.startswith("/") or context[slashes[-1] - 1] == "/":
        return context, None
    head, step = context[: slashes[-1] + 1], context[slashes[-1] + 1:]
    if not step.startswith("*[") or not step.endswith("]") or "position()" in step or "last()" in step:
        return context, None
    predicates = step[1:]
    if any(p.strip().isdigit() for p in predicates[1:-1].split("][")):
        return context, None
    return head + "*", "self::node()" + predicates


def template_root(context: str, namespaces: dict[str, str]) -> str | None:
    """The OID when the context is exactly ``*[<hl7 prefix>:templateId/@root='OID']``, else None."""
    found = _TEMPLATE_RULE.match(context.strip())
    if found is None or namespaces.get(found.group(1)) != HL7_NS:
        return None
    return found.group(2) if found.group(2) is not None else found.group(3)


def may_match_attributes(context: str) -> bool:
    """Whether some branch's last step can select an attribute (then the walk must visit them)."""
    for branch in branches(context):
        slashes = top_level(branch, "/")
        step = branch[slashes[-1] + 1:] if slashes else branch
        if step.startswith(("@", "attribute::", "node()")):
            return True
    return False


# A name test of a child step: ``prefix:name``, ``name`` or ``*`` (then its predicates, if any).
_NAME_STEP = re.compile(r"^(\*|[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?)(\[.*\])?$", re.DOTALL)


@dataclass(frozen=True)
class WalkPlan:
    """How to walk a schematron whose rule contexts are all paths of child steps from one anchor element
    (Art-Decor's header schematron: ``//hl7:ClinicalDocument[…]/hl7:recordTarget[…]/…``): the paths that have
    steps below them (``parents``, anchor first, predicates dropped) and, per parent, which of its children
    are parents in turn. ``xslt.py`` gives each parent a mode holding only the rules of its children."""

    anchor: str
    parents: tuple[tuple[str, ...], ...]

    def mode(self, parent: tuple[str, ...]) -> str:
        return f"sgl:below-{self.parents.index(parent) + 1}"

    def below(self, parent: tuple[str, ...]) -> tuple[str, ...]:
        """The named children of ``parent`` with steps of their own (the walk continues into those only)."""
        return tuple(path[-1] for path in self.parents if len(path) == len(parent) + 1 and path[:-1] == parent)

    def modes_of(self, context: str, namespaces: dict[str, str]) -> tuple[str, ...]:
        """The trie walk's modes a rule with this context belongs to (besides the full walk's)."""
        modes = []
        for branch in branches(context):
            names = _child_path(branch, namespaces) or []
            modes.append("sgl:root" if not names else "sgl:anchor" if len(names) == 1
                         else self.mode(tuple(names[:-1])))
        return tuple(dict.fromkeys(modes))


def _eqname(name: str, namespaces: dict[str, str]) -> str | None:
    if name == "*":
        return name
    prefix, _, local = name.rpartition(":")
    if prefix and prefix not in namespaces:
        return None
    return f"Q{{{namespaces.get(prefix, '') if prefix else ''}}}{local}"


def _child_path(branch: str, namespaces: dict[str, str]) -> list[str] | None:
    """The names of a ``//a[p]/b[q]/*`` path (anchor first), or None for any other shape."""
    branch = branch.strip()
    if branch == "/":
        return []
    body = branch[2:] if branch.startswith("//") else branch.lstrip("/") if branch.startswith("/") else branch
    cuts = [-1, *top_level(body, "/"), len(body)]
    names: list[str] = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        found = _NAME_STEP.match(body[a + 1:b].strip())
        name = _eqname(found.group(1), namespaces) if found else None
        if name is None or (not names and name == "*"):
            return None
        names.append(name)
    return names


def walk_plan(contexts: list[str], namespaces: dict[str, str]) -> WalkPlan | None:
    """The walk by path for these rule contexts, or None when one of them is not ``//anchor[p]/a[q]/…`` (or
    ``/``), when they do not share one anchor name, or when a ``*`` step has steps below it (an element there
    would be on two paths). Predicates are ignored: a path stands for a superset of what its rule matches, so
    an element's rules are all in the mode of its parent's path."""
    anchors: set[str] = set()
    parents: dict[tuple[str, ...], None] = {}
    for context in contexts:
        for branch in branches(context):
            names = _child_path(branch, namespaces)
            if names is None:
                return None
            if not names:
                continue
            anchors.add(names[0])
            for depth in range(1, len(names)):
                if names[depth - 1] == "*":
                    return None
                parents[tuple(names[:depth])] = None
    if len(anchors) != 1:
        return None
    return WalkPlan(anchors.pop(), tuple(sorted(parents, key=lambda path: (len(path), path))))


# The first predicate's first conjunct that makes a step need an HL7 ``templateId`` child: ``p:templateId/@root =
# 'OID'`` (``=``, ``!=``, ``eq``: all false on an empty left side) or ``p:templateId[@root='OID']``.
_NEEDS_TEMPLATE_ID = re.compile(
    r"""^([\w.-]+):templateId(?:/@root\s*(?:=|!=|\seq\s)\s*(?:'[^']*'|"[^"]*")"""
    r"""|\[\s*@root\s*=\s*(?:'[^']*'|"[^"]*")\s*\])$""")


def _closing_bracket(predicates: str) -> int:
    """Where the first predicate of ``[a][b]`` ends (its ``]``), skipping strings and nested brackets."""
    return next((pos for pos, char, depth in _depths(predicates) if char in "])" and depth == 0), len(predicates))


def _top_level_words(expr: str, word: str) -> list[int]:
    """Positions of the operator ``word`` (``and``, ``or``) outside strings, brackets and parentheses."""
    top = {pos for pos, _, depth in _depths(expr) if depth == 0}
    return [m.start() for m in re.finditer(rf"(?<![\w.:$@/-]){word}(?![\w.:-])", expr) if m.start() in top]


def _first_conjunct(predicate: str) -> str | None:
    """The text before the first top-level ``and`` of a predicate, or None if it has a top-level ``or``."""
    if _top_level_words(predicate, "or"):
        return None
    ands = _top_level_words(predicate, "and")
    return (predicate[:ands[0]] if ands else predicate).strip()


def needs_template_id(context: str, namespaces: dict[str, str]) -> bool:
    """Whether the pattern can only match an element that has an HL7 ``templateId`` child: every branch's last
    step is ``name[p:templateId/@root='OID' …]`` (or ``*[…]``, ``[p:templateId[@root='OID']]``), its first
    predicate a conjunction led by that test. The walk then skips such rules on the elements of a body that
    carry no templateId (most of them); anything else answers False and keeps the rule everywhere."""
    for branch in branches(context):
        slashes = top_level(branch, "/")
        step = branch[slashes[-1] + 1:] if slashes else branch
        found = _NAME_STEP.match(step.strip())
        if found is None or not found.group(2) or _eqname(found.group(1), namespaces) is None:
            return False
        predicates = found.group(2)
        conjunct = _first_conjunct(predicates[1:_closing_bracket(predicates)])
        test = _NEEDS_TEMPLATE_ID.match(conjunct) if conjunct is not None else None
        if test is None or namespaces.get(test.group(1)) != HL7_NS:
            return False
    return True
