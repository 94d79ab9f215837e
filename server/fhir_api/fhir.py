"""The FHIR REST API at ``/fhir``: each route reads the request, calls one interaction, writes the
response. No database code and no error JSON here (see server/error_handler.py)."""

from __future__ import annotations

import asyncio
from importlib.metadata import version
from typing import Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import Response

from resources import interactions
from resources.errors import InvalidInput, SglError
from resources.fhirjson import loads
from resources.interactions import Outcome, ReferenceCheck
from resources.search.date import now_utc
from resources.search.elements import parse_elements, subset
from resources.search.query import stated
from server.access.enforce import request_caller
from server.audit import record_document_read, record_patient_access
from server.capability import capability_statement
from server.deps import AccessDep, BaseUrl, StoreDep, WriteRuleDep
from server.responses import fhir_response

JSON_FORMATS = frozenset({"json", "application/json", "application/fhir+json", "application/json+fhir"})
"""``_format`` values and ``Accept`` types this server writes (``application/json+fhir``: the DSTU2/STU3 name)."""
JSON_RANGES = JSON_FORMATS | {"*/*", "application/*"}


class NotAcceptable(SglError):
    status = 406
    issue_code = "not-supported"


def _accepts_json(accept: str) -> bool:
    """Whether an ``Accept`` header lets the answer be FHIR JSON: no header, or one media range (with q above 0)
    that JSON matches. A browser's ``text/html,...,*/*;q=0.8`` does (``*/*``); ``text/html`` alone does not."""
    if not accept.strip():
        return True
    for item in accept.split(","):
        kind, *params = [part.strip().lower() for part in item.split(";")]
        weight = next((p.partition("=")[2].strip() for p in params if p.startswith("q=")), "1")
        try:
            acceptable = float(weight) > 0
        except ValueError:
            acceptable = True  # a malformed weight is read as the default, as most servers do
        if kind in JSON_RANGES and acceptable:
            return True
    return False


async def _json_acceptable(request: Request) -> None:
    """406 for a client that accepts no FHIR JSON: this server writes only that, and it answered 200 with JSON
    a client asking for XML or HTML (``Accept: text/html``) had not asked for. ``_format`` overrides ``Accept``
    (FHIR R4 http.html, "Content Types and encodings": for clients that cannot set the header), so
    ``_format=json`` with an XML ``Accept`` is served. A Binary keeps its own content type."""
    if request.path_params.get("rtype") == "Binary":
        return
    formats = [value.split(";")[0].strip().lower() for value in request.query_params.getlist("_format")
               if value.strip()]  # ``application/fhir+json; fhirVersion=4.0``: the type decides
    if formats:
        if any(f not in JSON_FORMATS for f in formats):
            raise NotAcceptable(f"_format {', '.join(formats)}: this server answers FHIR JSON (_format=json) only",
                                expression="_format")
        return
    if not _accepts_json(request.headers.get("accept", "")):
        raise NotAcceptable("this server answers FHIR JSON (application/fhir+json) only", expression="Accept")


router = APIRouter(dependencies=[Depends(_json_acceptable)])
# HEAD on every read and search route (the same handler, the same permission: server/access/doors.py reads HEAD
# as GET; the HTTP server drops the body): RFC 9110 makes HEAD the GET without its content, R4 Bundle.request.method
# lists it, and a cache or client checking an ETag or a count header got 405 for it.


def _pairs(request: Request) -> list[tuple[str, str]]:
    """The search (or history) parameters of the URL; an empty one is ignored (``stated``: FHIR R4 search)."""
    return stated(list(request.query_params.multi_items()))


def _strict(prefer: str | None) -> bool:
    return bool(prefer) and "handling=strict" in str(prefer).replace(" ", "")


_PARSE_IN_THREAD = 256 * 1024


async def _body(request: Request) -> Any:
    """The JSON body; a large one is parsed in a worker thread, off the event loop."""
    raw = await request.body()
    if not raw:
        raise InvalidInput("the request has no body")
    return await asyncio.to_thread(loads, raw) if len(raw) > _PARSE_IN_THREAD else loads(raw)


