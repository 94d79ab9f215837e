"""A UCUM syntax check for the units of the catalogue (case-sensitive UCUM, ``c/s``).

Not a full UCUM engine: it parses the grammar (``.`` and ``/`` products, parentheses, integer
exponents, integer factors, ``{annotations}``, ``10*n``) and accepts the atoms a medical
biology laboratory meets, with SI prefixes on metric atoms. It exists so that a French display
unit typed as a code (``UI/L``, ``µmol/L``, ``mmol\\L``) is refused before it reaches a CDA ``PQ``
or a FHIR ``Quantity``.
"""

from __future__ import annotations

import re

UCUM_SYSTEM = "http://unitsofmeasure.org"

_PREFIXES = ("da", "Ki", "Mi", "Gi", "Ti", "Y", "Z", "E", "P", "T", "G", "M", "k", "h", "d", "c", "m", "u",
             "n", "p", "f", "a", "z", "y")
# Atoms that take a prefix, then atoms that do not (UCUM tables, biology subset).
_METRIC = frozenset((
    "m", "s", "g", "rad", "K", "C", "cd", "mol", "sr", "Hz", "N", "Pa", "J", "W", "A", "V", "F", "Ohm", "S",
    "Wb", "T", "H", "Cel", "lm", "lx", "Bq", "Gy", "Sv", "L", "l", "ar", "t", "bar", "u", "eV", "eq", "osm",
    "kat", "U", "[IU]", "[iU]", "Ci", "R", "B", "B[SPL]", "bit", "By", "Bd", "gf", "dyn", "erg", "P", "St",
    "G", "Gal", "m[Hg]", "m[H2O]", "[CFU]", "[PFU]", "[FFU]", "[arb'U]", "[S]", "[HPF]", "[LPF]",
))
_NON_METRIC = frozenset((
    "10*", "10^", "%", "min", "h", "d", "wk", "mo", "a", "mo_j", "a_j", "mo_g", "a_g", "[ppth]", "[ppm]",
    "[ppb]", "[pptr]", "[pH]", "[USP'U]", "[GPL'U]", "[MPL'U]", "[APL'U]", "[beth'U]", "[todd'U]", "[dye'U]",
    "[smgy'U]", "[bdsk'U]", "[ka'U]", "[knk'U]", "[mclg'U]", "[tb'U]", "[CCID_50]", "[TCID_50]", "[EID_50]",
    "[BAU]", "[AU]", "[PNU]", "[Lf]", "[D'ag'U]", "[FEU]", "[ELU]", "[EU]", "[drp]", "[degF]", "[diop]",
    "[in_i]", "[ft_i]", "[lb_av]", "[oz_av]", "[lne]", "[Ch]", "[mesh_i]", "[MET]", "deg", "'", "''",
))
_UNIT_TOKEN = re.compile(r"(10\*|10\^|.*?[^0-9+\-])([+\-]?\d+)?")
_STOP = "./(){}"


class _Parser:
    """Recursive descent over one unit string; ``fail`` carries the position of the first error."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, why: str) -> ValueError:
        return ValueError(f"{why} at position {self.pos} of {self.text!r}")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def main_term(self) -> None:
        if self.peek() == "/":
            self.pos += 1
        self.term()
        if self.pos != len(self.text):
            raise self.fail(f"unexpected {self.peek()!r}")

    def term(self) -> None:
        self.component()
        while self.peek() in (".", "/"):
            self.pos += 1
            self.component()

    def component(self) -> None:
        char = self.peek()
        if char == "(":
            self.pos += 1
            self.term()
            if self.peek() != ")":
                raise self.fail("missing ')'")
            self.pos += 1
        elif char == "{":
            self.annotation()
        else:
            self.annotatable()
            if self.peek() == "{":
                self.annotation()

    def annotation(self) -> None:
        end = self.text.find("}", self.pos)
        body = self.text[self.pos + 1 : end] if end >= 0 else ""
        if end < 0 or "{" in body or not all(33 <= ord(c) <= 126 for c in body):
            raise self.fail("bad annotation")
        self.pos = end + 1

    def annotatable(self) -> None:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in _STOP:
            if self.text[self.pos] == "[":
                close = self.text.find("]", self.pos)
                if close < 0:
                    raise self.fail("missing ']'")
                self.pos = close
            self.pos += 1
        token = self.text[start : self.pos]
        if not token:
            raise self.fail("missing unit")
        if token.isdigit():
            return  # an integer factor such as the 24 of g/(24.h)
        match = _UNIT_TOKEN.fullmatch(token)
        if not match or not _is_simple_unit(match.group(1)):
            self.pos = start
            raise self.fail(f"unknown unit {token!r}")


def _is_simple_unit(unit: str) -> bool:
    if unit in _METRIC or unit in _NON_METRIC:
        return True
    return any(unit.startswith(p) and unit[len(p) :] in _METRIC for p in _PREFIXES)


def ucum_error(unit: str) -> str | None:
    """Why ``unit`` is not a UCUM expression, or None when it parses."""
    if not unit or unit != unit.strip():
        return f"empty or padded unit {unit!r}"
    try:
        _Parser(unit).main_term()
    except ValueError as exc:
        return str(exc)
    return None


def is_valid_ucum(unit: str) -> bool:
    """True when ``unit`` is a UCUM expression built from known atoms."""
    return ucum_error(unit) is None
