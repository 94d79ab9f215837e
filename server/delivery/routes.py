"""FHIR operations on the deliveries of a report (permission rows in ``server/access/permissions.py``):

    GET  /fhir/DiagnosticReport/{id}/$deliveries       every delivery of the report, attempts and answers
    POST /fhir/DiagnosticReport/{id}/$delivery-retry   Parameters: delivery (string, 0..*)
    POST /fhir/DiagnosticReport/{id}/$delivery-cancel  Parameters: delivery (string, 0..*), reason (1)
    GET  /fhir/Patient/{id}/$deliveries                every exchange of the patient: its reports' documents,
                                                       its refused tubes' notices and identity messages (SGL.INS.50)
    GET  /fhir/Communication/{id}/$deliveries          a refused tube's notice mailed to the requesters (notices.py)
    POST /fhir/Communication/{id}/$delivery-retry      Parameters: delivery (string, 0..*): after an address is entered
    POST /fhir/DiagnosticReport/{id}/$mssante-send     Parameters: recipient / address / patient (mssante_send.py)

Answers are ``Parameters``: one ``delivery`` part per delivery (its JSON in ``valueString`` for the
listing; the ids changed for retry and cancel).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from resources.errors import Conflict
from server.access.enforce import request_caller
from server.delivery import manage
from server.delivery.mssante_channel import operator_config
from server.delivery.mssante_send import ManualSend, read_choice
from server.delivery.service import lab_site
from server.deps import StoreDep
from server.responses import fhir_response
from server.validation.params import parameters, text

router = APIRouter()


def _db(request: Request) -> Any:
    return request.app.state.database.db


def _ids(params: list[dict[str, Any]]) -> list[str]:
    return [str(p.get("valueString", "")).strip() for p in params if p["name"] == "delivery"]


def _answer(ids: list[str]) -> Response:
    return fhir_response({"resourceType": "Parameters",
                          "parameter": [{"name": "delivery", "valueString": i} for i in ids]})


@router.get("/DiagnosticReport/{rid}/$deliveries")
async def deliveries(rid: str, request: Request, store: StoreDep) -> Response:
    await store.read("DiagnosticReport", rid)  # 404 / 410 for an unknown report
    return _listing(await manage.find(_db(request), report_id=rid))


@router.get("/Patient/{rid}/$deliveries")
async def patient_deliveries(rid: str, request: Request, store: StoreDep) -> Response:
    await store.read("Patient", rid)  # 404 / 410 for an unknown patient
    found = await manage.find(_db(request), patient=f"Patient/{rid}", limit=1000)
    return _listing(found)


@router.get("/Communication/{rid}/$deliveries")
async def notice_deliveries(rid: str, request: Request, store: StoreDep) -> Response:
    await store.read("Communication", rid)  # 404 / 410 for an unknown notice
    return _listing(await manage.find(_db(request), notice=f"Communication/{rid}"))


@router.post("/Communication/{rid}/$delivery-retry")
async def notice_retry(rid: str, request: Request, store: StoreDep) -> Response:
    await store.read("Communication", rid)
    params = parameters(await request.body())
    return _answer(await manage.retry(_db(request), _ids(params), notice=f"Communication/{rid}",
                                      by=request_caller(request).display))


def _listing(found: list[dict[str, Any]]) -> Response:
    return fhir_response({"resourceType": "Parameters", "parameter": [
        {"name": "delivery", "valueString": json.dumps(manage.as_json(d), ensure_ascii=False)} for d in found]})


@router.post("/DiagnosticReport/{rid}/$delivery-retry")
async def delivery_retry(rid: str, request: Request, store: StoreDep) -> Response:
    await store.read("DiagnosticReport", rid)
    params = parameters(await request.body())
    return _answer(await manage.retry(_db(request), _ids(params), report_id=rid, by=request_caller(request).display))


@router.post("/DiagnosticReport/{rid}/$delivery-cancel")
async def delivery_cancel(rid: str, request: Request, store: StoreDep) -> Response:
    await store.read("DiagnosticReport", rid)
    params = parameters(await request.body())
    reason = text(params, "reason", required=True) or ""
    return _answer(await manage.cancel(_db(request), _ids(params), report_id=rid, by=request_caller(request).display,
                                       reason=reason))


@router.post("/DiagnosticReport/{rid}/$mssante-send")
async def mssante_send(rid: str, request: Request, store: StoreDep) -> Response:
    choice = read_choice(parameters(await request.body()))
    if operator_config(request.app.state.settings) is None:
        raise Conflict("MSSanté sending is not configured on this server (SGL_MSS_SMTP, _CERT, _KEY, _CA, _FROM)")
    sender = ManualSend(_db(request), store, lab_site(request.app.state.settings))
    written = await sender.send(rid, choice, request_caller(request).display)
    return _answer([key if new else f"already {key}" for key, new in written])
