"""Which project files the main path runs through: ORU^R01 over MLLP -> Observation -> technical and
biological validation -> CR-Bio (issue 12: "count the files and layers the end-to-end path crosses").

Runs the application in this process on a fresh embedded database (loopback ports), records every
function call made in a project file (``sys.setprofile`` / ``threading.setprofile``, module bodies
excluded) during each phase, and prints the files per phase and the packages ("layers") they belong
to. Not a test and not a benchmark: the profiler slows everything down. The background loops run
during every phase too; an idle phase before the path lists what they run alone, and the path is
printed with and without those files (an upper and a lower bound).

The CR-Bio is made after the validating commit by the document step (a job, then a process pool):
phase 4 lasts until the report carries it. So that the profiler sees the generation, the pool is a
thread pool here (same function, same initializer); everything else is the production wiring.

    .venv/bin/python scripts/path_trace.py [--files]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import tempfile
import threading
import uuid
from collections import defaultdict
from pathlib import Path
from types import FrameType, SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PACKAGES = ("server", "facades", "resources", "terminology")
calls: dict[str, set[str]] = defaultdict(set)
phase = "import"
IDLE_S = 5.0


def _profile(frame: FrameType, event: str, arg: Any) -> None:
    if event == "call" and frame.f_code.co_name != "<module>":
        calls[phase].add(frame.f_code.co_filename)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _project(filename: str) -> str | None:
    path = Path(filename).resolve()
    try:
        rel = path.relative_to(ROOT)
    except ValueError:
        return None
    return str(rel) if rel.parts[0] in PACKAGES else None


def _layer(rel: str) -> str:
    """``server/validation``, ``facades/hl7v2/results``...: the package that holds the file."""
    return str(Path(rel).parent)


async def _run() -> None:
    global phase
    from concurrent.futures import ThreadPoolExecutor

    import httpx
    import uvicorn

    import server.documents.service as document_service
    from facades.cda.conformance import use_data_dir
    from server.app import create_app

    def traced_pool(data_dir: Path, size: int) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=size, initializer=use_data_dir, initargs=(data_dir,))

    document_service.document_pool = traced_pool  # type: ignore[assignment]
    from server.settings import Settings
    from tests.support.access import ActAs, role_client

    class InProcessActAs(ActAs):
        """``ActAs`` whose blocking set-up (``sgl clients create``, token discovery) runs off the loop that
        serves the in-process app."""

        async def __call__(self, role: str, *, practitioner: str | None = None) -> httpx.AsyncClient:
            key = (role, practitioner)
            if key not in self._clients:
                self._clients[key] = await asyncio.to_thread(role_client, self.base, self.data_dir, role,
                                                             practitioner=practitioner)
            return self._clients[key]

    from tests.support.analyzer_lab import new_tube, search, seed_catalog
    from tests.support.sgl_server import TEST_PARTNERS, register_partners

    data = Path(tempfile.mkdtemp(prefix="path-trace-"))
    mllp_port, http_port = _free_port(), _free_port()
    settings = Settings(host="127.0.0.1", port=http_port, data_dir=data / "var", mllp_port=mllp_port, astm_port=0)
    phase = "start-up (wiring)"
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=http_port,
                                           log_level="warning", lifespan="on"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    phase = "set-up"
    register_partners(settings.data_dir, TEST_PARTNERS)  # the analyzer BIO1 may send results
    act_as = InProcessActAs(SimpleNamespace(base=f"http://127.0.0.1:{http_port}/fhir", data_dir=settings.data_dir))
    try:
        await _path(act_as, mllp_port, new_tube, search, seed_catalog)
    finally:
        await act_as.close()
    server.should_exit = True
    await serving


async def _path(act_as: Any, mllp_port: int, new_tube: Any, search: Any, seed_catalog: Any) -> None:
    """Set up a tube, then the four phases, as an RPPS-identified biologist API client."""
    global phase
    from facades.hl7v2 import MllpClient

    fhir = await act_as.biologist()
    phase = "idle"  # what the background loops (outbox, document jobs, sealer, schedules) run on their own
    await asyncio.sleep(IDLE_S)
    phase = "set-up"
    await seed_catalog(fhir)
    tube = await new_tube(fhir, ("GLY",))
    patient = (await fhir.get(f"Patient/{tube.patient_id}")).json()
    patient["name"] = [{"use": "official", "family": "MARTIN", "given": ["Claire"]}]  # a report prints them
    assert (await fhir.put(f"Patient/{tube.patient_id}", json=patient)).status_code == 200
    message = ("MSH|^~\\&|BIO1|LABO|SGL|LABO|20261126101500+0100||ORU^R01^ORU_R01|"
               f"{uuid.uuid4().hex[:12]}|P|2.5|||||FRA|UNICODE UTF-8\r"
               f"OBR|1||{tube.accession}|GLY^Glycémie\r"
               "OBX|1|NM|GLU^Glucose||0.95|g/L|0.70-1.10|N|||F|||||||BIO1|20261126101200+0100\r")
    async with MllpClient("127.0.0.1", mllp_port, read_timeout=120) as mllp:
        phase = "1 result in (ORU^R01 -> Observation)"
        ack = await mllp.send(message)
        phase = "set-up"
    msa = ack.segment("MSA")
    assert msa is not None and msa.get(1) == "AA", ack.to_er7()
    [observation] = await search(fhir, "Observation", specimen=f"Specimen/{tube.specimen_id}")
    phase = "2 technical validation"
    answer = await fhir.post(f"Observation/{observation['id']}/$validate-technical",
                             json={"resourceType": "Parameters"})
    phase = "set-up"
    assert answer.status_code == 200, answer.text
    [report] = await search(fhir, "DiagnosticReport", result=f"Observation/{observation['id']}")
    phase = "3 biological validation"
    answer = await fhir.post(f"DiagnosticReport/{report['id']}/$validate-biological",
                             json={"resourceType": "Parameters"})
    assert answer.status_code == 200, answer.text
    phase = "4 CR-Bio (document step)"
    deadline = asyncio.get_running_loop().time() + 300
    while True:
        phase = "set-up"  # the polling read is the script's, not the path's
        done = (await fhir.get(f"DiagnosticReport/{report['id']}")).json().get("presentedForm")
        phase = "4 CR-Bio (document step)"
        if done:
            break
        assert asyncio.get_running_loop().time() < deadline, "no CR-Bio within 300 s"
        await asyncio.sleep(0.5)
    phase = "done"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", action="store_true", help="list the files of each phase")
    args = parser.parse_args()
    threading.setprofile(_profile)
    sys.setprofile(_profile)
    try:
        asyncio.run(_run())
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
    path: set[str] = set()
    for name in sorted(calls):
        if name[0] not in "1234s":
            continue
        files = sorted({rel for f in calls[name] if (rel := _project(f))})
        if name[0] in "1234":
            path.update(files)
        layers = sorted({_layer(f) for f in files})
        sys.stdout.write(f"{name}: {len(files)} files in {len(layers)} packages: {', '.join(layers)}\n")
        if args.files:
            sys.stdout.writelines(f"    {f}\n" for f in files)
    layers = sorted({_layer(f) for f in path})
    sys.stdout.write(f"end-to-end path (phases 1-4): {len(path)} files in {len(layers)} packages\n")
    idle = {rel for f in calls["idle"] if (rel := _project(f))}
    own = path - idle
    sys.stdout.write(f"  of which not run by the background loops while idle ({IDLE_S:.0f} s): {len(own)} files in "
                     f"{len({_layer(f) for f in own})} packages; idle alone: {len(idle)} files\n")


if __name__ == "__main__":
    main()
