"""HTTP operations on the analysis catalogue, under ``/fhir`` (registered before the generic FHIR routes).

- ``GET /fhir/CodeSystem/$loinc-export?file=LOINC_1|LOINC_2|LOINC_3``: the ``;`` CSV (SGL.LOI.01–03).
- ``POST /fhir/ConceptMap/$loinc-import[?file=NAME]``: a LOINC_4/5/6 CSV body (``text/csv``; name in
  ``file`` or ``Content-Disposition``) or a ConceptMap (SGL.LOI.10) -> the import report as an
  OperationOutcome (blocking = error, warning = non-blocking); 422 when blocking errors left
  nothing to apply; 409 when the catalogue moved while the import was checked.
- ``GET|POST /fhir/ConceptMap/$translate``: local code <-> LOINC (``reverse=true``).
- ``POST /fhir/{ObservationDefinition|ActivityDefinition}/{id}/$set-loinc`` and
  ``POST /fhir/CodeSystem/catalogue/$set-loinc`` (+ ``concept``: a chapter or sub-chapter code):
  manual edit of one LOINC code (SGL.LOI.08–09); ``If-Match`` pins the version the user saw.

Routes only translate HTTP to the workflow functions of this package; errors are raised, never built.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response

from resources.errors import InvalidInput, Issue, Unprocessable
from resources.fhirjson import DOCUMENT_MAX_ITEMS, loads
from resources.interactions.common import version_from_etag
from server.catalog.exporting import export_day, export_file
from server.catalog.importing import (
    apply_import,
    circuit_codes,
    read_concept_map_import,
    read_csv_bytes_import,
)
from server.catalog.manual import set_loinc
from server.catalog.translate import translate, translate_request
from server.deps import CallerDep, SettingsDep, StoreDep, WriteRuleDep
from server.responses import fhir_response
from server.stored_catalog import read_concept_map
from terminology import ImportResult

router = APIRouter()

_FILENAME = re.compile(r'filename\*?=(?:UTF-8\'\')?"?([^";]+)"?', re.IGNORECASE)


@router.get("/CodeSystem/$loinc-export")
async def loinc_export(store: StoreDep, file: str = Query(description="LOINC_1, LOINC_2 or LOINC_3")) -> Response:
    name, content = await export_file(store, file, export_day())
    return Response(content, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _file_name(query: str | None, disposition: str | None) -> str:
    if query:
        return query
    found = _FILENAME.search(disposition or "")
    if found is None:
        raise InvalidInput("name the LOINC_4, LOINC_5 or LOINC_6 file: ?file=LOINC_6_transcodage_resultats_"
                           "AAAAMMJJ.csv or a Content-Disposition filename", expression="file")
    return found.group(1)


def _issues(outcome: dict[str, Any]) -> list[Issue]:
    return [Issue(code=i["code"], diagnostics=i["diagnostics"], severity=i["severity"],
                  expression=tuple(i.get("expression", ()))) for i in outcome["issue"]]


@router.post("/ConceptMap/$loinc-import")
async def loinc_import(request: Request, store: StoreDep, settings: SettingsDep, write_rule: WriteRuleDep,
                       caller: CallerDep,
                       file: str | None = Query(default=None, description="the CSV file name (its kind)"),
                       content_type: str | None = Header(default=None),
                       content_disposition: str | None = Header(default=None)) -> Response:
    body = await request.body()
    if not body.strip():
        raise InvalidInput("the request has no body: send a LOINC_4/5/6 CSV file or a ConceptMap", expression="body")
    circuit = circuit_codes(settings)
    result: ImportResult
    if "json" in (content_type or ""):
        result = await read_concept_map_import(store, loads(body, max_items=DOCUMENT_MAX_ITEMS), circuit)
    else:
        result = await read_csv_bytes_import(store, _file_name(file, content_disposition), body, circuit)
    applied = await apply_import(store, result, write_rule=write_rule, caller=caller)
    outcome = result.report.to_operation_outcome()
    if result.report.blocking and not applied:
        raise Unprocessable(result.report.summary(), issues=_issues(outcome))
    return fhir_response(outcome)


@router.get("/ConceptMap/$translate")
@router.post("/ConceptMap/$translate")
async def concept_map_translate(request: Request, store: StoreDep) -> Response:
    body = loads(raw) if request.method == "POST" and (raw := await request.body()) else None
    translation = translate_request(list(request.query_params.multi_items()), body)
    return fhir_response(translate(await read_concept_map(store), translation))


def _parameters(body: Any) -> dict[str, str]:
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise InvalidInput("the body of $set-loinc must be a Parameters resource (code, display)",
                           expression="resourceType")
    return {p.get("name", ""): str(next((v for k, v in p.items() if k.startswith("value")), ""))
            for p in body.get("parameter", ())}


async def _set_loinc(request: Request, store: StoreDep, caller: CallerDep, write_rule: WriteRuleDep,
                     rtype: str, rid: str, if_match: str | None) -> Response:
    raw = await request.body()
    params = _parameters(loads(raw) if raw.strip() else None)
    if not params.get("code"):
        raise InvalidInput("$set-loinc needs the parameter code (the LOINC code)", expression="Parameters.code")
    stored = await set_loinc(store, rtype, rid, params["code"], params.get("display", ""), caller=caller,
                             write_rule=write_rule, concept=params.get("concept", ""),
                             expected_vid=version_from_etag(if_match))
    return fhir_response(stored.resource, headers={"ETag": stored.etag})


@router.post("/ObservationDefinition/{rid}/$set-loinc")
async def set_loinc_analysis(rid: str, request: Request, store: StoreDep, caller: CallerDep, write_rule: WriteRuleDep,
                             if_match: str | None = Header(default=None)) -> Response:
    return await _set_loinc(request, store, caller, write_rule, "ObservationDefinition", rid, if_match)


@router.post("/ActivityDefinition/{rid}/$set-loinc")
async def set_loinc_exam(rid: str, request: Request, store: StoreDep, caller: CallerDep, write_rule: WriteRuleDep,
                         if_match: str | None = Header(default=None)) -> Response:
    return await _set_loinc(request, store, caller, write_rule, "ActivityDefinition", rid, if_match)


@router.post("/CodeSystem/{rid}/$set-loinc")
async def set_loinc_chapter(rid: str, request: Request, store: StoreDep, caller: CallerDep, write_rule: WriteRuleDep,
                            if_match: str | None = Header(default=None)) -> Response:
    """A chapter or sub-chapter of ``CodeSystem/catalogue``, named by the parameter ``concept``."""
    return await _set_loinc(request, store, caller, write_rule, "CodeSystem", rid, if_match)
