"""The administration over the public FHIR API (issue 15): accounts as ``Person`` with their operations, socket
partners as ``Endpoint``, on a real ``sgl serve`` of its own (its administrators are counted, so no other test's
accounts may share it). The same service answers ``sgl users`` / ``sgl partners``: what one door writes, the
other reads. Every door refuses the other roles with a 403 OperationOutcome; every change leaves an AuditEvent
naming who made it; a password is never returned nor traced."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from server.access import accounts as accounts_store
from server.access.clients import create_client
from server.database import Database, open_database
from server.settings import Settings
from tests.support.access import ClientCredentials, Credentials, token_url
from tests.support.partner_messages import msa, oru, send, sgl_partners
from tests.support.sgl_cli import run_sgl
from tests.support.sgl_server import SglProcess, start_sgl

pytestmark = pytest.mark.db
ROOT_PASSWORD = "racine-du-labo-2026"
NEW_PASSWORD = "Nouveau-mot-de-passe-42"
ROLE_URL = "urn:opensgl:StructureDefinition/role"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SglProcess]:
    sgl = start_sgl(tmp_path_factory.mktemp("admin") / "var", partners=None)
    yield sgl
    sgl.stop()


@pytest.fixture(scope="module")
async def database(server: SglProcess) -> AsyncIterator[Database]:
    """The server's own database, opened beside it: the first administrator and the API clients are written
    there directly (``sgl users create-admin`` and ``sgl clients create`` are tested in tests/server/access)."""
    opened = await open_database(Settings(data_dir=server.data_dir))
    await accounts_store.create_user(opened.db, "root", ROOT_PASSWORD, role="administrateur", name="Régine RACINE")
    yield opened
    await opened.close()


async def client_as(server: SglProcess, database: Database, role: str) -> httpx.AsyncClient:
    made, secret = await create_client(database.db, f"admin-test-{role}", role=role)
    return httpx.AsyncClient(base_url=server.base + "/", timeout=60, auth=ClientCredentials(
        token_url(server.base), Credentials(made.client_id, secret)))


@pytest.fixture(scope="module")
async def admin(server: SglProcess, database: Database) -> AsyncIterator[httpx.AsyncClient]:
    async with await client_as(server, database, "administrateur") as client:
        yield client


def params(**values: Any) -> dict[str, Any]:
    parts = []
    for name, value in values.items():
        for one in value if isinstance(value, list) else [value]:
            kind = "valueBoolean" if isinstance(one, bool) else "valueString"
            parts.append({"name": name, kind: one})
    return {"resourceType": "Parameters", "parameter": parts}


async def login(server: SglProcess, username: str, password: str) -> int:
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await http.post(f"http://127.0.0.1:{server.port}/auth/login",
                                 json={"username": username, "password": password})
        return answer.status_code


async def accounts(admin: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    answer = await admin.get("Person")
    assert answer.status_code == 200, answer.text
    return {e["resource"]["id"]: e["resource"] for e in answer.json()["entry"]}


def role_of(person: dict[str, Any]) -> str:
    return str(next(e["valueCode"] for e in person["extension"] if e["url"] == ROLE_URL))


async def admin_trail(admin: httpx.AsyncClient, target: str) -> list[dict[str, Any]]:
    answer = await admin.get("AuditEvent", params={"_count": "500"})
    assert answer.status_code == 200, answer.text
    return [e["resource"] for e in answer.json().get("entry", [])
            if any(s.get("system") == "urn:opensgl:admin" for s in e["resource"].get("subtype", []))
            and e["resource"]["entity"][0]["what"]["identifier"]["value"] == target]


async def test_an_administrator_manages_an_account_over_fhir(server: SglProcess, admin: httpx.AsyncClient) -> None:
    created = await admin.post("Person/$create-account", json=params(
        username="m.durand", role="secretaire", password="Accueil-du-matin-7", name="Martine DURAND",
        rpps="10001234567"))
    assert created.status_code == 201, created.text
    assert created.headers["location"].endswith("/Person/m.durand")
    person = created.json()
    assert person["resourceType"] == "Person" and person["active"] is True and role_of(person) == "secretaire"
    assert {"system": "https://rpps.esante.gouv.fr", "value": "10001234567"} in person["identifier"]
    assert "Accueil-du-matin-7" not in created.text and "argon2" not in created.text
    listed = await accounts(admin)
    assert listed["m.durand"]["name"] == [{"text": "Martine DURAND"}] and role_of(listed["root"]) == "administrateur"
    assert "argon2" not in json.dumps(listed)
    assert await login(server, "m.durand", "Accueil-du-matin-7") == 200

    changed = await admin.post("Person/m.durand/$set-role", json=params(role="technicien"))
    assert changed.status_code == 200 and role_of(changed.json()) == "technicien", changed.text
    reset = await admin.post("Person/m.durand/$set-password", json=params(password=NEW_PASSWORD))
    assert reset.status_code == 204 and not reset.content
    assert await login(server, "m.durand", "Accueil-du-matin-7") == 401
    assert await login(server, "m.durand", NEW_PASSWORD) == 200
    disabled = await admin.post("Person/m.durand/$disable")
    assert disabled.status_code == 200 and disabled.json()["active"] is False
    assert await login(server, "m.durand", NEW_PASSWORD) == 401
    enabled = await admin.post("Person/m.durand/$enable")
    assert enabled.json()["active"] is True and (await admin.post("Person/m.durand/$unlock")).status_code == 200
    assert await login(server, "m.durand", NEW_PASSWORD) == 200

    listed_cli = run_sgl("users", "list", "--data-dir", str(server.data_dir), timeout=120)
    assert "m.durand;technicien;active;10001234567;;Martine DURAND" in listed_cli.stdout.splitlines()
    trail = await admin_trail(admin, "m.durand")
    assert sorted(t["subtype"][0]["code"] for t in trail) == sorted([
        "account-create", "account-role", "account-password", "account-disable", "account-enable", "account-unlock"])
    assert all(t["agent"][0]["who"]["identifier"]["value"].startswith("client:") for t in trail)
    role_change = next(t for t in trail if t["subtype"][0]["code"] == "account-role")
    assert role_change["type"]["code"] == "110136" and "secretaire -> technicien" in role_change["outcomeDesc"]
    assert NEW_PASSWORD not in json.dumps(trail) and NEW_PASSWORD not in server.log.read_text(errors="replace")


async def test_bad_account_input_is_refused_and_stores_nothing(admin: httpx.AsyncClient) -> None:
    before = await accounts(admin)
    cases = [
        (params(username="court", role="secretaire", password="court"), 400, "at least 12"),
        (params(username="Jean Dupont", role="secretaire", password="un-mot-de-passe-long"), 400, "user name"),
        (params(username="x" * 10_000, role="secretaire", password="un-mot-de-passe-long"), 400, "200 characters"),
        (params(username="jean", role="pape", password="un-mot-de-passe-long"), 400, "unknown role"),
        (params(username="jean", role="secretaire", password="un-mot-de-passe-long", rpps="123"), 400, "11 digits"),
        (params(username="root", role="secretaire", password="un-mot-de-passe-long"), 409, "already exists"),
        (params(role="secretaire", password="un-mot-de-passe-long"), 400, "username is required"),
        ({"resourceType": "Patient"}, 400, "Parameters"),
    ]
    for body, status, words in cases:
        answer = await admin.post("Person/$create-account", json=body)
        assert answer.status_code == status, (body, answer.text)
        outcome = answer.json()
        assert outcome["resourceType"] == "OperationOutcome" and words in outcome["issue"][0]["diagnostics"]
        assert "court" not in outcome["issue"][0]["diagnostics"] or words == "user name"
    assert await accounts(admin) == before
    assert (await admin.post("Person/personne/$disable")).status_code == 404
    assert (await admin.post("Person/root/$set-role", json=params(role="pape"))).status_code == 400


async def test_the_last_administrator_stays(server: SglProcess, admin: httpx.AsyncClient) -> None:
    for refused in (admin.post("Person/root/$disable"), admin.post("Person/root/$set-role", json=params(
            role="secretaire"))):
        answer = await refused
        assert answer.status_code == 409 and "at least one active administrator" in answer.text, answer.text
    cli = run_sgl("users", "disable", "root", "--data-dir", str(server.data_dir), timeout=120)
    assert cli.returncode == 1 and "at least one active administrator" in cli.stderr
    assert (await accounts(admin))["root"]["active"] is True

    second = await admin.post("Person/$create-account", json=params(username="adjoint", role="administrateur",
                                                                    password="Seconde-cle-du-labo"))
    assert second.status_code == 201, second.text
    assert (await admin.post("Person/root/$disable")).status_code == 200
    assert (await admin.post("Person/adjoint/$disable")).status_code == 409
    assert (await admin.post("Person/root/$enable")).status_code == 200
    moved = run_sgl("users", "set-role", "adjoint", "--role", "biologiste", "--data-dir", str(server.data_dir),
                    timeout=120)
    assert moved.returncode == 0, moved.stderr
    assert role_of((await accounts(admin))["adjoint"]) == "biologiste"
    by_cli = next(t for t in await admin_trail(admin, "adjoint") if t["subtype"][0]["code"] == "account-role")
    assert by_cli["agent"][0]["who"]["identifier"]["value"].startswith("operator:")  # the CLI, traced the same way


async def test_partners_are_administered_over_fhir_and_the_listener_follows(
        server: SglProcess, admin: httpx.AsyncClient) -> None:
    added = await admin.post("Endpoint/$add-partner", json=params(
        name="cobas-pro", role="automate", hl7_application="COBAS", addresses=["127.0.0.1/32"],
        options=["test_code=auto"]))
    assert added.status_code == 201, added.text
    endpoint = added.json()
    assert endpoint["resourceType"] == "Endpoint" and endpoint["connectionType"]["code"] == "hl7v2-mllp"
    assert msa(await send(server.mllp_port, oru("COBAS")))[0] != "AR"  # admitted at once (the cache is cleared)
    listed = await admin.get("Endpoint")
    assert [e["resource"]["id"] for e in listed.json()["entry"]] == ["cobas-pro"]
    cli = sgl_partners(server.data_dir, "list")
    assert any(line.startswith("cobas-pro;automate;COBAS;") for line in cli.stdout.splitlines()), cli.stdout

    for body, status, words in [
        (params(name="autre", role="automate", hl7_application="COBAS"), 409, "already registered"),
        (params(name="mauvais", role="automate", hl7_application="X", addresses=["300.1.1.1"]), 400, "CIDR"),
        (params(name="mauvais", role="pape", hl7_application="X"), 400, "unknown partner role"),
        (params(name="mauvais", role="automate", hl7_application="X", couleur="bleu"), 400, "unknown partner field"),
        (params(name="mauvais", role="automate", hl7_application="X", options=["vitesse"]), 400, "KEY=VALUE"),
    ]:
        answer = await admin.post("Endpoint/$add-partner", json=body)
        assert answer.status_code == status and words in answer.text, (body, answer.text)
    assert len((await admin.get("Endpoint")).json()["entry"]) == 1

    assert (await admin.delete("Endpoint/cobas-pro")).status_code == 204
    assert (await admin.delete("Endpoint/cobas-pro")).status_code == 404
    assert msa(await send(server.mllp_port, oru("COBAS")))[0] == "AR"
    trail = await admin_trail(admin, "cobas-pro")
    assert sorted(t["subtype"][0]["code"] for t in trail) == ["partner-create", "partner-remove"]


async def test_a_partners_mappings_and_options_are_changed_on_the_version_read(
        server: SglProcess, admin: httpx.AsyncClient) -> None:
    added = await admin.post("Endpoint/$add-partner", json=params(
        name="pam-chu", role="source-identite", hl7_application="CHU-PAM", identifier_types=["PN=PI"]))
    assert added.status_code == 201, added.text
    assert added.json()["meta"]["versionId"] == "1"
    change = params(identifier_types=["MR=PI", "NH=NIIP"], options=["test_code=alternate"])
    changed = await admin.post("Endpoint/pam-chu/$set-mappings", json=change, headers={"If-Match": 'W/"1"'})
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == 'W/"2"' and changed.json()["meta"]["versionId"] == "2"
    entries = (await admin.get("Endpoint")).json()["entry"]
    listed = next(e["resource"] for e in entries if e["resource"]["id"] == "pam-chu")
    assert sorted(e["valueString"] for e in listed["extension"] if e["url"].endswith("identifier_types")) == [
        "MR=PI", "NH=NIIP"]
    cli = sgl_partners(server.data_dir, "list")  # the registry the listeners read
    assert any(line.startswith("pam-chu;source-identite;CHU-PAM;") and ";MR=PI,NH=NIIP;" in line
               for line in cli.stdout.splitlines()), cli.stdout

    stale = await admin.post("Endpoint/pam-chu/$set-mappings", json=params(identifier_types=["PI=PI"]),
                             headers={"If-Match": 'W/"1"'})
    assert stale.status_code == 412 and "changed since you opened it" in stale.text, stale.text
    for body, words, where in [
        (params(identifier_types=["MR=XX"]), "the target must be one of", "identifier_type"),
        (params(options=["vitesse=2"]), "unknown partner option vitesse", "option"),
        (params(options=["test_code=premier"]), "test_code='premier'", "option"),
        (params(identifier_types=["MR"]), "KEY=VALUE", "Parameters.identifier_types"),
        (params(couleur=["bleu"]), "unknown parameter couleur", "Parameters.couleur"),
    ]:
        answer = await admin.post("Endpoint/pam-chu/$set-mappings", json=body, headers={"If-Match": 'W/"2"'})
        assert answer.status_code == 400 and words in answer.text, (body, answer.text)
        assert answer.json()["issue"][0]["expression"] == [where]
    unknown = await admin.post("Endpoint/personne/$set-mappings", json=change)
    assert unknown.status_code == 404, unknown.text
    cleared = await admin.post("Endpoint/pam-chu/$set-mappings", json=params(), headers={"If-Match": 'W/"2"'})
    assert cleared.status_code == 200 and cleared.json()["meta"]["versionId"] == "3", cleared.text
    assert not [e for e in cleared.json()["extension"] if e["url"].endswith(("identifier_types", "options"))]

    trail = [t for t in await admin_trail(admin, "pam-chu") if t["subtype"][0]["code"] == "partner-update"]
    assert len(trail) == 2 and all(t["action"] == "U" for t in trail)  # refused changes leave no trace
    assert any("identifier types PN=PI -> MR=PI, NH=NIIP; options (aucune) -> test_code=alternate"
               in t["outcomeDesc"] for t in trail), trail
    assert (await admin.delete("Endpoint/pam-chu")).status_code == 204


DOORS = [("GET", "Person", None), ("POST", "Person/$create-account", params(
    username="intrus", role="administrateur", password="je-prends-la-main")),
    ("POST", "Person/root/$disable", None), ("POST", "Person/root/$enable", None),
    ("POST", "Person/root/$unlock", None), ("POST", "Person/root/$set-role", params(role="secretaire")),
    ("POST", "Person/root/$set-password", params(password="je-prends-la-main")),
    ("GET", "Endpoint", None), ("POST", "Endpoint/$add-partner", params(name="x", role="dpi", hl7_application="X")),
    ("POST", "Endpoint/x/$set-mappings", params(identifier_types=["MR=PI"])), ("DELETE", "Endpoint/x", None)]


@pytest.mark.parametrize("role", ["biologiste-responsable", "secretaire"])
async def test_every_administration_door_refuses_another_role(server: SglProcess, database: Database,
                                                              admin: httpx.AsyncClient, role: str) -> None:
    async with await client_as(server, database, role) as other:
        for method, path, body in DOORS:
            answer = await other.request(method, path, json=body)
            assert answer.status_code == 403, (method, path, answer.text)
            outcome = answer.json()
            assert outcome["resourceType"] == "OperationOutcome" and role in outcome["issue"][0]["diagnostics"]
    assert "intrus" not in await accounts(admin)
    assert await login(server, "root", ROOT_PASSWORD) == 200
