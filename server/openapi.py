"""The OpenAPI document, with the FHIR bodies described.

FastAPI only sees the routes: they read their bodies themselves, so out of the box the document says
nothing of what to send. Here every body is described once: the resource JSON for create and update,
a Bundle for ``POST /fhir``, the form of ``_search``, and for each ``$operation`` the ``Parameters``
its OperationDefinition declares (server/operation_definitions.py); responses are resources, Bundles
or OperationOutcomes; ``{rtype}`` is one of the FHIR types served and ids follow FHIR's id rule. So a
fuzzer (schemathesis runs in the test suite) or an integrator reaches the real logic, not the 404s.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from resources.search.params import RESOURCE_TYPES
from server.operation_definitions import OPERATIONS, Operation, operation_of

FHIR_JSON = "application/fhir+json"
_ID = {"type": "string", "pattern": "^[A-Za-z0-9\\-.]{1,64}$"}
_REF = "#/components/schemas/"
_SCHEMAS: dict[str, Any] = {
    "Resource": {"type": "object", "required": ["resourceType"], "additionalProperties": True,
                 "properties": {"resourceType": {"type": "string", "enum": list(RESOURCE_TYPES)}, "id": _ID,
                                "meta": {"type": "object"}}},
    "Bundle": {"type": "object", "required": ["resourceType", "type"], "additionalProperties": True,
               "properties": {"resourceType": {"type": "string", "enum": ["Bundle"]},
                              "type": {"type": "string", "enum": ["batch", "transaction"]},
                              "entry": {"type": "array", "items": {"$ref": _REF + "BundleEntry"}}}},
    "BundleEntry": {"type": "object", "properties": {
        "fullUrl": {"type": "string"}, "resource": {"$ref": _REF + "Resource"},
        "request": {"type": "object", "required": ["method", "url"], "properties": {
            "method": {"type": "string", "enum": ["GET", "POST", "PUT", "DELETE"]}, "url": {"type": "string"},
            "ifMatch": {"type": "string"}, "ifNoneExist": {"type": "string"}}}}},
    "OperationOutcome": {"type": "object", "required": ["resourceType", "issue"], "properties": {
        "resourceType": {"type": "string", "enum": ["OperationOutcome"]},
        "issue": {"type": "array", "items": {"type": "object", "required": ["severity", "code"]}}}},
    "AnyResource": {"type": "object", "required": ["resourceType"], "additionalProperties": True,
                    "properties": {"resourceType": {"type": "string"}}},
}
_VALUE_SCHEMAS: dict[str, dict[str, Any]] = {
    "boolean": {"type": "boolean"}, "integer": {"type": "integer"},
    "date": {"type": "string", "pattern": "^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"},
    "dateTime": {"type": "string", "format": "date-time"},
    "Reference": {"type": "object", "properties": {"reference": {"type": "string"}}},
    "Coding": {"type": "object", "properties": {"system": {"type": "string"}, "code": {"type": "string"},
                                                "display": {"type": "string"}}},
    "Identifier": {"type": "object", "properties": {"system": {"type": "string"}, "value": {"type": "string"}}},
    "Quantity": {"type": "object", "properties": {"value": {"type": "number"}, "unit": {"type": "string"},
                                                  "system": {"type": "string"}, "code": {"type": "string"}}},
}


def _parameters_schema(op: Operation) -> dict[str, Any]:
    """The ``Parameters`` an operation takes: each part named and typed as its OperationDefinition says."""
    parts = []
    for p in (p for p in op.parameters if p.use == "in"):
        if p.type[0].isupper() and p.type not in _VALUE_SCHEMAS:
            key, value = "resource", {"$ref": _REF + "AnyResource"}
        else:
            key, value = "value" + p.type[0].upper() + p.type[1:], _VALUE_SCHEMAS.get(p.type, {"type": "string"})
        parts.append({"type": "object", "required": ["name", key],
                      "properties": {"name": {"type": "string", "enum": [p.name]}, key: value}})
    parameter = {"type": "array", "items": {"oneOf": parts}} if parts else {"type": "array", "maxItems": 0}
    return {"type": "object", "required": ["resourceType"],
            "properties": {"resourceType": {"type": "string", "enum": ["Parameters"]}, "parameter": parameter}}


def _json_body(ref: str, required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {FHIR_JSON: {"schema": {"$ref": _REF + ref}},
                                              "application/json": {"schema": {"$ref": _REF + ref}}}}


def _request_body(path: str, method: str, schemas: dict[str, Any]) -> dict[str, Any] | None:
    if method not in ("post", "put"):
        return None
    where = operation_of(path)
    if where is not None:
        op = OPERATIONS.get(where[1])
        if op is None or op.body == "none":
            return None
        if op.body == "Parameters":
            name = "Parameters-" + op.code
            schemas[name] = _parameters_schema(op)
            return _json_body(name, required=bool(op.parameters) and any(p.min for p in op.parameters))
        content: dict[str, Any] = {op.body: {"schema": {"type": "string"}}}
        if op.code == "loinc-import":
            content[FHIR_JSON] = {"schema": {"$ref": _REF + "AnyResource"}}
        return {"required": True, "content": content}
    if path == "/fhir":
        return _json_body("Bundle")
    if path.endswith("/_search"):
        return {"required": False, "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}}}
    if path.startswith("/fhir/"):
        return _json_body("Resource")
    return None


def _responses(op: dict[str, Any]) -> None:
    outcome = {"description": "an OperationOutcome saying what went wrong",
               "content": {FHIR_JSON: {"schema": {"$ref": _REF + "OperationOutcome"}}}}
    for status, response in list(op.get("responses", {}).items()):
        if status.startswith("2") and "content" in response:
            response["content"] = {FHIR_JSON: {"schema": {"$ref": _REF + "AnyResource"}}}
        elif status == "422":
            op["responses"][status] = outcome
    op["responses"]["4XX"] = outcome
    op["responses"]["5XX"] = {**outcome, "description": "the server failed or a service is down (503)"}


def _path_parameters(op: dict[str, Any]) -> None:
    for param in op.get("parameters", []):
        if param.get("in") != "path":
            continue
        if param["name"] == "rtype":
            param["schema"] = {"type": "string", "enum": list(RESOURCE_TYPES)}
        elif param["name"] in ("rid", "pid"):
            param["schema"] = dict(_ID)
        elif param["name"] == "vid":
            param["schema"] = {"type": "string", "pattern": "^[0-9]{1,9}$"}


def _writes_per_type(document: dict[str, Any], schemas: dict[str, Any]) -> None:
    """Create and update spelled out per type (``POST /fhir/Patient`` taking a Patient): the generic
    ``{rtype}`` path cannot tie the body's ``resourceType`` to the URL, so a client generating from the
    document would mostly send mismatched pairs and never reach validation."""
    paths = document["paths"]
    generic = {"post": paths.get("/fhir/{rtype}", {}).pop("post", None),
               "put": paths.get("/fhir/{rtype}/{rid}", {}).pop("put", None)}
    for rtype in RESOURCE_TYPES:
        schemas[rtype] = {"allOf": [{"$ref": _REF + "Resource"}],
                          "properties": {"resourceType": {"type": "string", "enum": [rtype]}}}
        for method, path in (("post", f"/fhir/{rtype}"), ("put", f"/fhir/{rtype}/{{rid}}")):
            template = generic[method]
            if template is None:
                continue
            op = {**template, "operationId": f"{template.get('operationId', method)}_{rtype}",
                  "summary": f"{'Create' if method == 'post' else 'Update'} a {rtype}",
                  "parameters": [p for p in template.get("parameters", []) if p.get("name") != "rtype"],
                  "requestBody": _json_body(rtype)}
            paths.setdefault(path, {})[method] = op


def fhir_openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document of the routes, with the bodies, path parameters and answers of FHIR."""
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(title=app.title, version=app.version, routes=app.routes,
                           description="OpenSGL FHIR R4 API. Operations: see /fhir/OperationDefinition.")
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(_SCHEMAS)
    for path, item in document["paths"].items():
        for method, op in item.items():
            body = _request_body(path, method, schemas)
            if body is not None:
                op["requestBody"] = body
            _path_parameters(op)
            _responses(op)
    _writes_per_type(document, schemas)
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    app.openapi_schema = document
    return document
