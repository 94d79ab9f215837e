"""Copies of identity documents (SGL.INS.57): the scan of the ID card or passport a desk keeps as the
high-trust justificatif behind a validated identity, encrypted at rest and deleted by the retention job.

The system kept none before: the justificatif was recorded by its kind only (``$validate-identity``). This is the
minimal storage the requirement describes: collection ``identity_documents``, one line per copy (patient,
media type, size, who, when) with the copy sealed by ``envelope.py``; the key comes from the configuration
(``SGL_IDENTITY_DOCUMENT_KEY_FILE``), never from the database. Without a key file no copy is accepted.

    POST /fhir/Patient/{id}/$identity-document        the copy as the body (image/jpeg, image/png, application/pdf)
    GET  /fhir/Patient/{id}/$identity-document        the patient's copies (Parameters: id, contentType, size, created)
    GET  /fhir/Patient/{id}/$identity-document/{copy} one copy, decrypted
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from bson import Binary
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pymongo.asynchronous.database import AsyncDatabase

from resources.errors import InvalidInput, NotFound
from resources.fhirjson import instant
from resources.search.date import now_utc
from server.access.enforce import request_caller
from server.deps import SettingsDep, StoreDep
from server.responses import fhir_response
from server.retention.envelope import Sealed, load_master_key, open_sealed, seal

COLLECTION = "identity_documents"
MEDIA_TYPES = ("image/jpeg", "image/png", "application/pdf")
MAX_BYTES = 10 * 1024 * 1024
router = APIRouter()


def _aad(copy_id: str, patient: str) -> bytes:
    return f"{copy_id}|{patient}".encode()


def master_key(path: Path | None) -> bytes:
    if path is None:
        raise InvalidInput("copies of identity documents are not kept on this server: no key is configured "
                           "(SGL_IDENTITY_DOCUMENT_KEY_FILE)", expression="SGL_IDENTITY_DOCUMENT_KEY_FILE")
    return load_master_key(path)


async def keep(db: AsyncDatabase[Any], master: bytes, patient: str, content_type: str, content: bytes,
               by: str) -> str:
    if content_type not in MEDIA_TYPES:
        raise InvalidInput(f"an identity document copy is {', '.join(MEDIA_TYPES)}, not {content_type!r}",
                           expression="Content-Type")
    if not content or len(content) > MAX_BYTES:
        raise InvalidInput(f"an identity document copy has 1 to {MAX_BYTES} bytes, not {len(content)}",
                           expression="body")
    copy_id = str(uuid.uuid4())
    sealed = seal(master, content, _aad(copy_id, patient))
    await db[COLLECTION].insert_one({"_id": copy_id, "patient": patient, "content_type": content_type,
                                     "size": len(content), "created": now_utc(), "by": by, "key_id": sealed.key_id,
                                     "wrapped_key": Binary(sealed.wrapped_key),
                                     "ciphertext": Binary(sealed.ciphertext)})
    return copy_id


async def read_copy(db: AsyncDatabase[Any], master: bytes, patient: str, copy_id: str) -> tuple[str, bytes]:
    found = await db[COLLECTION].find_one({"_id": copy_id, "patient": patient})
    if found is None:
        raise NotFound(f"no identity document copy {copy_id!r} for {patient}")
    sealed = Sealed(found["key_id"], bytes(found["wrapped_key"]), bytes(found["ciphertext"]))
    return str(found["content_type"]), open_sealed(master, sealed, _aad(copy_id, patient))


def _db(request: Request) -> AsyncDatabase[Any]:
    db: AsyncDatabase[Any] = request.app.state.database.db
    return db


@router.post("/Patient/{rid}/$identity-document")
async def post_copy(rid: str, request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    master = master_key(settings.identity_document_key_file)
    await store.read("Patient", rid)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    copy_id = await keep(_db(request), master, f"Patient/{rid}", content_type, await request.body(),
                         request_caller(request).display)
    return fhir_response({"resourceType": "Parameters", "parameter": [{"name": "id", "valueString": copy_id}]}, 201)


@router.get("/Patient/{rid}/$identity-document")
async def list_copies(rid: str, request: Request, store: StoreDep) -> Response:
    await store.read("Patient", rid)
    found = _db(request)[COLLECTION].find({"patient": f"Patient/{rid}"}, {"ciphertext": 0, "wrapped_key": 0})
    return fhir_response({"resourceType": "Parameters", "parameter": [
        {"name": "copy", "part": [{"name": "id", "valueString": d["_id"]},
                                  {"name": "contentType", "valueCode": d["content_type"]},
                                  {"name": "size", "valueInteger": d["size"]},
                                  {"name": "created", "valueInstant": instant(d["created"])}]}
        async for d in found.sort("created", 1)]})


@router.get("/Patient/{rid}/$identity-document/{copy_id}")
async def get_copy(rid: str, copy_id: str, request: Request, settings: SettingsDep) -> Response:
    master = master_key(settings.identity_document_key_file)
    content_type, content = await read_copy(_db(request), master, f"Patient/{rid}", copy_id)
    return Response(content, media_type=content_type, headers={"Cache-Control": "no-store"})