def _respond(outcome: Outcome, prefer: str | None, base: str) -> Response:
    """Honour ``Prefer: return=minimal`` (no body) and ``return=OperationOutcome`` (R4 http.html: an
    OperationOutcome in place of the resource, the status and headers unchanged); make ``Location`` absolute as
    FHIR clients expect."""
    body = outcome.resource
    wanted = (prefer or "").replace(" ", "")
    if "return=minimal" in wanted:
        body = None
    elif "return=OperationOutcome" in wanted and body is not None:
        what = f"{body.get('resourceType')}/{body.get('id')}"
        body = {"resourceType": "OperationOutcome", "issue": [{
            "severity": "information", "code": "informational",
            "diagnostics": f"{what} {'created' if outcome.status == 201 else 'stored'}"
                           f" (version {outcome.headers.get('ETag', '?')})"}]}
    headers = dict(outcome.headers)
    if "Location" in headers:
        headers["Location"] = f"{base}/{headers['Location']}"
    return fhir_response(body, outcome.status, headers)


def _not_modified(if_none_match: str | None, etag: str) -> bool:
    """``If-None-Match`` by the weak comparison HTTP prescribes for it (RFC 9110 13.1.2): ``W/"1"`` and ``"1"``
    both match version 1, a list matches if one of its tags does, ``*`` matches any current version. Only the exact
    ``W/"1"`` string got its 304 before; a cache sending the strong form or ``*`` read the whole resource again."""
    if not if_none_match or not etag:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag.removeprefix("W/") in tags


async def _audited(request: Request, store: StoreDep, body: dict[str, Any] | None, interaction: str) -> None:
    """Every identity read or change, traced with the authenticated caller (SGL.INS.03, SGL.INS.17)."""
    caller = request_caller(request)
    await record_patient_access(store, body, who=caller, interaction=interaction, query=str(request.url.query) or None)


@router.get("/metadata")
@router.head("/metadata", include_in_schema=False)
async def metadata(request: Request, base: BaseUrl) -> Response:
    return fhir_response(_statement(request, base))


def _statement(request: Request, base: str) -> dict[str, Any]:
    """The CapabilityStatement, for ``/metadata`` and a batch's ``GET metadata`` entry."""
    paths = list(request.app.openapi()["paths"])  # every routed path, prefixes applied (cached by FastAPI)
    return capability_statement(base=base, version=version("opensgl"), date=now_utc().date().isoformat(),
                                paths=paths)


@router.post("")
@router.post("/", include_in_schema=False)
async def bundle(request: Request, store: StoreDep, base: BaseUrl, write_rule: WriteRuleDep,
                 access: AccessDep) -> Response:
    body = await _body(request)
    result = await interactions.process_bundle(store, body, base=base, write_rule=write_rule, access=access,
                                               capability=lambda: _statement(request, base))
    await _audited(request, store, result, str(body.get("type", "batch")))
    return fhir_response(result)


@router.get("/{rtype}")
@router.head("/{rtype}", include_in_schema=False)
async def search(rtype: str, request: Request, store: StoreDep, base: BaseUrl, access: AccessDep,
                 prefer: str | None = Header(default=None)) -> Response:
    result = await interactions.search(store, rtype, _pairs(request), base=base, strict=_strict(prefer), access=access)
    await _audited(request, store, result, "search")
    return fhir_response(result)


@router.post("/{rtype}/_search")
async def search_post(rtype: str, request: Request, store: StoreDep, base: BaseUrl, access: AccessDep,
                      prefer: str | None = Header(default=None)) -> Response:
    form = await request.form()
    pairs = _pairs(request) + stated([(k, str(v)) for k, v in form.multi_items()])
    result = await interactions.search(store, rtype, pairs, base=base, strict=_strict(prefer), access=access)
    await _audited(request, store, result, "search")
    return fhir_response(result)


@router.post("/{rtype}")
async def create(rtype: str, request: Request, store: StoreDep, base: BaseUrl, write_rule: WriteRuleDep,
                 access: AccessDep, prefer: str | None = Header(default=None),
                 if_none_exist: str | None = Header(default=None)) -> Response:
    outcome = await interactions.create(store, rtype, await _body(request), if_none_exist=if_none_exist,
                                        write_rule=write_rule, access=access, references=ReferenceCheck(base))
    await _audited(request, store, outcome.resource, "create" if outcome.status == 201 else "read")
    return _respond(outcome, prefer, base)


