"""FHIR Bulk Data export over HTTP (SGL.PORT.01), administrators only (see server/access/permissions.py):

- ``GET|POST /fhir/$export`` (the whole store) and ``GET|POST /fhir/Patient/$export`` (the Patient
  compartment), with ``Prefer: respond-async``: ``_type``, ``_since``, ``_outputFormat`` (ndjson),
  ``patient`` (POST Parameters references, or a comma list on GET) and ``crbio=true`` (the CR-Bio files);
  any other parameter is refused (400) unless ``Prefer: handling=lenient``.
  Answers 202 with ``Content-Location`` = the status URL.
- ``GET /fhir/$export-status/{id}``: 202 + ``X-Progress`` while running, 200 + the manifest when complete,
  500 + OperationOutcome if it failed; ``DELETE`` cancels it and removes its files (202).
- ``GET /fhir/$export-file/{id}/{name}``: one output file (``application/fhir+ndjson``, or the CR-Bio files).

A job belongs to the caller who started it: another caller gets 404 for its URLs.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from resources.errors import InvalidInput, NotFound, SglError
from resources.fhirjson import loads
from server.deps import BaseUrl, CallerDep, SettingsDep, StoreDep
from server.portability import runner
from server.portability.jobs import Job
from server.portability.selection import Selection, checked

router = APIRouter()
NDJSON = "application/fhir+ndjson"
_FORMATS = ("application/fhir+ndjson", "application/ndjson", "ndjson")
_KNOWN = {"_type", "_since", "_outputFormat", "patient", "crbio"}
_FILE = re.compile(r"^(?:[A-Za-z]+\.ndjson|crbio\.csv|crbio/[A-Za-z0-9\-.]+\.(?:xml|pdf|bin))$")


def _since(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(f"_since: {text!r} is not a FHIR instant", expression="_since") from exc
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _patient_ids(values: list[str]) -> tuple[str, ...]:
    out = []
    for value in values:
        for item in (v.strip() for v in value.split(",") if v.strip()):
            rid = item.removeprefix("Patient/")
            if not re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", rid):
                raise InvalidInput(f"patient: {item!r} is not a Patient reference", expression="patient")
            out.append(rid)
    return tuple(out)


async def _params(request: Request) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    if request.method == "POST":
        body = await request.body()
        if body.strip():
            parsed: Any = loads(body)
            if not isinstance(parsed, dict) or parsed.get("resourceType") != "Parameters":
                raise InvalidInput("the kick-off body is a Parameters resource", expression="Parameters")
            for param in parsed.get("parameter", []):
                found: Any = next((v for k, v in param.items() if k.startswith("value")), None)
                if isinstance(found, dict):
                    found = found.get("reference")
                if found is not None:
                    params.setdefault(str(param.get("name")), []).append(str(found))
    return params


async def _kick_off(request: Request, level: str, store: StoreDep, settings: SettingsDep, caller: CallerDep,
                    base: str) -> Response:
    if "respond-async" not in request.headers.get("prefer", ""):
        raise InvalidInput("a Bulk Data export is asynchronous: send 'Prefer: respond-async'", expression="Prefer")
    params = await _params(request)
    unknown = sorted(set(params) - _KNOWN)
    if unknown and "handling=lenient" not in request.headers.get("prefer", ""):
        raise InvalidInput(f"unsupported export parameters {unknown} (send 'Prefer: handling=lenient' to ignore them)",
                           expression=unknown[0])
    formats = params.get("_outputFormat", [])
    if any(f not in _FORMATS for f in formats):
        raise InvalidInput(f"_outputFormat: only {NDJSON} is written", expression="_outputFormat")
    types = tuple(t.strip() for v in params.get("_type", []) for t in v.split(",") if t.strip())
    since = _since(params["_since"][0]) if params.get("_since") else None
    crbio = params.get("crbio", ["false"])[0].lower() == "true"
    selection = checked(Selection(level, types, _patient_ids(params.get("patient", [])), since, crbio))
    job = Job.new(caller.id, settings.data_dir / "exports", selection, str(request.url))
    await store.db["export_jobs"].insert_one(job.document())
    runner.start(store.db, job)
    return Response(status_code=202, headers={"Content-Location": f"{base}/$export-status/{job.id}"})


@router.get("/$export")
@router.post("/$export")
async def system_export(request: Request, store: StoreDep, settings: SettingsDep, caller: CallerDep,
                        base: BaseUrl) -> Response:
    return await _kick_off(request, "system", store, settings, caller, base)


@router.get("/Patient/$export")
@router.post("/Patient/$export")
async def patient_export(request: Request, store: StoreDep, settings: SettingsDep, caller: CallerDep,
                         base: BaseUrl) -> Response:
    return await _kick_off(request, "patient", store, settings, caller, base)


async def _job(store: StoreDep, caller: CallerDep, rid: str) -> Job:
    job = await runner.current(store.db, rid, caller.id)
    if job is None:
        raise NotFound(f"no export {rid} of yours")
    return job


class ExportFailed(SglError):
    status = 500


@router.get("/$export-status/{rid}")
async def export_status(rid: str, store: StoreDep, caller: CallerDep, base: BaseUrl) -> Response:
    job = await _job(store, caller, rid)
    if job.status == "error":
        raise ExportFailed(f"the export failed: {job.error}")
    if job.status != "complete":
        return Response(status_code=202, headers={"X-Progress": f"{job.written()} resources written",
                                                  "Retry-After": "2"})
    manifest = job.manifest(lambda name: f"{base}/$export-file/{job.id}/{name}")
    return Response(orjson.dumps(manifest), media_type="application/json")  # the IG's type for the manifest


@router.delete("/$export-status/{rid}")
async def export_cancel(rid: str, store: StoreDep, caller: CallerDep) -> Response:
    job = await _job(store, caller, rid)
    await runner.cancel(store.db, job)
    return Response(status_code=202)


@router.get("/$export-file/{rid}/crbio/{name}")
async def export_crbio_file(rid: str, name: str, store: StoreDep, caller: CallerDep) -> Response:
    return await export_file(rid, f"crbio/{name}", store, caller)


@router.get("/$export-file/{rid}/{name}")
async def export_file(rid: str, name: str, store: StoreDep, caller: CallerDep) -> Response:
    job = await _job(store, caller, rid)
    path = Path(job.directory) / name
    if job.status != "complete" or not _FILE.match(name) or not path.is_file():
        raise NotFound(f"no file {name} in export {rid}")
    media = NDJSON if name.endswith(".ndjson") else ("text/csv" if name.endswith(".csv") else None)
    return FileResponse(path, media_type=media)
