"""Bulk INSi verification (SGL.INS.58): ``sgl identity verify-all`` as a real process, and the operation."""

from __future__ import annotations

import asyncio
import csv
import getpass
import os
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from resources.ins import OID_INS_NIR, identity_status, ins_identifier, ins_identifier_for
from resources.patient_traits import birthplace_extension
from server.identity.vocabulary import with_reliability
from tests.support.identity_samples import out
from tests.support.identity_servers import Servers

pytestmark = pytest.mark.db


async def received(feed: httpx.AsyncClient, birth_date: str) -> str:
    """A QUAL identity of ADRUN ZOE from the identity source (SGL.INS.39); KO at INSi unless born 1975-12-31."""
    body: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": [ins_identifier_for("275126322074974", OID_INS_NIR)],
        "name": [{"use": "official", "family": "ADRUN", "given": ["ZOE"]}], "gender": "female",
        "birthDate": birth_date, "extension": [birthplace_extension("63220")]}
    r = await feed.post("Patient", json=with_reliability(body, "QUAL", {}))
    assert r.status_code == 201 and identity_status(r.json()) == "QUAL", r.text
    return str(r.json()["id"])


async def sgl(*args: str, env: dict[str, str]) -> tuple[int, str]:
    """Run the ``sgl`` CLI without blocking the loop that serves the simulated INSi."""
    exe = str(Path(sys.executable).parent / "sgl")
    proc = await asyncio.create_subprocess_exec(exe, *args, env={**os.environ, **env},
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        output, _ = await asyncio.wait_for(proc.communicate(), timeout=180)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    return int(proc.returncode or 0), output.decode()


@pytest.mark.req("SGL.INS.58")
async def test_cli_verifies_every_identity_with_a_report_SGL_INS_58(
        desk: httpx.AsyncClient, feed: httpx.AsyncClient, identity_servers: Servers, tmp_path: Path) -> None:
    good, bad = await received(feed, "1975-12-31"), await received(feed, "1975-12-29")
    report = tmp_path / "report.csv"
    code, output = await sgl("identity", "verify-all", "--data-dir", str(identity_servers.server.data_dir),
                             "--report", str(report), "--as-role", "secretaire", env=identity_servers.env)
    assert code == 1, output
    assert "INSi verification" in output and "KO" in output
    with report.open(encoding="utf-8") as lines:
        rows = {r["patient"]: r for r in csv.DictReader(lines, delimiter=";")}
    assert (rows[good]["result"], rows[good]["status_after"]) == ("OK", "QUAL")
    assert (rows[bad]["result"], rows[bad]["status_after"]) == ("KO", "VALI")
    assert "01" in rows[bad]["reasons"] and rows[bad]["matricule"] == "275126322074974"
    after = (await desk.get(f"Patient/{bad}")).json()
    assert identity_status(after) == "VALI" and ins_identifier(after) is None
    traces = (await desk.get("AuditEvent", params={"entity": f"Patient/{good}"})).json()["entry"]
    assert any(e["resource"]["agent"][0]["who"]["identifier"]["value"] == f"operator:{getpass.getuser()}"
               for e in traces)


@pytest.mark.req("SGL.INS.58")
async def test_bulk_verification_as_an_operation_SGL_INS_58(desk: httpx.AsyncClient, tech: httpx.AsyncClient,
                                                           feed: httpx.AsyncClient) -> None:
    bad = await received(feed, "1975-12-28")
    assert (await tech.post("Patient/$insi-verify-all")).status_code == 403
    r = await desk.post("Patient/$insi-verify-all")
    assert r.status_code == 200, r.text
    body = r.json()
    assert out(body, "checked") >= 1 and out(body, "ko") >= 1
    lines = [line.split(";") for line in out(body, "report").splitlines()]
    assert lines[0][:5] == ["patient", "matricule", "oid", "status_before", "result"]
    assert [line[4] for line in lines if line[0] == bad] == ["KO"]
