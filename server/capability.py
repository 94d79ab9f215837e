"""The CapabilityStatement, generated from the search-parameter table: it lists exactly what the
server does, no more."""

from __future__ import annotations

from typing import Any

from resources.search.params import PARAMS

_INTERACTIONS = ["read", "vread", "update", "delete", "history-instance", "history-type", "create", "search-type"]
_RESULT_PARAMS = [
    ("_count", "number", "page size (max 1000)"),
    ("_sort", "string", "one parameter (date, string, token, reference, uri, _lastUpdated, _id); - descending"),
    ("_include", "special", "Type:param[:Target]"),
    ("_revinclude", "special", "Type:param[:Target]"),
    ("_summary", "token", "count only"),
    ("_total", "token", "accurate: compute Bundle.total on every page"),
]


def operations_of(paths: list[str]) -> dict[str | None, list[str]]:
    """The ``$operations`` the app routes, by resource type (None: system level), read off its paths."""
    found: dict[str | None, list[str]] = {}
    for path in paths:
        parts = path.removeprefix("/fhir/").split("/")
        op = next((p for p in parts if p.startswith("$")), None)
        if op is None or not path.startswith("/fhir/"):
            continue
        rtype = parts[0] if parts[0] in PARAMS else None
        found.setdefault(rtype, [])
        if op[1:] not in found[rtype]:
            found[rtype].append(op[1:])
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
            **({"operation": [{"name": op, "definition": f"{base}/OperationDefinition/{rtype}-{op}"}
                              for op in operations[rtype]]} if rtype in operations else {}),
        })
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
            **({"operation": [{"name": op, "definition": f"{base}/OperationDefinition/{op}"}
                              for op in operations[None]]} if None in operations else {}),
        }],
    }
