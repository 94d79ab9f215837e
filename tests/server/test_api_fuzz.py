"""The OpenAPI document describes the FHIR bodies, every ``$operation`` is published as an
OperationDefinition the CapabilityStatement points to, and schemathesis fuzzing a real ``sgl serve``
(wired to the INSi simulator, so the INSi operations reach their logic) finds no server error."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from facades.insi import SimulatorHandle, start_insi_simulator
from server.operation_definitions import OPERATIONS
from tests.support.access import role_client
from tests.support.identity_servers import insi_env
from tests.support.pki import TestPki, create_test_pki
from tests.support.sgl_server import SglProcess, start_sgl

pytestmark = pytest.mark.db
EXAMPLES_PER_OPERATION = "4"
METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options"})


@pytest.fixture(scope="module")
def fuzz_pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return create_test_pki(tmp_path_factory.mktemp("fuzz-pki"), client_common_name="INSI-MANU")


@pytest.fixture(scope="module")
async def fuzz_insi(fuzz_pki: TestPki) -> AsyncIterator[SimulatorHandle]:
    handle = await start_insi_simulator("127.0.0.1", 0, fuzz_pki.server.cert, fuzz_pki.server.key, fuzz_pki.ca.cert)
    yield handle
    await handle.stop()


@pytest.fixture(scope="module")
def fuzzed(fuzz_pki: TestPki, fuzz_insi: SimulatorHandle,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[SglProcess]:
    # every access-log line is kept (no rate limit), so the answers counted below do not depend on
    # how many log windows the run happens to span on a faster or slower machine
    env = {**insi_env(fuzz_pki, fuzz_insi.url), "SGL_LOG_BURST": "1000000"}
    server = start_sgl(tmp_path_factory.mktemp("fuzz") / "var", env=env)
    yield server
    server.stop()


async def test_every_fhir_body_is_described(fuzzed: SglProcess) -> None:
    async with httpx.AsyncClient() as http:
        document = (await http.get(f"http://127.0.0.1:{fuzzed.port}/openapi.json")).json()
    bodies = {(m.upper(), p): o.get("requestBody") for p, item in document["paths"].items() for m, o in item.items()}
    create = bodies[("POST", "/fhir/Observation")]
    assert create["content"]["application/fhir+json"]["schema"] == {"$ref": "#/components/schemas/Observation"}
    observation = document["components"]["schemas"]["Observation"]
    assert observation["properties"]["resourceType"]["enum"] == ["Observation"]
    assert bodies[("PUT", "/fhir/Specimen/{rid}")]["content"]["application/fhir+json"]["schema"]["$ref"].endswith(
        "/Specimen")
    assert bodies[("POST", "/fhir")]["content"]["application/fhir+json"]["schema"]["$ref"].endswith("/Bundle")
    order = document["components"]["schemas"]["Parameters-order"]
    names = {part["properties"]["name"]["enum"][0] for part in order["properties"]["parameter"]["items"]["oneOf"]}
    assert {"patient", "requester", "exam", "priority"} <= names
    bodiless = {code for code, op in OPERATIONS.items() if op.body == "none"} | {"insi-verify", "insi-verify-all"}
    for (method, path), body in bodies.items():
        if method in ("POST", "PUT") and "$" in path and path.rsplit("$", 1)[1] not in bodiless:
            assert body is not None, path
    rtype = next(p for p in document["paths"]["/fhir/{rtype}"]["get"]["parameters"] if p["name"] == "rtype")
    assert "Patient" in rtype["schema"]["enum"] and "Patient_history" not in rtype["schema"]["enum"]


async def test_every_operation_of_the_capability_statement_has_its_definition(fuzzed: SglProcess) -> None:
    async with httpx.AsyncClient() as http:
        statement = (await http.get(f"{fuzzed.base}/metadata")).json()
        rest = statement["rest"][0]
        listed = [(r["type"], o) for r in rest["resource"] for o in r.get("operation", [])]
        listed += [(None, o) for o in rest.get("operation", [])]
        assert len(listed) >= 15
        for rtype, op in listed:
            definition = (await http.get(op["definition"])).json()
            assert definition["resourceType"] == "OperationDefinition" and definition["code"] == op["name"]
            assert definition["type"] or definition["instance"]
            if rtype:
                assert definition["resource"] == [rtype]
        order = (await http.get(f"{fuzzed.base}/OperationDefinition/ServiceRequest-order")).json()
        assert {"name": "patient", "use": "in", "min": 1, "max": "1", "type": "Reference"} in order["parameter"]
        assert (await http.get(f"{fuzzed.base}/OperationDefinition/nothing")).status_code == 404


LEFT_OUT = r"^/auth/psc/|^/fhir/\$worklist-events$"
"""Operations the fuzzer leaves out, each with its own tests: the Pro Santé Connect browser login (503 "not
configured" by design without a PSC provider; tests/server/psc) and the worklist event stream, which stays open by
design (tests/server/web/test_reception.py)."""


async def test_schemathesis_finds_no_server_error(fuzzed: SglProcess, tmp_path: Path) -> None:
    """Fuzzed as the lab's most entitled staff role, so that requests pass authentication and the
    permission table and reach the handlers. Every operation of the document except the Pro Santé
    Connect browser login (``/auth/psc/*``, 503 until a PSC provider is configured, tested in tests/server/psc)."""
    async with role_client(fuzzed.base, fuzzed.data_dir, "biologiste-responsable") as client:
        assert (await client.get("Patient", params={"_count": "1"})).status_code == 200
        token = client.auth.token  # type: ignore[attr-defined]
    st = Path(sys.executable).parent / "st"
    report = tmp_path / "report.json"
    process = await asyncio.create_subprocess_exec(
        str(st), "run", f"http://127.0.0.1:{fuzzed.port}/openapi.json", "--checks", "not_a_server_error",
        "--header", f"Authorization: Bearer {token}",
        "--exclude-path-regex", LEFT_OUT,
        "--max-examples", EXAMPLES_PER_OPERATION, "--seed", "9", "--phases", "examples,fuzzing",
        "--report", "junit", "--report-junit-path", str(report), "--no-color",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env={**os.environ, "NO_COLOR": "1"},
        cwd=tmp_path)  # schemathesis keeps its cache in the working directory
    output, _ = await asyncio.wait_for(process.communicate(), 600)
    text = output.decode(errors="replace")
    assert process.returncode == 0, text[-6000:]
    selected = re.search(r"Selected: (\d+)/(\d+)", text)
    tested = re.search(r"Tested: (\d+)", text)
    assert selected and tested, text[-3000:]
    assert int(tested.group(1)) == int(selected.group(1)) >= 80  # every selected operation was exercised
    async with httpx.AsyncClient() as http:
        document = (await http.get(f"http://127.0.0.1:{fuzzed.port}/openapi.json")).json()
    left_out = sum(m in METHODS for path, item in document["paths"].items() if re.search(LEFT_OUT, path)
                   for m in item)
    assert int(selected.group(2)) - int(selected.group(1)) == left_out  # only the operations named in LEFT_OUT
    log = fuzzed.log.read_text(errors="replace")
    assert "unhandled error" not in log
    answered = re.findall(r'HTTP/1\.1" (\d{3})', log)
    assert len(answered) >= 2 * int(tested.group(1))  # each operation got several requests, all logged
    assert answered.count("401") < len(answered) // 20  # authenticated: the requests reached the handlers
