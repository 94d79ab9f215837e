"""The CapabilityStatement, generated from the search-parameter table: it lists exactly what the
server does, no more."""

from __future__ import annotations

from typing import Any

from resources.search.params import PARAMS
from server.operation_definitions import definition_id, operation_of

_INTERACTIONS = ["read", "vread", "update", "delete", "history-instance", "history-type", "create", "search-type"]
_RESULT_PARAMS = [
    ("_count", "number", "page size (max 1000)"),
    ("_sort", "string", "one parameter (date, string, token, reference, uri, _lastUpdated, _id); - descending"),
    ("_include", "special", "Type:param[:Target]"),
    ("_revinclude", "special", "Type:param[:Target]"),
    ("_summary", "token", "count only"),
    ("_total", "token", "accurate: compute Bundle.total on every page"),
    ("_elements", "string", "root elements of the matches (mandatory ones kept, tagged SUBSETTED; includes whole)"),
]


def operations_of(paths: list[str]) -> dict[str | None, list[tuple[str, str]]]:
    """The ``$operations`` the app routes as (code, OperationDefinition id), by resource type (None: system
    level, or a type this server does not list as a resource), read off its paths."""
    found: dict[str | None, list[tuple[str, str]]] = {}
    for path in paths:
        where = operation_of(path)
        if where is None:
            continue
        rtype = where[0] if where[0] in PARAMS else None
        entry = (where[1], definition_id(where[0], where[1]))
        found.setdefault(rtype, [])
        if entry not in found[rtype]:
            found[rtype].append(entry)
    return found


def security(base: str) -> dict[str, Any]:
    """How to authenticate (SMART App Launch's oauth-uris extension): every interaction but ``metadata`` needs
    a bearer token from the token endpoint (client credentials) or a workbench session."""
    origin = base.removesuffix("/fhir")
    return {
        "cors": False,
        "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                 "code": "SMART-on-FHIR", "display": "SMART-on-FHIR"}],
                     "text": "OAuth 2.0 client credentials (bearer JWT); workbench session with CSRF token"}],
        "extension": [{"url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                       "extension": [{"url": "token", "valueUri": f"{origin}/auth/token"}]}],
        "description": f"Discovery: {base}/.well-known/smart-configuration. 401 without credentials, 403 "
                       "OperationOutcome naming the permission the role lacks (the permission table).",
    }


def capability_statement(*, base: str, version: str, date: str, paths: list[str] | None = None) -> dict[str, Any]:
    operations = operations_of(paths or [])
    resources = []
    for rtype, params in PARAMS.items():
        search = [{"name": "_id", "type": "token"}, {"name": "_lastUpdated", "type": "date"}]
        search += [{"name": p.name, "type": p.type, **({"documentation": p.documentation} if p.documentation else {})}
                   for p in params.values()]
        search += [{"name": n, "type": t, "documentation": d} for n, t, d in _RESULT_PARAMS]
        resources.append({
            "type": rtype,
            "interaction": [{"code": c} for c in _INTERACTIONS],
            "versioning": "versioned-update",
            "readHistory": True,
            "updateCreate": True,
            "conditionalCreate": True,
            "conditionalUpdate": True,
            "conditionalDelete": "single",
            "searchInclude": [f"{rtype}:{p.name}" for p in params.values() if p.type == "reference"],
            "searchParam": search,
            **({"operation": [{"name": op, "definition": f"{base}/OperationDefinition/{rid}"}
                              for op, rid in operations[rtype]]} if rtype in operations else {}),
        })
    for rtype in sorted(t for t in operations if t and t not in PARAMS):
        # a type a workflow serves from its own store (server/admin: Person = accounts, Endpoint = partners):
        # its listing and its operations, none of the stored-resource interactions
        resources.append({"type": rtype, "interaction": [{"code": "search-type"}],
                          "operation": [{"name": op, "definition": f"{base}/OperationDefinition/{rid}"}
                                        for op, rid in operations[rtype]]})
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date,
        "kind": "instance",
        "software": {"name": "OpenSGL", "version": version},
        "implementation": {"description": "OpenSGL laboratory information system FHIR API", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [{
            "mode": "server",
            "security": security(base),
            "resource": resources,
            "interaction": [{"code": "transaction"}, {"code": "batch"}],
            **({"operation": [{"name": op, "definition": f"{base}/OperationDefinition/{rid}"}
                              for op, rid in operations[None]]} if None in operations else {}),
        }],
    }
