"""The reception side of the workbench in the browser (web/e2e/reception.test.mjs): identity creation and edit
with the RNIV traits, bad input refused next to its field with nothing stored, the INSi search / verify from
the identity file against the INSi simulator (mutual TLS on loopback) and the qualification decision; orders,
labels, specimen reception and refusal (its notice mailed to the prescriber through the MSSanté simulator, and
its state on the screen); unmatched analyzer results; and the live worklists'
``GET /fhir/$worklist-events`` (server/worklist_events.py) over plain HTTP: permission, counts moved by an MLLP
result, heartbeat, the per-user bound, and the streams ending at shutdown (the module's last test).

One ``sgl serve`` for the module, wired to the simulator as the identity tests wire theirs
(tests/support/identity_servers.py); the accounts are made by the function behind ``sgl users create``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from facades.annuaire.systems import G15_PROFESSION, R38_SPECIALTY
from facades.hl7v2 import MllpClient
from facades.insi import SimulatorHandle, start_insi_simulator
from server.access import accounts
from server.database import open_database
from server.settings import Settings
from tests.support.access import role_client
from tests.support.identity_servers import insi_env
from tests.support.mssante_operator import OperatorProcess, start_operator_process
from tests.support.pki import TestPki, create_test_pki
from tests.support.sgl_server import SglProcess, start_sgl
from tests.support.workbench import PASSWORD, SERVER_ENV, USERS, WEB, browser_suite

pytestmark = pytest.mark.db
SCREENS = WEB / "e2e" / "screenshots"  # not committed; a few are copied to docs/web/
PRESCRIBER_MSS = "dr.prescripteur@cabinet-reception.mssante.fr"


@pytest.fixture(scope="module")
def reception_pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return create_test_pki(tmp_path_factory.mktemp("reception-pki"), client_common_name="INSI-MANU")


@pytest.fixture(scope="module")
async def reception_insi(reception_pki: TestPki) -> AsyncIterator[SimulatorHandle]:
    pki = reception_pki
    handle = await start_insi_simulator("127.0.0.1", 0, pki.server.cert, pki.server.key, pki.ca.cert)
    yield handle
    await handle.stop()


@pytest.fixture(scope="module")
def reception_mss(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OperatorProcess]:
    """The MSSanté operator simulator: a refused tube's notice is mailed to the prescriber."""
    handle = start_operator_process(tmp_path_factory.mktemp("reception-mss") / "pki",
                                    "labo-resultats@labo-reception.mssante.fr")
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def reception_server(reception_pki: TestPki, reception_insi: SimulatorHandle, reception_mss: OperatorProcess,
                     tmp_path_factory: pytest.TempPathFactory) -> Iterator[SglProcess]:
    env = {**SERVER_ENV, **insi_env(reception_pki, reception_insi.url), "SGL_WORKLIST_HEARTBEAT_S": "1",
           **reception_mss.env(SGL_MSS_RECEIPTS_POLL="30", SGL_DELIVERY_POLL="0.2")}
    server = start_sgl(tmp_path_factory.mktemp("reception") / "var", env=env)
    yield server
    server.stop()


@pytest.fixture(scope="module")
async def reception(reception_server: SglProcess) -> dict[str, str]:
    """The accounts of tests/support/workbench.py (secretary, technician, biologist), no data: the tests make it."""
    database = await open_database(Settings(data_dir=reception_server.data_dir))
    try:
        for login, (role, name) in USERS.items():
            await accounts.create_user(database.db, login, PASSWORD, role=role, name=name)
    finally:
        await database.close()
    async with _as(reception_server, "sophie") as http:  # the secretary adds the prescriber to the directory
        doctor = await http.post("/fhir/Practitioner", json={
            "resourceType": "Practitioner", "name": [{"family": "PRESCRIPTEUR", "given": ["Paul"], "prefix": ["Dr"]}],
            "identifier": [{"system": "urn:oid:1.2.250.1.71.4.2.1", "value": "810000000001"}]})
        assert doctor.status_code == 201, doctor.text
        role = await http.post("/fhir/PractitionerRole", json={
            "resourceType": "PractitionerRole", "practitioner": {"reference": f"Practitioner/{doctor.json()['id']}"},
            "telecom": [{"system": "email", "value": PRESCRIBER_MSS}]})
        assert role.status_code == 201, role.text
        await _homonym(http)
    return {"prescriber": "Dr PRESCRIPTEUR Paul", "prescriberRole": f"PractitionerRole/{role.json()['id']}",
            "mllp": str(reception_server.mllp_port)}


