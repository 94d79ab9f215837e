"""FHIR Bulk Data ``$export`` over HTTP on the session server (SGL.PORT.01): asynchronous kick-off,
status polling, manifest, ndjson files equal to the store, Patient level, cancellation, and refusals
(administrators only; another administrator's job is not found)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import orjson
import pytest

from resources.fhirjson import content_hash
from server.database import Database
from tests.support.access import ActAs

pytestmark = pytest.mark.db
ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}


async def _finished(admin: httpx.AsyncClient, status_url: str) -> httpx.Response:
    deadline = time.monotonic() + 180
    while True:
        answer = await admin.get(status_url)
        if answer.status_code != 202 or time.monotonic() > deadline:
            return answer
        assert "resources written" in answer.headers["x-progress"]
        await asyncio.sleep(0.3)


async def _lines(admin: httpx.AsyncClient, url: str) -> list[dict[str, Any]]:
    answer = await admin.get(url)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/fhir+ndjson")
    return [orjson.loads(line) for line in answer.content.splitlines() if line.strip()]


@pytest.mark.req("SGL.PORT.01")
async def test_system_export_kick_off_poll_manifest_files_SGL_PORT_01(act_as: ActAs, sgl_db: Database) -> None:
    admin = await act_as("administrateur")
    kick = await admin.get("$export", params={"_type": "Patient,Practitioner,CodeSystem"}, headers=ASYNC)
    assert kick.status_code == 202, kick.text
    status_url = kick.headers["content-location"]
    assert "/fhir/$export-status/" in status_url
    done = await _finished(admin, status_url)
    assert done.status_code == 200 and done.headers["content-type"] == "application/json", done.text
    manifest = done.json()
    assert manifest["requiresAccessToken"] is True and manifest["request"].endswith("CodeSystem")
    assert {o["type"] for o in manifest["output"]} <= {"Patient", "Practitioner", "CodeSystem"}
    for output in manifest["output"]:
        lines = await _lines(admin, output["url"])
        assert len(lines) == output["count"]
        stored = {d["_id"]: d["h"] async for d in sgl_db.db[output["type"]].find(
            {"_id": {"$in": [r["id"] for r in lines[:100]]}}, projection={"h": 1})}
        assert {r["id"]: content_hash(r) for r in lines[:100]} == stored
    other = await act_as("administrateur", practitioner="Practitioner/other-admin")
    assert (await other.get(status_url)).status_code == 404  # a job is its caller's own
    assert (await admin.delete(status_url)).status_code == 202
    assert (await admin.get(status_url)).status_code == 404


@pytest.mark.req("SGL.PORT.01")
async def test_patient_export_and_bad_kick_offs_SGL_PORT_01(act_as: ActAs, fhir: httpx.AsyncClient) -> None:
    admin = await act_as("administrateur")
    made = await fhir.post("Patient", json={"resourceType": "Patient", "name": [{"family": "EXPORTEE"}]})
    pid = made.json()["id"]
    await fhir.post("Observation", json={"resourceType": "Observation", "status": "final",
                                         "code": {"text": "glucose"}, "subject": {"reference": f"Patient/{pid}"}})
    body = {"resourceType": "Parameters", "parameter": [{"name": "patient", "valueReference": {
        "reference": f"Patient/{pid}"}}, {"name": "_type", "valueString": "Patient,Observation"}]}
    kick = await admin.post("Patient/$export", json=body, headers=ASYNC)
    assert kick.status_code == 202, kick.text
    manifest = (await _finished(admin, kick.headers["content-location"])).json()
    files = {o["type"]: await _lines(admin, o["url"]) for o in manifest["output"]}
    assert [p["id"] for p in files["Patient"]] == [pid]
    assert [o["subject"]["reference"] for o in files["Observation"]] == [f"Patient/{pid}"]
    no_prefer = await admin.get("$export")
    assert no_prefer.status_code == 400 and "respond-async" in no_prefer.text
    bad_type = await admin.get("$export", params={"_type": "Nonsense"}, headers=ASYNC)
    assert bad_type.status_code == 400 and "Nonsense" in bad_type.text
    bad_format = await admin.get("$export", params={"_outputFormat": "text/csv"}, headers=ASYNC)
    assert bad_format.status_code == 400
    unsupported = await admin.get("$export", params={"_typeFilter": "Patient?active=true"}, headers=ASYNC)
    assert unsupported.status_code == 400 and "_typeFilter" in unsupported.text
    lenient = await admin.get("$export", params={"_typeFilter": "x", "_type": "Device"},
                              headers={**ASYNC, "Prefer": "respond-async, handling=lenient"})
    assert lenient.status_code == 202
    assert (await admin.delete(lenient.headers["content-location"])).status_code == 202


@pytest.mark.req("SGL.PORT.01")
@pytest.mark.req("SGL.INS.05")
@pytest.mark.parametrize("role", ["biologiste-responsable", "secretaire", "dpi"])
async def test_only_administrators_export_SGL_PORT_01(role: str, act_as: ActAs) -> None:
    caller = await act_as(role)
    answers = [await caller.get("$export", headers=ASYNC), await caller.post("Patient/$export", headers=ASYNC),
               await caller.get("$export-status/some-job"), await caller.get("$export-file/some-job/Patient.ndjson")]
    for answer in answers:
        assert answer.status_code == 403 and "lacks the permission" in answer.text, answer.text
