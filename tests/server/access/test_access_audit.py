"""Audit that holds (SGL.INS.17): AuditEvent and Provenance are append-only for every client, and
``sgl audit verify`` proves the hash chain complete, or names the gap, the deletion, the alteration."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from server.access.roles import ROLES
from server.database import open_database
from server.settings import Settings
from tests.support.access import SGL, ActAs
from tests.support.sgl_server import start_sgl

pytestmark = pytest.mark.db


def verify(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SGL, "audit", "verify", "--data-dir", str(data_dir)], capture_output=True, text=True,
                          timeout=300)


@pytest.mark.req("SGL.INS.17")
@pytest.mark.parametrize("role", ROLES)
async def test_no_client_rewrites_or_deletes_the_trail_SGL_INS_17(role: str, act_as: ActAs,
                                                                  fhir: httpx.AsyncClient) -> None:
    pid = (await fhir.post("Patient", json={"resourceType": "Patient", "name": [{"family": "PISTE"}]})).json()["id"]
    await fhir.get(f"Patient/{pid}")
    event = (await fhir.get("AuditEvent", params={"entity": f"Patient/{pid}"})).json()["entry"][0]["resource"]
    client = await act_as(role)
    for answer in (await client.delete(f"AuditEvent/{event['id']}"),
                   await client.put(f"AuditEvent/{event['id']}", json={**event, "outcome": "0"}),
                   await client.post("AuditEvent", json={**event, "id": None}),
                   await client.post("", json={"resourceType": "Bundle", "type": "transaction", "entry": [
                       {"request": {"method": "DELETE", "url": f"AuditEvent/{event['id']}"}}]})):
        assert answer.status_code == 403, (role, answer.text)
        assert "append-only" in answer.text
    assert (await fhir.get(f"AuditEvent/{event['id']}")).json()["meta"]["versionId"] == "1"


@pytest.fixture(scope="module")
async def chained(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Path, httpx.AsyncClient]]:
    server = start_sgl(tmp_path_factory.mktemp("chain") / "var")
    clients = ActAs(server)
    try:
        yield server.data_dir, await clients.biologist()
    finally:
        await clients.close()
        server.stop()


@pytest.mark.req("SGL.INS.17")
async def test_the_chain_is_complete_then_each_tampering_is_reported_SGL_INS_17(
        chained: tuple[Path, httpx.AsyncClient]) -> None:
    data_dir, fhir = chained
    ids = []
    for n in range(4):
        pid = (await fhir.post("Patient", json={"resourceType": "Patient", "name": [{"family": f"CHAINE{n}"}]})).json()
        await fhir.get(f"Patient/{pid['id']}")
        ids.append(pid["id"])
    good = verify(data_dir)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "complete" in good.stdout and "NOT" not in good.stdout
    database = await open_database(Settings(data_dir=data_dir))
    try:
        db = database.db
        links = await db["audit_chain"].find({"seq": {"$ne": None}}).sort("seq", 1).to_list()
        assert len(links) >= 8
        victim = links[2]["_id"].split("/", 1)
        await db[victim[0]].update_one({"_id": victim[1]}, {"$set": {"r.outcome": "8"}})
        altered = verify(data_dir)
        assert altered.returncode == 1 and f"{links[2]['_id']} was altered" in altered.stdout, altered.stdout
        await db["audit_chain"].delete_one({"_id": links[4]["_id"]})
        gap = verify(data_dir)
        assert gap.returncode == 1 and f"gap: link(s) {links[4]['seq']}..{links[4]['seq']}" in gap.stdout, gap.stdout
        gone = links[5]["_id"].split("/", 1)
        await db[gone[0]].delete_one({"_id": gone[1]})
        deleted = verify(data_dir)
        assert f"{links[5]['_id']} was deleted" in deleted.stdout and deleted.returncode == 1
    finally:
        await database.close()
