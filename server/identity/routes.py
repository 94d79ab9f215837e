"""The identity operations under ``/fhir``.

Thin handlers: each reads the request, builds the :class:`Scope`, calls one operation module and
traces the patients returned (SGL.INS.03). Listed before the generic FHIR router in
``server/wiring.py`` (``ROUTERS``, precedence order; the overlap ``GET Patient/$duplicates`` is declared
in ``ROUTE_OVERLAPS``), so the ``$`` paths win. Who may call them, and who may read Patients at all
(REST, batch, ``_include``), is the permission table's answer (``server/access``), checked before any handler runs. The
``{rid:fhirid}`` convertor only matches a FHIR id.
"""

from __future__ import annotations

import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.convertors import Convertor, register_url_convertor

from resources.errors import InvalidInput
from resources.fhirjson import loads
from server.audit import record_patient_access
from server.deps import BaseUrl, CallerDep, ContextDep, WriteRuleDep
from server.identity.duplicates import duplicates
from server.identity.identity_label import identity_label
from server.identity.insi_search import insi_search
from server.identity.insi_verify import insi_verify
from server.identity.merge import merge
from server.identity.parameters import Params, parameters
from server.identity.receive import receive_identity
from server.identity.scope import Scope
from server.identity.validate_identity import validate_identity
from server.identity.verify_all import candidates, verify_all
from server.responses import fhir_response


class FhirIdConvertor(Convertor[str]):
    regex = r"[A-Za-z0-9\-\.]{1,64}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("fhirid", FhirIdConvertor())
router = APIRouter()


async def _scope(ctx: ContextDep, caller: CallerDep, write_rule: WriteRuleDep) -> Scope:
    return Scope(ctx.store, ctx.settings, caller, write_rule)


ScopeDep = Annotated[Scope, Depends(_scope)]


async def _params(request: Request) -> Params:
    raw = await request.body()
    if not raw:
        raise InvalidInput("the operation needs a Parameters body", expression="Parameters")
    return Params(loads(raw))


async def _traced(scope: Scope, request: Request, body: dict[str, Any], operation: str) -> Response:
    flat = {"resourceType": "Bundle", "entry": [{"resource": p["resource"]} for p in body.get("parameter", [])
                                                 if p.get("name") == "patient"]} if body.get("parameter") else body
    await record_patient_access(scope.store, flat, who=scope.caller, interaction=operation,
                                query=str(request.url.query) or None)
    return fhir_response(body)


@router.post("/Patient/$insi-search")
async def insi_search_route(request: Request, scope: ScopeDep) -> Response:
    return await _traced(scope, request, await insi_search(scope, await _params(request)), "$insi-search")


@router.post("/Patient/{rid:fhirid}/$insi-verify")
async def insi_verify_route(rid: str, request: Request, scope: ScopeDep) -> Response:
    return await _traced(scope, request, await insi_verify(scope, rid), "$insi-verify")


@router.post("/Patient/{rid:fhirid}/$validate-identity")
async def validate_identity_route(rid: str, request: Request, scope: ScopeDep) -> Response:
    return await _traced(scope, request, await validate_identity(scope, rid, await _params(request)),
                         "$validate-identity")


@router.post("/Patient/$receive-identity")
async def receive_identity_route(request: Request, scope: ScopeDep) -> Response:
    return await _traced(scope, request, await receive_identity(scope, await _params(request)), "$receive-identity")


@router.post("/Patient/$insi-verify-all")
async def insi_verify_all_route(scope: ScopeDep) -> Response:
    """The bulk verification (SGL.INS.58) in one request; the CLI does the same with a progress bar."""
    report = io.StringIO()
    tally = await verify_all(scope, await candidates(scope), report, lambda: None)
    return fhir_response(parameters(("checked", tally.checked), ("ok", tally.ok), ("ko", tally.ko),
                                    ("errors", tally.errors), ("report", report.getvalue())))


@router.get("/Patient/$duplicates")
async def duplicates_route(request: Request, scope: ScopeDep, base: BaseUrl) -> Response:
    return await _traced(scope, request, await duplicates(scope, list(request.query_params.multi_items()), base),
                         "$duplicates")


@router.post("/Patient/$merge")
async def merge_route(request: Request, scope: ScopeDep) -> Response:
    return await _traced(scope, request, await merge(scope, await _params(request)), "$merge")


@router.get("/Patient/{rid:fhirid}/$identity-label")
async def identity_label_route(rid: str, scope: ScopeDep) -> Response:
    pdf = await identity_label(scope, rid)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="identite-{rid}.pdf"'})
