"""Write-time extraction: the search values and sort keys stored beside each resource.

The stored document is ``{_id, r, v, lu, h, s: {param: values}, x: {param: exact strings},
k: {param: sort key}}``; see docs/search-architecture.md for the whole picture. A sort key is the
value as a sortable string followed by the id, so that it is unique and a page boundary is one
comparison.
"""

from __future__ import annotations

from typing import Any

from resources.search import date, quantity, reference, string, token, uri
from resources.search.params import SearchParam, params_for
from resources.search.paths import values_at
from resources.search.query import SORTABLE

SORT_SEPARATOR = "\x1f"


def sort_key(value: str, rid: str) -> str:
    return f"{value}{SORT_SEPARATOR}{rid}"

_EXTRACTORS: dict[str, Any] = {"token": token, "date": date, "reference": reference, "quantity": quantity,
                               "uri": uri}


def _raw(resource: dict[str, Any], param: SearchParam) -> list[Any]:
    return [v for p in param.paths for v in values_at(resource, p)]


def search_document(resource: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """``(s, x, k)``: normalised search values, exact strings, sort keys."""
    rtype = resource["resourceType"]
    params = params_for(rtype)
    s: dict[str, Any] = {}
    x: dict[str, Any] = {}
    k: dict[str, Any] = {}
    for name, param in params.items():
        if param.alias_of:
            continue
        if param.type == "composite":
            first, second = (params[c] for c in param.components)
            values: list[Any] = quantity.extract_composite(_raw(resource, first), _raw(resource, second))
            for comp in resource.get("component", []):
                values += quantity.extract_composite(_raw(comp, first), _raw(comp, second))
        elif param.type == "string":
            values, exact = string.extract(_raw(resource, param))
            if exact:
                x[name] = exact
        else:
            values = _EXTRACTORS[param.type].extract(_raw(resource, param))
        if param.type in SORTABLE and param.sortable:
            module = string if param.type == "string" else _EXTRACTORS[param.type]
            k[name] = sort_key(module.sort_key(values), resource["id"])
        if values:
            s[name] = values
    return s, x, k
