"""The administration over the FHIR API, what the workbench's "Administration" screen calls and an integrator
may call the same way (the permission rows ``Person`` and ``Endpoint`` of ``server/access/permissions.py``):

- ``GET /fhir/Person``: the local accounts (``Person``, see ``shapes``); ``POST /fhir/Person/$create-account``
  (``username``, ``role``, ``password``, ``name``, ``rpps``, ``practitioner``) answers 201 and the Person;
- ``POST /fhir/Person/{login}/$disable`` | ``$enable`` | ``$unlock``, ``$set-role`` (``role``) and
  ``$set-password`` (``password``): the Person after the change (``$set-password``: 204, nothing echoed);
- ``GET /fhir/Endpoint``: the socket partners; ``POST /fhir/Endpoint/$add-partner`` (the fields of
  ``sgl partners import``) answers 201 and the Endpoint; ``DELETE /fhir/Endpoint/{name}`` unregisters it;
  ``POST /fhir/Endpoint/{name}/$set-mappings`` (``identifier_types``, ``options``: repeated ``KEY=VALUE``, the
  complete new lists) with ``If-Match: W/"<meta.versionId>"`` answers the Endpoint at its next version (412 when
  it changed since it was read).

Each call runs the service function ``sgl users`` / ``sgl partners`` run (``server/access/administration.py``,
``server/partners/administration.py``), traced by an AuditEvent.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pymongo.asynchronous.database import AsyncDatabase

from resources.fhirjson import loads
from resources.interactions.common import version_from_etag
from server.access import accounts
from server.access import administration as users
from server.admin import shapes
from server.deps import BaseUrl, CallerDep, ContextDep, StoreDep
from server.partners import administration as partners
from server.responses import fhir_response

router = APIRouter()


def _db(request: Request) -> AsyncDatabase[Any]:
    db: AsyncDatabase[Any] = request.app.state.database.db
    return db


async def _params(request: Request, operation: str) -> dict[str, list[Any]]:
    raw = await request.body()
    return shapes.parameters(loads(raw) if raw.strip() else None, operation)


async def _person(db: AsyncDatabase[Any], user: accounts.User) -> dict[str, Any]:
    return shapes.person(user, await accounts.locked_until(db, user.username))


@router.get("/Person")
async def list_accounts(request: Request, base: BaseUrl) -> Response:
    db = _db(request)
    return fhir_response(shapes.searchset([await _person(db, u) for u in await accounts.list_users(db)], base))


@router.post("/Person/$create-account")
async def create_account(request: Request, store: StoreDep, caller: CallerDep, base: BaseUrl) -> Response:
    params = await _params(request, "create-account")
    password = shapes.one_text(params, "password", required=True, limit=1024) or ""
    user = await users.create(_db(request), store, caller, shapes.one_text(params, "username", required=True) or "",
                              password, role=shapes.one_text(params, "role", required=True) or "",
                              name=shapes.one_text(params, "name"), rpps=shapes.one_text(params, "rpps"),
                              practitioner=shapes.one_text(params, "practitioner"))
    return fhir_response(shapes.person(user), 201, {"Location": f"{base}/Person/{user.username}"})


@router.post("/Person/{rid}/$disable")
async def disable_account(rid: str, request: Request, store: StoreDep, caller: CallerDep) -> Response:
    db = _db(request)
    return fhir_response(await _person(db, await users.set_status(db, store, caller, rid, "disabled")))


@router.post("/Person/{rid}/$enable")
async def enable_account(rid: str, request: Request, store: StoreDep, caller: CallerDep) -> Response:
    db = _db(request)
    return fhir_response(await _person(db, await users.set_status(db, store, caller, rid, "active")))


@router.post("/Person/{rid}/$unlock")
async def unlock_account(rid: str, request: Request, store: StoreDep, caller: CallerDep) -> Response:
    db = _db(request)
    await users.unlock(db, store, caller, rid)
    user = await accounts.find_user(db, rid)
    return fhir_response(shapes.person(user) if user else None)


@router.post("/Person/{rid}/$set-role")
async def set_account_role(rid: str, request: Request, store: StoreDep, caller: CallerDep) -> Response:
    role = shapes.one_text(await _params(request, "set-role"), "role", required=True) or ""
    db = _db(request)
    return fhir_response(await _person(db, await users.set_role(db, store, caller, rid, role)))


@router.post("/Person/{rid}/$set-password")
async def set_account_password(rid: str, request: Request, store: StoreDep, caller: CallerDep) -> Response:
    password = shapes.one_text(await _params(request, "set-password"), "password", required=True, limit=1024) or ""
    await users.set_password(_db(request), store, caller, rid, password)
    return Response(status_code=204)


@router.get("/Endpoint")
async def list_partners(ctx: ContextDep, base: BaseUrl) -> Response:
    return fhir_response(shapes.searchset([shapes.endpoint(p, v) for p, v in await ctx.partners.versions()], base))


@router.post("/Endpoint/$add-partner")
async def add_partner(request: Request, ctx: ContextDep, store: StoreDep, caller: CallerDep,
                      base: BaseUrl) -> Response:
    partner = partners.from_fields(shapes.partner_fields(await _params(request, "add-partner")))
    await partners.add(ctx.partners, store, caller, partner)
    return fhir_response(shapes.endpoint(partner), 201, {"Location": f"{base}/Endpoint/{partner.name}"})


@router.delete("/Endpoint/{rid}")
async def remove_partner(rid: str, ctx: ContextDep, store: StoreDep, caller: CallerDep) -> Response:
    await partners.remove(ctx.partners, store, caller, rid)
    return Response(status_code=204)


@router.post("/Endpoint/{rid}/$set-mappings")
async def set_partner_mappings(rid: str, request: Request, ctx: ContextDep, store: StoreDep,
                               caller: CallerDep) -> Response:
    expected = version_from_etag(request.headers.get("if-match"))
    identifier_types, options = shapes.mappings(await _params(request, "set-mappings"))
    partner, version = await partners.set_mappings(ctx.partners, store, caller, rid, expected, identifier_types,
                                                    options)
    return fhir_response(shapes.endpoint(partner, version), 200, {"ETag": f'W/"{version}"'})
