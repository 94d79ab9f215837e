"""Generated from the server's own description: every route of the OpenAPI document and every
operation of the CapabilityStatement is called anonymously (401 with WWW-Authenticate) and with each
role (the permission table's answer: 403 naming the missing permission, or no refusal). A new route
or operation without a row in the table fails here (SGL.INS.05, SGL.INS.06)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from resources.search.params import RESOURCE_TYPES
from server.access.doors import SELF_AUTHENTICATED, door
from server.access.permissions import allows, has_rule, permission_name
from server.access.roles import ROLES
from tests.support.access import ActAs
from tests.support.sgl_server import SglProcess

pytestmark = pytest.mark.db
ABSENT = "no-such-id"


def _calls(openapi: dict[str, Any]) -> list[tuple[str, str, str, tuple[str, str] | None]]:
    """(method, template, concrete path, door) for every route, each ``{rtype}`` route once per resource type."""
    out = []
    for template, methods in openapi["paths"].items():
        for method in methods:
            types = RESOURCE_TYPES if "{rtype}" in template else (None,)
            for rtype in types:
                params = {"rtype": rtype} if rtype else {}
                path = template.replace("{rtype}", rtype or "").replace("{rid}", ABSENT).replace(
                    "{pid}", ABSENT).replace("{vid}", "1")
                out.append((method.upper(), template, path, door(method.upper(), template, params)))
    return out


@pytest.fixture(scope="module")
def calls(sgl_server: SglProcess) -> list[tuple[str, str, str, tuple[str, str] | None]]:
    return _calls(httpx.get(f"http://127.0.0.1:{sgl_server.port}/openapi.json", timeout=30).json())


async def _send(client: httpx.AsyncClient, method: str, path: str) -> httpx.Response:
    url = path.removeprefix("/fhir").lstrip("/")
    if path.startswith("/auth/"):
        url = str(client.base_url).rstrip("/").removesuffix("/fhir") + path
    if method in ("POST", "PUT"):
        return await client.request(method, url, content=b"{}", headers={"Content-Type": "application/fhir+json"})
    return await client.request(method, url)


@pytest.mark.req("SGL.INS.05")
def test_every_route_and_operation_has_a_rule_SGL_INS_05(
        calls: list[tuple[str, str, str, tuple[str, str] | None]], sgl_server: SglProcess) -> None:
    missing = sorted({f"{m} {t} -> {d}" for m, t, _, d in calls if d is not None and not has_rule(*d)})
    assert not missing, f"routes without a permission rule: {missing}"
    metadata = httpx.get(f"{sgl_server.base}/metadata", timeout=30).json()
    rest = metadata["rest"][0]
    declared = [(r["type"], f"${o['name']}") for r in rest["resource"] for o in r.get("operation", [])]
    assert declared and all(has_rule(t, op) for t, op in declared), declared
    assert {d for *_, d in calls if d} >= set(declared)


@pytest.mark.req("SGL.INS.05")
async def test_anonymous_calls_get_401_with_a_challenge_SGL_INS_05(
        calls: list[tuple[str, str, str, tuple[str, str] | None]], sgl_server: SglProcess) -> None:
    async with httpx.AsyncClient(base_url=sgl_server.base + "/", timeout=60) as anonymous:
        for method, template, path, wanted in calls:
            answer = await _send(anonymous, method, path)
            if wanted is None:
                assert (answer.status_code == 401) == ((method, template) in SELF_AUTHENTICATED), (method, path)
                continue
            assert answer.status_code == 401, (method, path, answer.status_code, answer.text[:200])
            assert answer.headers["www-authenticate"].startswith("Bearer"), (method, path)
            assert answer.json()["issue"][0]["code"] == "login"


@pytest.mark.req("SGL.INS.05")
@pytest.mark.req("SGL.INS.06")
@pytest.mark.parametrize("role", ROLES)
async def test_each_role_gets_the_tables_answer_on_every_route_SGL_INS_05_06(
        role: str, calls: list[tuple[str, str, str, tuple[str, str] | None]], act_as: ActAs) -> None:
    client = await act_as(role)
    wrong = []
    for method, template, path, wanted in calls:
        if wanted is None or template.startswith("/auth/"):
            continue
        answer = await _send(client, method, path)
        body = answer.text
        refused = answer.status_code == 403 and "lacks the permission" in body
        if allows(role, *wanted) == refused or answer.status_code in (401, 500):
            wrong.append((method, path, answer.status_code, body[:160]))
        elif refused and permission_name(*wanted) not in body:
            wrong.append((method, path, "403 without naming", body[:160]))
    assert not wrong, f"{role}: {len(wrong)} answers differ from the table: {wrong[:8]}"


@pytest.mark.req("SGL.INS.05")
async def test_collections_that_are_not_resource_types_are_404_SGL_INS_05(act_as: ActAs,
                                                                            sgl_server: SglProcess) -> None:
    tech = await act_as("technicien")
    names = ["Patient_history", "AuditEvent_history", "Binary_history", "inbound_messages", "access_users",
             "access_clients", "access_tokens", "counters"]
    answers = await asyncio.gather(*(tech.get(n) for n in names))
    assert [a.status_code for a in answers] == [404] * len(names), [a.text[:120] for a in answers]
    async with httpx.AsyncClient(base_url=sgl_server.base + "/", timeout=30) as anonymous:
        assert (await anonymous.get("Patient_history")).status_code == 401


@pytest.mark.req("SGL.INS.05")
async def test_batch_entries_and_includes_are_checked_by_the_table_SGL_INS_05(act_as: ActAs) -> None:
    tech, robot = await act_as("technicien"), await act_as("automate")
    batch = await tech.post("", json={"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "POST", "url": "Patient"}, "resource": {"resourceType": "Patient"}},
        {"request": {"method": "DELETE", "url": f"AuditEvent/{ABSENT}"}},
        {"request": {"method": "GET", "url": "Binary?_count=1"}},
        {"request": {"method": "GET", "url": "Observation?_count=1"}}]})
    assert batch.status_code == 200, batch.text
    statuses = [e["response"]["status"] for e in batch.json()["entry"]]
    assert statuses == ["403", "403", "403", "200"], batch.text
    assert "create on Patient" in str(batch.json()["entry"][0]) and "delete on AuditEvent" in str(batch.json())
    transaction = await tech.post("", json={"resourceType": "Bundle", "type": "transaction", "entry": [
        {"request": {"method": "POST", "url": "Observation"}, "fullUrl": "urn:uuid:1",
         "resource": {"resourceType": "Observation", "status": "preliminary", "code": {"text": "x"}}},
        {"request": {"method": "POST", "url": "Provenance"}, "resource": {"resourceType": "Provenance"}}]})
    assert transaction.status_code == 403 and "create on Provenance" in transaction.text
    included = await robot.get("ServiceRequest", params={"_include": "ServiceRequest:subject:Patient"})
    assert included.status_code == 403 and "read on Patient" in included.text
    rev = await tech.get("Observation", params={"_revinclude": "Provenance:target"})
    assert rev.status_code == 403 and "read on Provenance" in rev.text


@pytest.mark.req("SGL.INS.05")
async def test_an_id_spelled_like_an_operation_does_not_turn_the_operation_into_a_read_SGL_INS_05(
        act_as: ActAs) -> None:
    """Found by probing: ``GET Patient/$deliveries/$deliveries`` (the id ``$deliveries``) was classified as a read
    of Patient, so a technicien, whom the table refuses ``$deliveries`` and ``$cr-bio``, reached those handlers
    (they answered 404 "does not exist" instead of 403)."""
    tech = await act_as("technicien")
    for path, permission in (("Patient/$deliveries/$deliveries", "$deliveries on Patient"),
                             ("DiagnosticReport/$cr-bio/$cr-bio", "$cr-bio on DiagnosticReport")):
        refused = await tech.get(path)
        assert refused.status_code == 403 and permission in refused.text, (path, refused.text)
    unknown = await (await act_as("biologiste-responsable")).get("Patient/$everything")
    assert unknown.status_code == 404 and "$everything is not supported on Patient" in unknown.text, unknown.text
