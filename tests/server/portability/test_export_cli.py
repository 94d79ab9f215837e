"""``sgl export`` / ``sgl import`` (SGL.PORT.01) on a store of generated patients, reports and CR-Bio:
the round trip into an empty store compares equal, a ``kill -9`` export resumes without losing or doubling
a line, a selection by patient and the CR-Bio files come with their index."""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from resources.fhirjson import content_hash, dumps, loads
from server.database import open_database
from server.settings import Settings
from tests.support.export_store import fill
from tests.support.sgl_cli import SGL
from tests.support.sgl_cli import run_sgl as sgl

pytestmark = pytest.mark.db
PATIENTS = 200


async def _hashes(data_dir: Path, types: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """Per type, id -> content hash (without the server's meta), read from the database itself."""
    database = await open_database(Settings(data_dir=data_dir))
    try:
        return {t: {d["_id"]: d["h"] async for d in database.db[t].find({}, projection={"h": 1})} for t in types}
    finally:
        await database.close()


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    data_dir = tmp_path_factory.mktemp("export-source") / "var"

    async def build() -> None:
        database = await open_database(Settings(data_dir=data_dir))
        try:
            await fill(database.store, range(PATIENTS))
        finally:
            await database.close()

    asyncio.run(build())
    yield data_dir


def _ndjson(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


TYPES = ("Patient", "Observation", "DiagnosticReport", "DocumentReference", "Binary")


@pytest.mark.req("SGL.PORT.01")
def test_export_then_import_into_an_empty_store_compares_equal_SGL_PORT_01(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "export"
    done = sgl("export", str(out), "--crbio", "--data-dir", str(source))
    assert done.returncode == 0, done.stderr[-2000:]
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    assert manifest["requiresAccessToken"] is True and manifest["transactionTime"]
    listed = {o["type"]: o["count"] for o in manifest["output"]}
    assert listed == {"Patient": PATIENTS, "Observation": 3 * PATIENTS, "DiagnosticReport": PATIENTS,
                      "DocumentReference": PATIENTS // 10, "Binary": PATIENTS // 10}
    target = tmp_path / "target"
    back = sgl("import", str(out), "--data-dir", str(target))
    assert back.returncode == 0, back.stderr[-2000:]
    before, after = asyncio.run(_hashes(source, TYPES)), asyncio.run(_hashes(target, TYPES))
    assert {t: len(v) for t, v in after.items()} == listed
    assert after == before  # same ids, same content (the server's versionId/lastUpdated aside)
    # the CR-Bio files: one per current document, listed with the patient, report and SHA-1 of the bytes
    index = (out / "crbio.csv").read_text(encoding="utf-8").splitlines()
    assert index[0] == "file;patient;report;format;contentType;sha1;date;size" and len(index) == 1 + PATIENTS // 10
    name, patient_ref, report, *_rest = index[1].split(";")
    pdf = (out / name).read_bytes()
    assert pdf.startswith(b"%PDF") and hashlib.sha1(pdf).hexdigest() == index[1].split(";")[5]
    assert report == f"DiagnosticReport/{name.split('/')[1].removesuffix('-pdf-v1.pdf')}" and patient_ref
    again = sgl("import", str(out), "--data-dir", str(target))
    assert again.returncode == 2 and "empty store" in again.stderr


@pytest.mark.req("SGL.PORT.01")
def test_an_export_killed_with_sigkill_resumes_SGL_PORT_01(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "export"
    args = [SGL, "export", str(out), "--type", "Observation", "--checkpoint", "10", "--data-dir", str(source)]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy())
    deadline = time.monotonic() + 120
    target = out / "Observation.ndjson"
    while time.monotonic() < deadline and process.poll() is None:
        if target.exists() and target.stat().st_size > 40_000:
            break
        time.sleep(0.02)
    assert process.poll() is None, "the export ended before it could be interrupted"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    partial = len(_ndjson(target)) if target.exists() else 0
    assert 0 < partial < 3 * PATIENTS
    resumed = sgl("export", str(out), "--type", "Observation", "--checkpoint", "10", "--data-dir", str(source))
    assert resumed.returncode == 0 and "resuming export" in resumed.stderr, resumed.stderr[-1500:]
    lines = _ndjson(target)
    assert len(lines) == len({r["id"] for r in lines}) == 3 * PATIENTS  # nothing lost, nothing twice
    stored = asyncio.run(_hashes(source, ("Observation",)))["Observation"]
    assert {r["id"]: content_hash(r) for r in lines} == stored
    finished = sgl("export", str(out), "--data-dir", str(source))
    assert finished.returncode == 2 or "already holds a complete export" in finished.stderr


@pytest.mark.req("SGL.PORT.01")
def test_a_selection_of_patients_exports_their_compartment_only_SGL_PORT_01(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "export"
    done = sgl("export", str(out), "--patient", "pat-3", "--patient", "pat-10", "--years", "20", "--crbio",
               "--data-dir", str(source))
    assert done.returncode == 0, done.stderr[-1500:]
    patients = _ndjson(out / "Patient.ndjson")
    observations = _ndjson(out / "Observation.ndjson")
    assert sorted(p["id"] for p in patients) == ["pat-10", "pat-3"]
    assert len(observations) == 6 and {o["subject"]["reference"] for o in observations} == {"Patient/pat-3",
                                                                                           "Patient/pat-10"}
    assert not (out / "Binary.ndjson").exists() or not _ndjson(out / "Binary.ndjson")  # not in the compartment
    assert len((out / "crbio.csv").read_text().splitlines()) == 2  # pat-10's document only
    bad = sgl("export", str(tmp_path / "bad"), "--years", "25", "--data-dir", str(source))
    assert bad.returncode == 2 and "1 to 20 years" in bad.stderr


@pytest.mark.req("SGL.PORT.01")
def test_the_server_resumes_an_export_it_left_in_progress_SGL_PORT_01(source: Path, tmp_path: Path) -> None:
    """A job checkpointed after 100 Observations (as a server killed mid-export leaves it, with 30 more
    lines written after the checkpoint) is finished by the next ``sgl serve`` at start-up."""
    from server.portability.jobs import JOBS, Job
    from server.portability.selection import Selection
    from tests.support.sgl_server import start_sgl

    async def prepare() -> Job:
        database = await open_database(Settings(data_dir=source))
        try:
            first = [d["r"] async for d in database.db["Observation"].find({}, sort=[("_id", 1)]).limit(130)]
            job = Job.new("client:resume-test", tmp_path / "exports", Selection(types=("Observation",)), "test")
            Path(job.directory).mkdir(parents=True)
            checkpointed = b"".join(orjson.dumps(r) + b"\n" for r in first[:100])
            (Path(job.directory) / "Observation.ndjson").write_bytes(
                checkpointed + b"".join(orjson.dumps(r) + b"\n" for r in first[100:]))
            job.cursors["Observation"] = {"last": first[99]["id"], "bytes": len(checkpointed), "count": 100,
                                          "done": False}
            await database.db[JOBS].insert_one(job.document())
            return job
        finally:
            await database.close()

    async def finished(rid: str) -> str:
        database = await open_database(Settings(data_dir=source))
        try:
            deadline = time.monotonic() + 120
            while True:
                doc = await database.db[JOBS].find_one({"_id": rid}) or {}
                if doc.get("status") != "in-progress" or time.monotonic() > deadline:
                    return str(doc.get("status"))
                await asyncio.sleep(0.3)
        finally:
            await database.close()

    job = asyncio.run(prepare())
    server = start_sgl(source, partners=None)
    try:
        assert asyncio.run(finished(job.id)) == "complete"
    finally:
        server.stop()
    lines = _ndjson(Path(job.directory) / "Observation.ndjson")
    assert len(lines) == len({r["id"] for r in lines}) == 3 * PATIENTS
    manifest = orjson.loads((Path(job.directory) / "manifest.json").read_bytes())
    assert manifest["output"] == [{"type": "Observation", "url": "Observation.ndjson", "count": 3 * PATIENTS}]


EXACT_OBSERVATION = (b'{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org",'
                     b'"code":"2345-7"}]},"valueQuantity":{"value":1.50,"unit":"g/L","system":'
                     b'"http://unitsofmeasure.org","code":"g/L"},"component":[{"code":{"text":"a"},"valueQuantity":'
                     b'{"value":1.0E-3}},{"code":{"text":"b"},"valueQuantity":{"value":123456789012345678901234.5}},'
                     b'{"code":{"text":"c"},"valueQuantity":{"value":-0}}]}')
EXACT_TEXTS = (b'"value":1.50,', b'"value":1.0E-3}', b'"value":123456789012345678901234.5}', b'"value":-0}')


@pytest.mark.req("SGL.PORT.01")
def test_export_and_import_keep_the_digits_of_decimals_SGL_PORT_01(tmp_path: Path) -> None:
    """A lab result stored as ``1.50`` (and ``1.0E-3``, 25 digits, ``-0``) is exported with those digits, and
    the import stores them as they are: the same content hash on both sides."""
    source, target, out = tmp_path / "source", tmp_path / "target", tmp_path / "export"

    async def store_one() -> str:
        database = await open_database(Settings(data_dir=source))
        try:
            return (await database.store.create(loads(EXACT_OBSERVATION))).id
        finally:
            await database.close()

    oid = asyncio.run(store_one())
    assert sgl("export", str(out), "--data-dir", str(source)).returncode == 0
    [line] = (out / "Observation.ndjson").read_bytes().splitlines()
    assert all(text in line for text in EXACT_TEXTS), line
    assert sgl("import", str(out), "--data-dir", str(target)).returncode == 0

    async def read_back() -> bytes:
        database = await open_database(Settings(data_dir=target))
        try:
            return dumps((await database.store.read("Observation", oid)).resource)
        finally:
            await database.close()

    assert all(text in asyncio.run(read_back()) for text in EXACT_TEXTS)
    assert asyncio.run(_hashes(target, ("Observation",))) == asyncio.run(_hashes(source, ("Observation",)))
