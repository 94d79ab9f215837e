"""What a rule context (an XSLT match pattern) tells us before any document is seen.

``xslt.py`` uses these answers to pick the cheapest faithful way to evaluate each rule; they only
read the pattern text (a scanner that skips strings, brackets and parentheses), never guess: when a
context is not in one of the recognised shapes, the rule is compiled the plain way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

HL7_NS = "urn:hl7-org:v3"
# ``*[cda:templateId/@root='…']``: the shape of most IHE / CI-SIS body rules.
_TEMPLATE_RULE = re.compile(r"""^\*\[\s*([\w.-]+):templateId/@root\s*=\s*(?:'([^']*)'|"([^"]*)")\s*\]$""")


def top_level(expr: str, wanted: str) -> list[int]:
    """Positions of the character ``wanted`` outside strings, brackets and parentheses."""
    found, depth, quote = [], 0, ""
    for pos, char in enumerate(expr):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        elif char == wanted and depth == 0:
            found.append(pos)
    return found


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


@dataclass
class PathNode:
    """One step of the rule paths below an anchor: its children by name (``Q{uri}local`` or ``*``)."""

    children: dict[str, PathNode] = field(default_factory=dict)


@dataclass(frozen=True)
class WalkPlan:
    """Where the walk may stop: the anchors (``Q{uri}local``) every rule path starts from, and per path
    (a tuple of names below an anchor) the names of its children the walk must still enter."""

    anchors: tuple[str, ...]
    stops: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]
    """(anchor, path below it, children to keep entering): the walk does not enter the other children's
    subtrees (``xslt.py`` writes one template per entry)."""


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
    """Which subtrees the walk need not enter, when every rule context is a path of child steps from an
    anchor element (Art-Decor's header schematrons: ``//hl7:ClinicalDocument[…]/hl7:author[…]/…``).

    Predicates are ignored, so the paths describe a superset of what the rules match: no element a rule can
    match is ever below a stop. None (walk everything) as soon as one context has another shape. Below a
    ``*`` step that has steps of its own, nothing is stopped (an element there is on several paths).
    """
    roots: dict[str, PathNode] = {}
    for context in contexts:
        for branch in branches(context):
            names = _child_path(branch, namespaces)
            if names is None:
                return None
            if not names:
                continue
            node = roots.setdefault(names[0], PathNode())
            for name in names[1:]:
                node = node.children.setdefault(name, PathNode())
    stops: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = []

    def visit(anchor: str, path: tuple[str, ...], node: PathNode) -> None:
        wildcard = node.children.get("*")
        if wildcard is not None and wildcard.children:
            return
        deeper = tuple(sorted(n for n, child in node.children.items() if n != "*" and child.children))
        stops.append((anchor, path, deeper))
        for name in deeper:
            visit(anchor, (*path, name), node.children[name])

    for anchor, root in sorted(roots.items()):
        visit(anchor, (), root)
    return WalkPlan(tuple(sorted(roots)), tuple(stops)) if roots else None
