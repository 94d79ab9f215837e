"""``$identity-document`` over HTTP on the session server (configured with a key file outside its data dir, as
tests/conftest.py does): a desk keeps the scan of an ID card, reads it back byte for byte, the database holds
only ciphertext, and roles without the permission, other media types and unknown patients are refused."""

from __future__ import annotations

from typing import Any

import pytest

from server.database import Database
from server.retention.identity_documents import COLLECTION
from tests.support.access import ActAs

SCAN = b"\x89PNG\r\n\x1a\n" + b"CNI MARTIN Louise 1982-04-03 " * 20


async def _patient(act_as: ActAs) -> str:
    desk = await act_as("secretaire")
    created = await desk.post("Patient", json={"resourceType": "Patient", "name": [{"family": "MARTIN",
                                                                                   "given": ["Louise"]}],
                                               "gender": "female", "birthDate": "1982-04-03"})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


@pytest.mark.req("SGL.INS.57")
async def test_a_copy_is_kept_encrypted_and_read_back_SGL_INS_57(act_as: ActAs, sgl_db: Database) -> None:
    pid = await _patient(act_as)
    desk = await act_as("secretaire")
    kept = await desk.post(f"Patient/{pid}/$identity-document", content=SCAN, headers={"Content-Type": "image/png"})
    assert kept.status_code == 201, kept.text
    copy_id = kept.json()["parameter"][0]["valueString"]
    listed = (await desk.get(f"Patient/{pid}/$identity-document")).json()["parameter"]
    parts: dict[str, Any] = {p["name"]: p for p in listed[0]["part"]}
    assert parts["id"]["valueString"] == copy_id and parts["size"]["valueInteger"] == len(SCAN)
    back = await desk.get(f"Patient/{pid}/$identity-document/{copy_id}")
    assert back.status_code == 200 and back.content == SCAN and back.headers["content-type"] == "image/png"
    assert back.headers["cache-control"] == "no-store"
    stored = await sgl_db.db[COLLECTION].find_one({"_id": copy_id})
    assert stored is not None and b"MARTIN" not in bytes(stored["ciphertext"]) and stored["patient"] == f"Patient/{pid}"


@pytest.mark.req("SGL.INS.57")
async def test_refusals_SGL_INS_57(act_as: ActAs) -> None:
    pid = await _patient(act_as)
    for role in ("technicien", "administrateur"):
        refused = await (await act_as(role)).post(f"Patient/{pid}/$identity-document", content=SCAN,
                                                  headers={"Content-Type": "image/png"})
        assert refused.status_code == 403, role
    desk = await act_as("secretaire")
    wrong = await desk.post(f"Patient/{pid}/$identity-document", content=b"x", headers={"Content-Type": "text/plain"})
    assert wrong.status_code == 400 and wrong.json()["resourceType"] == "OperationOutcome"
    empty = await desk.post(f"Patient/{pid}/$identity-document", content=b"", headers={"Content-Type": "image/png"})
    assert empty.status_code == 400
    assert (await desk.post("Patient/inconnu/$identity-document", content=SCAN,
                            headers={"Content-Type": "image/png"})).status_code == 404
    assert (await desk.get(f"Patient/{pid}/$identity-document/pas-une-copie")).status_code == 404
