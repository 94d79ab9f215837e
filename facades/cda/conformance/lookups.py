"""Code-list lookups in kit files answered by an index instead of a scan (used by ``xslt.py``).

``terminologie.sch`` checks each code and unit of a document with
``exists(doc(…/2.16.840.1.113883.6.8.xml)//code[text() = string($unit)])``: Saxon-HE does not index such a
filter, so every ``PQ`` value, ``low`` and ``high`` of a report scans the 250 kB UCUM list (5 of the 7 ms
that schematron took on a 30-result N3). ``sgl:doc(U)//name[text() = string(E)]`` is rewritten as
``(let $sgl:key := string(E) return sgl:doc(U)/key('sgl:text-n', $sgl:key, .))`` with
``<xsl:key name="sgl:text-n" match="name" use="text()"/>``: the same nodes (the elements under that document
having a text child equal to the string), found through an index. Only that exact shape is rewritten (a
``string(…)`` operand, so the comparison is between strings, as in the key), with ``E`` and ``U``
evaluated where they were; any other expression is left as it is.
"""

from __future__ import annotations

import re

from facades.cda.conformance.contexts import outside_strings

# ``)//name[text() = string(`` right after a doc call's closing parenthesis
_LOOKUP = re.compile(r"\)\s*//\s*([A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?)\[\s*text\(\)\s*=\s*string\(")
_DOC_CALL = re.compile(r"(?<![\w.:$-])sgl:doc\s*$")


def _pairs(expr: str) -> dict[int, int]:
    """Matching parentheses and brackets (both ways), outside string literals."""
    pairs: dict[int, int] = {}
    stack: list[int] = []
    for pos, char in outside_strings(expr):
        if char in "([":
            stack.append(pos)
        elif char in ")]" and stack:
            start = stack.pop()
            pairs[start], pairs[pos] = pos, start
    return pairs


def index_text_lookups(expr: str, keys: dict[str, str]) -> str:
    """``expr`` with its ``sgl:doc(U)//name[text() = string(E)]`` lookups going through keys; ``keys`` maps
    each element name looked up to its key's name (extended here, declared by the caller)."""
    while True:
        pairs = _pairs(expr)
        for found in _LOOKUP.finditer(expr):
            close = found.start()
            open_ = pairs.get(close)
            call = _DOC_CALL.search(expr, 0, open_) if open_ is not None else None
            operand = found.end() - 1  # the '(' of string(
            operand_end = pairs.get(operand)
            bracket = expr.find("[", close)
            end = pairs.get(bracket)
            if call is None or operand_end is None or end is None or expr[operand_end + 1:end].strip():
                continue
            name = found.group(1)
            key = keys.setdefault(name, f"sgl:text-{len(keys) + 1}")
            rewritten = (f"(let $sgl:key := string({expr[operand + 1:operand_end]}) "
                         f"return {expr[call.start():close + 1]}/key('{key}', $sgl:key, .))")
            expr = expr[:call.start()] + rewritten + expr[end + 1:]
            break
        else:
            return expr
