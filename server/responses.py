"""FHIR JSON responses (``application/fhir+json``), serialised with orjson."""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response

from resources.fhirjson import dumps

FHIR_JSON = "application/fhir+json; charset=utf-8"


def fhir_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    if body is None:
        return Response(status_code=status, headers=headers)
    return Response(content=dumps(body), status_code=status, media_type=FHIR_JSON, headers=headers)