async def _homonym(http: httpx.AsyncClient) -> None:
    """Another Dr PRESCRIPTEUR Paul, a general practitioner in Lyon, shaped like an Annuaire Santé activity: the
    order form must tell the two apart by what and where."""
    doctor = await http.post("/fhir/Practitioner", json={
        "resourceType": "Practitioner", "name": [{"family": "PRESCRIPTEUR", "given": ["Paul"], "prefix": ["Dr"]}],
        "identifier": [{"system": "urn:oid:1.2.250.1.71.4.2.1", "value": "810000000002"}]})
    site = await http.post("/fhir/Organization", json={
        "resourceType": "Organization", "name": "Centre de santé des Terreaux",
        "address": [{"line": ["3 place des Terreaux"], "postalCode": "69001", "city": "Lyon"}]})
    assert doctor.status_code == site.status_code == 201, (doctor.text, site.text)
    role = await http.post("/fhir/PractitionerRole", json={
        "resourceType": "PractitionerRole", "practitioner": {"reference": f"Practitioner/{doctor.json()['id']}"},
        "organization": {"reference": f"Organization/{site.json()['id']}"},
        "code": [{"coding": [{"system": G15_PROFESSION, "code": "10", "display": "Médecin"}]}],
        "specialty": [{"coding": [{"system": R38_SPECIALTY, "code": "SM54", "display": "Médecine générale (SM)"}]}]})
    assert role.status_code == 201, role.text


