"""HTTP routes of the order workflow; registered before the generic FHIR router so ``$op`` paths win."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from resources.fhirjson import loads
from server.deps import CallerDep, StoreDep, WriteRuleDep
from server.orders.label import specimen_label
from server.orders.order import place_order
from server.orders.refusal import change_refusal
from server.responses import fhir_response

router = APIRouter()


@router.post("/ServiceRequest/$order")
async def order(request: Request, store: StoreDep, caller: CallerDep, write_rule: WriteRuleDep) -> Response:
    return fhir_response(await place_order(store, loads(await request.body() or b"null"), caller=caller,
                                           write_rule=write_rule), 201)


@router.post("/ServiceRequest/$refusal")
async def refusal(request: Request, store: StoreDep, caller: CallerDep, write_rule: WriteRuleDep) -> Response:
    return fhir_response(await change_refusal(store, loads(await request.body() or b"null"), caller=caller,
                                              write_rule=write_rule))


@router.get("/Specimen/{rid}/$label")
async def label(rid: str, store: StoreDep, caller: CallerDep) -> Response:
    pdf = await specimen_label(store, rid, caller)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="specimen-{rid}.pdf"'})
