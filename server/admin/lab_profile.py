"""``GET|POST /fhir/Organization/$lab-profile``: the lab's texts printed on every CR-Bio (RGPD information,
Cofrac number, autoverification notice) and the general setting ``versions`` (``single``: one CR-Bio;
``patient-professional``: a patient and a professional version, SGL.DOC.02; absent from a POST: unchanged),
what the workbench's "Profil du laboratoire" section reads and saves (permission row
``Organization:$lab-profile``, administrators only). The answer is a ``Parameters``: the texts and the setting
as the next document will use them and ``source`` (``stored``, or ``environment`` while only the
``SGL_LAB_PROFILE`` file applies). Saving is traced by an AuditEvent (``server/documents/stored_profile.py``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pymongo.asynchronous.database import AsyncDatabase

from resources.fhirjson import loads
from server.admin import shapes
from server.deps import CallerDep, SettingsDep, StoreDep
from server.documents import stored_profile
from server.documents.profile import load_profile
from server.responses import fhir_response

router = APIRouter()
NAMES = {"rgpd": "rgpd", "cofrac-number": "cofrac_number", "autoverification": "autoverification"}


def _db(request: Request) -> AsyncDatabase[Any]:
    db: AsyncDatabase[Any] = request.app.state.database.db
    return db


async def _current(request: Request, settings: SettingsDep) -> dict[str, Any]:
    db = _db(request)
    saved = await stored_profile.stored_texts(db)
    profile = await stored_profile.effective(db, load_profile(settings.lab_profile))
    texts = profile.texts()
    values = {"rgpd": profile.rgpd, "cofrac-number": profile.cofrac_number or "",
              "autoverification": profile.autoverification or texts.autoverification}
    parts: list[dict[str, Any]] = [{"name": name, "valueString": value} for name, value in values.items()]
    parts.append({"name": "versions", "valueCode": profile.versions})
    parts.append({"name": "source", "valueCode": "stored" if saved else "environment"})
    if saved:
        parts.append({"name": "updated", "valueInstant": saved["updated"]})
        by = saved["by"]
        parts.append({"name": "by", "valueString": str(by.get("display") or by["identifier"]["value"])})
    return {"resourceType": "Parameters", "parameter": parts}


@router.get("/Organization/$lab-profile")
async def read_lab_profile(request: Request, settings: SettingsDep) -> Response:
    return fhir_response(await _current(request, settings))


@router.post("/Organization/$lab-profile")
async def save_lab_profile(request: Request, settings: SettingsDep, store: StoreDep, caller: CallerDep) -> Response:
    raw = await request.body()
    params = shapes.parameters(loads(raw) if raw.strip() else None, "lab-profile")
    values = {field: shapes.one_text(params, name, limit=stored_profile.LIMITS[field]) for name, field in NAMES.items()}
    versions = shapes.one_text(params, "versions", limit=40)
    await stored_profile.save(_db(request), store, caller, values, versions)
    return fhir_response(await _current(request, settings))