@asynccontextmanager
async def _as(server: SglProcess, login: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client logged in through /auth/login with that account (session cookie and CSRF header set)."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}", timeout=30) as http:
        answer = await http.post("/auth/login", json={"username": login, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        http.headers.update({"Cookie": f"sgl_session={answer.cookies['sgl_session']}",
                             "X-CSRF-Token": str(answer.json()["csrf"])})
        yield http


def _suite(suite: str, server: SglProcess, ids: dict[str, str]) -> str:
    return browser_suite(suite, server, ids, SCREENS)


async def _search(server: SglProcess, query: str) -> list[dict[str, Any]]:
    """A search over the API as the biologist: what the store holds."""
    async with _as(server, "claire") as http:
        found = await http.get(f"/fhir/{query}")
        assert found.status_code == 200, found.text
        return [e["resource"] for e in found.json().get("entry", []) if e.get("search", {}).get("mode") != "include"]


@pytest.fixture(scope="module")
async def browser_run(reception_server: SglProcess, reception: dict[str, str]) -> str:
    """web/e2e/reception.test.mjs, once for the module (its tests follow one another on the same data); in a
    thread, as the INSi simulator answers from this module's event loop."""
    return await asyncio.to_thread(_suite, "reception", reception_server, reception)


def _printed(report: str, name: str) -> list[str]:
    """What the browser suite printed as ``NAME [...]`` (the tube numbers it made, the tubes an analyzer sent)."""
    return list(json.loads(report.split(f"{name} ", 1)[1].splitlines()[0]))


@pytest.mark.req("SGL.INS.11")
@pytest.mark.req("SGL.INS.13")
async def test_identity_creation_edit_insi_and_qualification_in_the_browser_SGL_INS_11_13(
        reception_server: SglProcess, browser_run: str) -> None:
    """A secretary creates ADRUN Zoé (bad date, 10,000-character name and missing sex refused next to their
    fields first, nothing sent), edits her used name, searches the INSi (00, traits compared), takes its
    identity (récupérée), records an identity card (qualifiée); the history lists the changes. A technician
    is offered none of it."""
    stored = await _search(reception_server, "Patient?family=ADRUN")
    assert len(stored) == 1, stored  # the refused attempts stored nothing
    assert await _search(reception_server, "Patient?family=XXXXXXXXXX") == []
    patient = stored[0]
    status = [e for e in patient["extension"] if str(e["url"]).endswith("identity-reliability")]
    assert "QUAL" in str(status), status
    assert {"use": "usual", "family": "MARTIN", "given": ["Zoé"]} in patient["name"]
    assert any(i["value"] == "275126322074974" for i in patient["identifier"])
    assert (SCREENS / "identite-insi.png").stat().st_size > 10_000


async def test_request_labels_reception_and_a_refused_tube_in_the_browser(
        reception_server: SglProcess, reception_mss: OperatorProcess, browser_run: str) -> None:
    """$order from the catalogue (two tubes), a label PDF, the first tube received by a scan, the second refused
    as haemolysed: what the browser showed is what the store holds, and the prescriber's MSSanté box got the
    notice once (the screen showed it sent)."""
    tubes = _printed(browser_run, "TUBES")
    [received] = await _search(reception_server, f"Specimen?accession={tubes[0]}")
    assert received["status"] == "available" and received["receivedTime"], received
    [refused] = await _search(reception_server, f"Specimen?accession={tubes[1]}")
    assert refused["status"] == "unsatisfactory" and refused["receivedTime"], refused
    assert refused["condition"][0]["coding"][0] == {"system": "http://terminology.hl7.org/CodeSystem/v2-0490",
                                                    "code": "RH", "display": "Échantillon hémolysé"}
    assert refused["note"][-1]["authorString"] == "Sophie ACCUEIL"
    assert refused["note"][-1]["text"] == "Non-conformité : Échantillon hémolysé — sérum rosé"
    [notice] = await _search(reception_server, f"Communication?about=Specimen/{refused['id']}")  # to the requester
    request_id = refused["request"][0]["reference"].split("/")[1]
    [request] = await _search(reception_server, f"ServiceRequest?_id={request_id}")
    assert notice["recipient"] == [request["requester"]] and notice["reasonCode"][0]["coding"][0]["code"] == "RH"
    [mail] = await asyncio.to_thread(reception_mss.messages, PRESCRIBER_MSS)
    assert tubes[1] in mail["subject"] and mail["attachments"] == []


async def test_unmatched_results_attached_or_rejected_in_the_browser(
        reception_server: SglProcess, browser_run: str) -> None:
    """Two results sent over MLLP for unknown tubes: the one attached now points at the tube, its patient and
    its request, its Task is completed; the one rejected is cancelled, its Task rejected with the reason."""
    lost, junk = _printed(browser_run, "UNMATCHED")
    tubes = _printed(browser_run, "TUBES")
    [specimen] = await _search(reception_server, f"Specimen?accession={tubes[0]}")
    [request] = await _search(reception_server, f"ServiceRequest?specimen=Specimen/{specimen['id']}")
    done = {inputs(t)["accession"]: t for t in await _search(reception_server, "Task?code=unmatched-result")}
    assert done[lost]["status"] == "completed" and done[junk]["status"] == "rejected"
    [attached] = await _search(reception_server, f"Observation?_id={done[lost]['focus']['reference'].split('/')[1]}")
    assert attached["specimen"] == {"reference": f"Specimen/{specimen['id']}"}
    assert attached["subject"] == specimen["subject"] and attached["basedOn"] == [
        {"reference": f"ServiceRequest/{request['id']}"}]
    assert attached["status"] == "preliminary"  # now on the bench's list like any matched result
    [cancelled] = await _search(reception_server, f"Observation?_id={done[junk]['focus']['reference'].split('/')[1]}")
    assert cancelled["status"] == "cancelled"
    assert "tube de contrôle qualité passé sans étiquette" in done[junk]["note"][-1]["text"]


@pytest.mark.req("SGL.INS.49")
async def test_insi_search_by_carte_vitale_in_the_browser_SGL_INS_49(
        reception_server: SglProcess, browser_run: str) -> None:
    """The secretary types the NIR of the carte Vitale (a wrong key said next to the field first, no call): the
    INSi answers 00 and its identity is taken: the stored identity is récupérée with that INS."""
    [patient] = await _search(reception_server, "Patient?family=ADRTROIS")
    status = [e for e in patient["extension"] if str(e["url"]).endswith("identity-reliability")]
    assert "RECUP" in str(status), status
    assert any(i["value"] == "297022A02077878" and i.get("use") != "old" for i in patient["identifier"])


def inputs(task: dict[str, Any]) -> dict[str, str]:
    return {i["type"]["text"]: i["valueString"] for i in task.get("input", [])}


async def _events(lines: AsyncIterator[str], until: Callable[[dict[str, Any]], bool],
                  seen: list[str]) -> dict[str, Any]:
    """Read the stream's lines up to the first ``worklists`` event whose data satisfies ``until``; every line kept."""
    event = ""
    async for line in lines:
        seen.append(line)
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: ") and event == "worklists":
            data: dict[str, Any] = json.loads(line[6:])
            if until(data):
                return data
    raise AssertionError(f"the stream ended: {seen}")


async def test_worklist_events_are_refused_without_the_permission(reception_server: SglProcess) -> None:
    """The ``*:$worklist-events`` row: no credentials 401, an administrator (no worklist) 403; a permitted
    client that accepts only JSON gets 406 at once rather than a stream it would wait on forever."""
    url = f"{reception_server.base}/$worklist-events"
    assert httpx.get(url, timeout=30).status_code == 401
    async with role_client(reception_server.base, reception_server.data_dir, "administrateur") as admin:
        refused = await admin.get("$worklist-events")
    assert refused.status_code == 403, refused.text
    assert "$worklist-events" in refused.json()["issue"][0]["diagnostics"]
    async with role_client(reception_server.base, reception_server.data_dir, "technicien") as fhir_client:
        json_only = await fhir_client.get("$worklist-events")  # Accept: application/fhir+json
    assert json_only.status_code == 406 and json_only.json()["issue"][0]["expression"] == ["Accept"]


async def test_worklist_events_count_an_analyzer_result_beat_and_are_bounded(reception_server: SglProcess) -> None:
    """A stream's first event has the counts; a result for an unknown tube sent over MLLP moves ``unmatched``
    (pushed, no request made); a quiet stream carries heartbeats; a fifth stream of the same caller is 429."""
    async with _streaming(reception_server, "technicien") as tech, tech.stream("GET", "$worklist-events") as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/event-stream")
        assert answer.headers["cache-control"] == "no-store"
        seen: list[str] = []
        lines = answer.aiter_lines()  # one iterator: each read goes on where the last one stopped
        first = await asyncio.wait_for(_events(lines, lambda d: True, seen), 30)
        assert set(first["counts"]) == {"unmatched", "received", "biological", "deliveryFailed"}
        before = first["counts"]["unmatched"]
        async with MllpClient("127.0.0.1", reception_server.mllp_port, read_timeout=60) as mllp:
            ack = await mllp.send("MSH|^~\\&|BIO1|LABO|SGL|LABO|20261126101500+0100||ORU^R01^ORU_R01|EV1|P|2.5\r"
                                  "OBR|1||ZZ-EVENTS-1|GLY\rOBX|1|NM|GLU^Glucose||0.91|g/L|||||F|||||||BIO1|"
                                  "20261126101200+0100\r")
        assert ack.segment("MSA").get(1) == "AA"
        moved = await asyncio.wait_for(_events(lines, lambda d: d["counts"]["unmatched"] > before, seen), 30)
        assert moved["counts"]["unmatched"] == before + 1 and moved["version"] > first["version"]
        await asyncio.wait_for(_heartbeat(lines, seen), 30)
        streams = [tech.stream("GET", "$worklist-events") for _ in range(3)]
        opened = [await s.__aenter__() for s in streams]  # 4 with the one above
        try:
            assert [o.status_code for o in opened] == [200, 200, 200]
            fifth = await tech.get("$worklist-events")
            assert fifth.status_code == 429 and fifth.json()["issue"][0]["code"] == "throttled"
        finally:
            for s in streams:
                await s.__aexit__(None, None, None)


@asynccontextmanager
async def _streaming(server: SglProcess, role: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client with that role's bearer token as a plain header: the test clients' auth flow reads whole bodies
    (to renew a token on 401), which a stream never ends."""
    async with role_client(server.base, server.data_dir, role) as client:
        assert (await client.get("Patient", params={"_count": "0"})).status_code == 200
        token = client.auth.token  # type: ignore[attr-defined]
    async with httpx.AsyncClient(base_url=server.base + "/", timeout=60,
                                 headers={"Authorization": f"Bearer {token}"}) as http:
        yield http


async def _heartbeat(lines: AsyncIterator[str], seen: list[str]) -> None:
    async for line in lines:
        seen.append(line)
        if line == ": heartbeat":
            return


async def test_zz_open_worklist_streams_end_when_the_server_stops(reception_server: SglProcess) -> None:
    """Runs last in this module (it stops the module's server): a workbench left open does not hold the server
    up; its stream ends and the server exits normally (no kill after the grace period)."""
    async with _streaming(reception_server, "secretaire") as desk, desk.stream("GET", "$worklist-events") as answer:
        seen: list[str] = []
        lines = answer.aiter_lines()
        await asyncio.wait_for(_events(lines, lambda d: True, seen), 30)
        stopping = asyncio.create_task(asyncio.to_thread(reception_server.stop))
        with pytest.raises(AssertionError, match="the stream ended"):
            await asyncio.wait_for(_events(lines, lambda d: False, seen), 30)
        assert await asyncio.wait_for(stopping, 60) == 0

