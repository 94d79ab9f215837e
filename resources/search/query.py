"""From URL parameters to a planned search: one flat MongoDB filter (most selective clause first,
see clause.py), a sort, a page size and includes.

Chained parameters (``subject:Patient.identifier=…``) are resolved first through ``resolve_chain``
into the matching ids, bounded so that a chain never turns into a scan.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from resources.errors import InvalidInput, UnknownParameter
from resources.search import date, quantity, reference, string, token, uri
from resources.search.clause import (
    RANK_EQUALITY,
    RANK_ID,
    RANK_LOW_CARDINALITY,
    RANK_RANGE,
    RANK_REFERENCE,
    Clause,
    combine,
    merge,
)
from resources.search.elements import parse_elements
from resources.search.params import COMMON_PARAMS, RESULT_PARAMS, SearchParam, params_for

DEFAULT_COUNT = 20
MAX_COUNT = 1000
MAX_CHAIN_MATCHES = 1000

ChainResolver = Callable[[str, list[tuple[str, str]]], Awaitable[list[str]]]

SORTABLE = ("token", "string", "date", "reference", "uri")


@dataclass(frozen=True)
class Include:
    source_type: str
    param: str
    target_type: str | None


@dataclass
class SearchRequest:
    resource_type: str
    filter: dict[str, Any]
    sort: tuple[str, int]
    """One stored key (``_id`` or ``k.<param>``, whose values end with the id) and a direction."""
    checked: list[Clause] = field(default_factory=list)
    """Clauses whose element ranges the store re-checks on fetched documents."""
    count: int = DEFAULT_COUNT
    includes: list[Include] = field(default_factory=list)
    revincludes: list[Include] = field(default_factory=list)
    summary_count: bool = False
    total: bool = False
    elements: tuple[str, ...] = ()
    """``_elements``: the root elements the matches are cut down to (empty: whole resources)."""
    cursor: str | None = None
    ignored: list[str] = field(default_factory=list)
    echo: list[tuple[str, str]] = field(default_factory=list)


def _lastupdated(raw: str) -> Clause:
    alternatives = []
    for alt in (a for a in raw.split(",") if a):
        prefix, text = date.split_prefix(alt, expression="_lastUpdated")
        lo, hi = date.parse_range(text, expression="_lastUpdated")
        conditions: dict[str, dict[str, Any]] = {
            "eq": {"$gte": lo, "$lte": hi}, "gt": {"$gt": hi}, "sa": {"$gt": hi}, "lt": {"$lt": lo},
            "eb": {"$lt": lo}, "ge": {"$gte": lo}, "le": {"$lte": hi},
            "ne": {"$not": {"$gte": lo, "$lte": hi}},
        }
        alternatives.append(Clause({"lu": conditions[prefix]}, RANK_RANGE))
    if not alternatives:
        raise InvalidInput("empty _lastUpdated value", expression="_lastUpdated")
    return merge(alternatives)


def _value_clause(param: SearchParam, raw: str, modifier: str | None) -> Clause:
    f, key = param.field, param.key
    if modifier == "missing":
        if raw not in ("true", "false"):
            raise InvalidInput(":missing takes true or false", expression=param.name)
        return Clause({f: {"$exists": raw == "false"}})
    if param.type == "token":
        return token.build_filter(f, key, raw, modifier,
                                  rank=RANK_EQUALITY if param.selective else RANK_LOW_CARDINALITY)
    if param.type == "string":
        return string.build_filter(f, key, raw, modifier)
    if param.type == "date":
        return date.build_filter(f, key, raw, modifier)
    if param.type == "quantity":
        return quantity.build_filter(f, key, raw, modifier)
    if param.type == "uri":
        return uri.build_filter(f, key, raw, modifier)
    if param.type == "composite":
        return quantity.build_composite_filter(f, key, raw)
    type_modifier = modifier if modifier and modifier[0].isupper() else None
    if modifier and not type_modifier:
        raise InvalidInput(f"modifier :{modifier} is not supported on reference parameters", expression=param.name)
    return reference.build_filter(f, key, raw, param.targets, type_modifier)


def _sort(rtype: str, raw: str) -> tuple[str, int]:
    items = [i.strip() for i in raw.split(",") if i.strip()]
    if len(items) != 1:
        raise InvalidInput("_sort takes one parameter (ties are broken by id)", expression="_sort")
    direction = -1 if items[0].startswith("-") else 1
    name = items[0].lstrip("-")
    param = params_for(rtype).get(name)
    if name == "_id":
        return "_id", direction
    if name == "_lastUpdated":
        return "k._lastUpdated", direction
    if param is None or param.type not in SORTABLE or not param.sortable:
        raise InvalidInput(f"cannot sort {rtype} by {name!r}", expression="_sort")
    return f"k.{param.key}", direction


def _include(raw: str, name: str) -> Include:
    parts = raw.split(":")
    if len(parts) not in (2, 3):
        raise InvalidInput(f"{name} is written Type:param[:TargetType]", expression=name)
    spec = params_for(parts[0]).get(parts[1])
    if spec is None or spec.type != "reference":
        raise InvalidInput(f"{parts[0]}:{parts[1]} is not a reference search parameter", expression=name)
    return Include(parts[0], spec.key, parts[2] if len(parts) == 3 else None)


def _add_once(includes: list[Include], include: Include) -> None:
    """A repeated ``_include``/``_revinclude`` is asked once: repeating it must not multiply the response."""
    if include not in includes:
        includes.append(include)


def stated(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The parameters of a client's search URL with those given an empty value (``date=``) left out.

    The FHIR R4 search page (Handling Errors) says an empty parameter is not an error: the server ignores it.
    Before, the rule depended on the parameter: ``_id=`` matched nothing (an empty Bundle), ``date=`` and the
    other typed parameters were a 400, and a batch's GET entries dropped them (``parse_qsl``'s default). Applied
    where an outside search URL is read (the FHIR routes, a batch's GET entries), not in ``plan``: the server's
    own searches keep ``_id`` with no id matching nothing. Conditional interactions (``If-None-Exist``...)
    do not go through it: an empty criterion is not dropped there, so it never matches more than meant."""
    return [(key, value) for key, value in pairs if value != ""]