@router.put("/{rtype}")
async def conditional_update(rtype: str, request: Request, store: StoreDep, base: BaseUrl, write_rule: WriteRuleDep,
                             access: AccessDep, prefer: str | None = Header(default=None)) -> Response:
    outcome = await interactions.conditional_update(store, rtype, str(request.url.query), await _body(request),
                                                    write_rule=write_rule, access=access,
                                                    references=ReferenceCheck(base))
    await _audited(request, store, outcome.resource, "update")
    return _respond(outcome, prefer, base)


@router.get("/{rtype}/_history")
@router.head("/{rtype}/_history", include_in_schema=False)
async def type_history(rtype: str, request: Request, store: StoreDep, base: BaseUrl) -> Response:
    result = await interactions.history(store, rtype, None, _pairs(request), base=base)
    await _audited(request, store, result, "history")
    return fhir_response(result)


@router.get("/{rtype}/{rid}")
@router.head("/{rtype}/{rid}", include_in_schema=False)
async def read(rtype: str, rid: str, request: Request, store: StoreDep,
               if_none_match: str | None = Header(default=None)) -> Response:
    # ``_elements``: the same subset as a search's matches (resources/search/elements.py); checked before the read
    names = tuple(n for raw in request.query_params.getlist("_elements") for n in parse_elements(raw))
    outcome = await interactions.read(store, rtype, rid)
    if _not_modified(if_none_match, outcome.headers.get("ETag", "")):
        return Response(status_code=304, headers=outcome.headers)
    await _audited(request, store, outcome.resource, "read")
    await record_document_read(store, outcome.resource, who=request_caller(request), interaction="read")
    if names and outcome.resource is not None:
        return fhir_response(subset(outcome.resource, names), 200, outcome.headers)
    return fhir_response(outcome.resource, 200, outcome.headers)


@router.put("/{rtype}/{rid}")
async def update(rtype: str, rid: str, request: Request, store: StoreDep, base: BaseUrl, write_rule: WriteRuleDep,
                 prefer: str | None = Header(default=None), if_match: str | None = Header(default=None)) -> Response:
    outcome = await interactions.update(store, rtype, rid, await _body(request), if_match=if_match,
                                        write_rule=write_rule, references=ReferenceCheck(base))
    await _audited(request, store, outcome.resource, "update")
    return _respond(outcome, prefer, base)


@router.delete("/{rtype}")
async def conditional_delete(rtype: str, request: Request, store: StoreDep, write_rule: WriteRuleDep,
                             access: AccessDep) -> Response:
    outcome = await interactions.conditional_delete(store, rtype, str(request.url.query), write_rule=write_rule,
                                                    access=access)
    if rtype == "Patient" and outcome.stored is not None:
        await record_patient_access(store, None, who=request_caller(request), interaction="delete",
                                    patient_ids=[outcome.stored.id])
    return fhir_response(None, outcome.status, outcome.headers)


@router.delete("/{rtype}/{rid}")
async def delete(rtype: str, rid: str, request: Request, store: StoreDep, write_rule: WriteRuleDep,
                 if_match: str | None = Header(default=None)) -> Response:
    outcome = await interactions.delete(store, rtype, rid, if_match=if_match, write_rule=write_rule)
    if rtype == "Patient":
        await record_patient_access(store, None, who=request_caller(request), interaction="delete",
                                    patient_ids=[rid])
    return fhir_response(None, outcome.status, outcome.headers)


@router.get("/{rtype}/{rid}/_history")
@router.head("/{rtype}/{rid}/_history", include_in_schema=False)
async def instance_history(rtype: str, rid: str, request: Request, store: StoreDep, base: BaseUrl) -> Response:
    result = await interactions.history(store, rtype, rid, _pairs(request), base=base)
    await _audited(request, store, result, "history")
    return fhir_response(result)


@router.get("/{rtype}/{rid}/_history/{vid}")
@router.head("/{rtype}/{rid}/_history/{vid}", include_in_schema=False)
async def vread(rtype: str, rid: str, vid: str, request: Request, store: StoreDep) -> Response:
    outcome = await interactions.vread(store, rtype, rid, vid)
    await _audited(request, store, outcome.resource, "vread")
    await record_document_read(store, outcome.resource, who=request_caller(request), interaction="vread")
    return fhir_response(outcome.resource, 200, outcome.headers)
