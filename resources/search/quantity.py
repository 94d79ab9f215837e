"""Quantity search, and the token+quantity composite (``code-value-quantity``).

A value ``5.4`` means the interval implied by its precision, [5.35, 5.45), as FHIR asks; the unit
part (``|system|code``) matches the UCUM code or the unit as written.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from resources.errors import InvalidInput
from resources.search import token
from resources.search.clause import RANK_EQUALITY, RANK_RANGE, RANK_SCAN, Clause, merge
from resources.search.date import split_prefix

_OPS = {"gt": "$gt", "sa": "$gt", "lt": "$lt", "eb": "$lt", "ge": "$gte", "le": "$lte"}


def _quantities(values: list[Any]) -> list[dict[str, Any]]:
    return [{"v": float(v["value"]), "s": v.get("system"), "c": v.get("code"), "u": v.get("unit")}
            for v in values if isinstance(v, dict) and isinstance(v.get("value"), int | float)]


def extract(values: list[Any]) -> list[dict[str, Any]]:
    return _quantities(values)


def extract_composite(codes: list[Any], quantities: list[Any]) -> list[dict[str, Any]]:
    return [{"t": t, **q} for t in token.extract(codes) for q in _quantities(quantities)]


def _value_condition(prefix: str, number: str, key: str) -> dict[str, Any]:
    try:
        d = Decimal(number)
    except InvalidOperation as exc:
        raise InvalidInput(f"{number!r} is not a number", expression=key) from exc
    exponent = d.as_tuple().exponent
    half = Decimal(5).scaleb(exponent - 1) if isinstance(exponent, int) else Decimal(0)
    if prefix == "eq":
        return {"$gte": float(d - half), "$lt": float(d + half)}
    if prefix in _OPS:
        return {_OPS[prefix]: float(d)}
    raise InvalidInput(f"prefix {prefix} is not supported on quantities", expression=key)


def _element(raw: str, key: str) -> tuple[dict[str, Any], dict[str, Any], bool]:
    """(value condition, whole-element condition, negated) for ``[prefix]number[|system|code]``."""
    prefix, rest = split_prefix(raw, expression=key)
    number, _, unit = rest.partition("|")
    negate = prefix == "ne"
    value = _value_condition("eq" if negate else prefix, number, key)
    element: dict[str, Any] = {"v": value}
    if unit:
        system, _, code = unit.partition("|")
        if not code:
            raise InvalidInput("a quantity unit is written number|system|code", expression=key)
        element["$or"] = [{"c": code}, {"u": code}]
        if system:
            element["s"] = system
    return value, element, negate


def build_filter(field: str, key: str, raw: str, modifier: str | None) -> Clause:
    if modifier not in (None, ""):
        raise InvalidInput(f"modifier :{modifier} is not supported on quantities", expression=key)
    clauses = []
    for alt in (a for a in raw.split(",") if a):
        value, element, negate = _element(alt, key)
        if negate:
            clauses.append(Clause({field: {"$not": {"$elemMatch": element}}}, RANK_SCAN))
        else:
            clauses.append(Clause({f"{field}.v": value, field: {"$elemMatch": element}}, RANK_RANGE))
    if not clauses:
        raise InvalidInput(f"empty quantity value for {key}", expression=key)
    return merge(clauses)


def build_composite_filter(field: str, key: str, raw: str) -> Clause:
    clauses = []
    for alt in (a for a in raw.split(",") if a):
        code, sep, qty = alt.partition("$")
        if not sep or not code or not qty:
            raise InvalidInput("a code-value-quantity value is written code$[prefix]number[|system|code]",
                               expression=key)
        value, element, negate = _element(qty, key)
        if negate:
            raise InvalidInput("prefix ne is not supported inside a composite", expression=key)
        element["t"] = code
        clauses.append(Clause({f"{field}.t": code, f"{field}.v": value, field: {"$elemMatch": element}},
                              RANK_EQUALITY))
    if not clauses:
        raise InvalidInput(f"empty composite value for {key}", expression=key)
    return merge(clauses)