async def plan(rtype: str, pairs: list[tuple[str, str]], *, strict: bool,
               resolve_chain: ChainResolver) -> SearchRequest:
    params = params_for(rtype)
    clauses: list[Clause] = []
    req = SearchRequest(resource_type=rtype, filter={}, sort=("_id", 1))
    for key, raw in pairs:
        if key == "_cursor":
            req.cursor = raw
            continue
        req.echo.append((key, raw))
        if key == "_count":
            if not raw.isdigit():
                raise InvalidInput("_count must be a non-negative integer", expression="_count")
            req.count = min(int(raw), MAX_COUNT)
            req.summary_count = req.summary_count or req.count == 0
        elif key == "_sort":
            req.sort = _sort(rtype, raw)
        elif key == "_include":
            _add_once(req.includes, _include(raw, "_include"))
        elif key == "_revinclude":
            _add_once(req.revincludes, _include(raw, "_revinclude"))
        elif key == "_summary":
            if raw != "count":
                raise InvalidInput("only _summary=count is supported", expression="_summary")
            req.summary_count = True
        elif key == "_total":
            req.total = raw == "accurate"
        elif key == "_elements":
            req.elements = (*req.elements, *parse_elements(raw))
        elif key in RESULT_PARAMS:
            continue
        elif key == "_id":
            ids = [i for i in raw.split(",") if i]
            clauses.append(Clause({"_id": ids[0]} if len(ids) == 1 else {"_id": {"$in": ids}}, RANK_ID))
        elif key == "_lastUpdated":
            clauses.append(_lastupdated(raw))
        else:
            clause = await _param_clause(rtype, params, key, raw, resolve_chain)
            if clause is not None:
                clauses.append(clause)
            elif strict:
                raise UnknownParameter(
                    f"unknown search parameter {key!r} for {rtype}; supported: "
                    f"{', '.join(sorted([*params, *COMMON_PARAMS]))}", expression=key)
            else:
                req.ignored.append(key)
                req.echo.pop()
    req.filter = combine(clauses)
    req.checked = [c for c in clauses if c.element_check]
    return req


async def _param_clause(rtype: str, params: dict[str, SearchParam], key: str, raw: str,
                        resolve_chain: ChainResolver) -> Clause | None:
    head, dot, chain = key.partition(".")
    name, _, modifier = head.partition(":")
    param = params.get(name)
    if param is None:
        return None
    if not dot:
        return _value_clause(param, raw, modifier or None)
    if param.type != "reference":
        raise InvalidInput(f"{name} is not a reference: it cannot be chained", expression=key)
    targets = (modifier,) if modifier else param.targets
    if len(targets) != 1:
        raise InvalidInput(f"chain on {name} needs a type, e.g. {name}:Patient.{chain}", expression=key)
    ids = await resolve_chain(targets[0], [(chain, raw)])
    if len(ids) > MAX_CHAIN_MATCHES:
        raise InvalidInput(f"the chain {key} matches more than {MAX_CHAIN_MATCHES} {targets[0]}; narrow it",
                           expression=key)
    refs = [f"{targets[0]}/{i}" for i in ids]
    return Clause({param.field: {"$in": refs}}, RANK_REFERENCE)
