"""What a rule context (an XSLT match pattern) tells us before any document is seen.

``xslt.py`` uses these answers to pick the cheapest faithful way to evaluate each rule; they only
read the pattern text (a scanner that skips strings, brackets and parentheses), never guess: when a
context is not in one of the recognised shapes, the rule is compiled the plain way.
"""

from __future__ import annotations

import re

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
