"""The web workbench under test: a real ``sgl serve`` serving the built SPA (``web/dist``), local accounts made
with ``sgl users create`` (as an operator would), lab data written through the public FHIR API by the
partners' and staff's API clients, and the browser tests of ``web/e2e`` run by Node (playwright-core
driving Debian's Chromium) against it.

The data: a qualified identity fed by the identity source (INS on the ANS test OID, so the server runs
with ``SGL_TEST_MODE``), a provisional one typed at the desk, and for the qualified patient an earlier
order validated biologically (the "previous value") and a current order whose results a technician has
validated technically, so that its report waits for a biologist.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from resources.ins import OID_INS_NIR_TEST, ins_identifier_for
from resources.patient_traits import birth_given_names_extension, birthplace_extension
from server.access import accounts
from server.access.clients import create_client
from server.database import open_database
from server.settings import Settings
from tests.support.access import ClientCredentials, Credentials, biologist_practitioner, token_url
from tests.support.sgl_server import SglProcess
from tests.support.validation_lab import CATALOG, UCUM, UNITS

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "web"
RELIABILITY = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-identity-reliability"
STATUS_SYSTEM = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-identity-status"
QUALIFIED_INS = "282077505612323"
BIOLOGIST_RPPS = "99700200001"
"""The RPPS of the PSC simulator's test biologist: Pro Santé Connect logs in the account holding it."""
PASSWORD = "Motdepasse-de-test-2026"
USERS = {  # login -> (role, full name)
    "sophie": ("secretaire", "Sophie ACCUEIL"),
    "thomas": ("technicien", "Thomas PAILLASSE"),
    "claire": ("biologiste", "Dr Claire VALIDEUR"),
}
SERVER_ENV = {"SGL_TEST_MODE": "true"}


def web_built() -> str | None:
    """Why the browser tests cannot run here, or None: they need the built SPA, Node's packages and Chromium."""
    if not (WEB / "dist" / "index.html").is_file():
        return "web/dist is missing: run `npm ci && npm run build` in web/ (scripts/test does)"
    if not (WEB / "node_modules" / "playwright-core").is_dir():
        return "web/node_modules is missing: run `npm ci` in web/ (scripts/test does)"
    if not chromium():
        return "Chromium is missing: apt-get install chromium (scripts/bootstrap.sh does)"
    return None


def chromium() -> str | None:
    return os.environ.get("SGL_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def qualified_patient() -> dict[str, Any]:
    """As a hospital identity source sends a qualified identity: INS, birth first names, birthplace, used name."""
    return {
        "resourceType": "Patient",
        "extension": [
            {"url": RELIABILITY, "extension": [
                {"url": "identityStatus", "valueCoding": {"system": STATUS_SYSTEM, "code": "QUAL"}}]},
            birth_given_names_extension(["MARIE-HÉLÈNE", "LOUISE"]),
            birthplace_extension("75056", city="Paris"),
        ],
        "identifier": [ins_identifier_for(QUALIFIED_INS, OID_INS_NIR_TEST),
                       {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "PI"}]},
                        "system": "urn:oid:1.2.250.1.999.1.1", "value": "IPP-WB-0001"}],
        "name": [{"use": "official", "family": "DE LA FONTAINE", "given": ["MARIE-HÉLÈNE", "LOUISE"]},
                 {"use": "usual", "family": "MARTIN", "given": ["Marie"]}],
        "gender": "female",
        "birthDate": "1982-07-14",
    }


def provisional_patient() -> dict[str, Any]:
    return {"resourceType": "Patient", "gender": "male", "birthDate": "1990-02-03",
            "name": [{"use": "official", "family": "LEFEVRE", "given": ["Jean-Luc"]}],
            "extension": [birthplace_extension("99999")]}


@dataclass
class Lab:
    """API clients made on the server's database by the function behind ``sgl clients create`` (one process
    for all: a CLI process per role costs seconds each under load), each then getting its tokens over HTTP."""

    server: SglProcess
    db: AsyncDatabase[Any]
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    async def client(self, role: str, practitioner: str | None = None) -> httpx.AsyncClient:
        made, secret = await create_client(self.db, f"workbench-{role}", role=role, practitioner=practitioner)
        client = httpx.AsyncClient(base_url=self.server.base + "/", timeout=60, auth=ClientCredentials(
            token_url(self.server.base), Credentials(made.client_id, secret)))
        self.clients.append(client)
        return client

    async def created(self, client: httpx.AsyncClient, body: dict[str, Any]) -> str:
        answer = await client.post(body["resourceType"], json=body)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])

    async def order(self, lab: httpx.AsyncClient, patient: str, results: dict[str, float], when: str) -> list[str]:
        """One order (a ServiceRequest) and its analyzer results (preliminary Observations in catalogue units)."""
        request = await self.created(lab, {
            "resourceType": "ServiceRequest", "status": "active", "intent": "order",
            "subject": {"reference": f"Patient/{patient}"}, "code": {"text": "bilan"},
            "requisition": {"system": "https://opensgl.org/sid/demande", "value": f"D{uuid.uuid4().hex[:8].upper()}"}})
        out = []
        for code, value in results.items():
            out.append(await self.created(lab, {
                "resourceType": "Observation", "status": "preliminary",
                "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                          "code": "laboratory"}]}],
                "code": {"coding": [{"system": CATALOG, "code": code}]},
                "subject": {"reference": f"Patient/{patient}"},
                "basedOn": [{"reference": f"ServiceRequest/{request}"}], "effectiveDateTime": when,
                "valueQuantity": {"value": value, "unit": UNITS[code], "system": UCUM, "code": UNITS[code]}}))
        return out

    async def validate_technically(self, lab: httpx.AsyncClient, observations: list[str]) -> str:
        """The batch technical validation; returns the order's report id."""
        answer = await lab.post("Observation/$validate-technical", json={
            "resourceType": "Parameters",
            "parameter": [{"name": "observation", "valueReference": {"reference": f"Observation/{o}"}}
                          for o in observations]})
        assert answer.status_code == 200, answer.text
        found = await lab.get("DiagnosticReport", params={"result": f"Observation/{observations[0]}"})
        return str(found.json()["entry"][0]["resource"]["id"])


async def seed(server: SglProcess, *, identities_only: bool = False) -> dict[str, str]:
    """The data the browser tests look at and the accounts of ``USERS``; returns the ids the tests need."""
    database = await open_database(Settings(data_dir=server.data_dir))
    lab = Lab(server, database.db)
    try:
        feed, bench = await lab.client("source-identite"), await lab.client("biologiste-responsable")
        ids = {"qualified": await lab.created(feed, qualified_patient()),
               "provisional": await lab.created(bench, provisional_patient())}
        if identities_only:
            await _create_users(database.db, None)
            return ids
        biologist = f"Practitioner/{await lab.created(bench, biologist_practitioner())}"
        earlier = await lab.order(bench, ids["qualified"], {"GLU": 0.95, "K": 4.2}, "2026-10-02T08:00:00+02:00")
        ids["earlier_report"] = await lab.validate_technically(bench, earlier)
        signer = await lab.client("biologiste-responsable", practitioner=biologist)
        done = await signer.post(f"DiagnosticReport/{ids['earlier_report']}/$validate-biological",
                                 json={"resourceType": "Parameters", "parameter": []})
        assert done.status_code == 200, done.text
        current = await lab.order(bench, ids["qualified"], {"GLU": 1.32, "K": 6.5, "NA": 140},
                                  "2026-11-20T08:00:00+01:00")
        ids["pending_report"] = await lab.validate_technically(bench, current)
        other = await lab.order(bench, ids["provisional"], {"CREA": 98}, "2026-11-21T09:30:00+01:00")
        ids["other_report"] = await lab.validate_technically(bench, other)  # validated "by someone else" in a test
        # left at the bench: not technically validated
        await lab.order(bench, ids["provisional"], {"GLU": 0.88, "UREA": 5.1}, "2026-11-22T07:45:00+01:00")
        await _create_users(database.db, biologist)
        return ids
    finally:
        for client in lab.clients:
            await client.aclose()
        await database.close()


async def _create_users(db: AsyncDatabase[Any], biologist: str | None) -> None:
    """The accounts, by the function behind ``sgl users create``; the biologist acts as that Practitioner."""
    for login, (role, name) in USERS.items():
        await accounts.create_user(db, login, PASSWORD, role=role, name=name,
                                   practitioner=biologist if role == "biologiste" else None,
                                   rpps=BIOLOGIST_RPPS if role == "biologiste" else None)


def run_e2e(suite: str, server: SglProcess, ids: dict[str, str], out_dir: Path,
            timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """``node --test web/e2e/<suite>.test.mjs`` against the server; the fixture reaches it as JSON in the env."""
    fixture = {"baseUrl": f"http://127.0.0.1:{server.port}", "password": PASSWORD, "ids": ids,
               "users": {login: role for login, (role, _) in USERS.items()}, "chromium": chromium(),
               "screenshots": str(out_dir)}
    env = {**os.environ, "SGL_WEB_FIXTURE": json.dumps(fixture)}
    return subprocess.run(["node", "--test", "--test-reporter=spec", f"e2e/{suite}.test.mjs"], cwd=WEB, env=env,
                          capture_output=True, text=True, timeout=timeout)


def browser_suite(suite: str, server: SglProcess, ids: dict[str, str], screenshots: Path) -> str:
    """Run one ``web/e2e`` suite and fail with its Node report unless every test of it passed (and some ran)."""
    missing = web_built()
    assert missing is None, missing  # the README's test command builds it: a missing build is a failure here
    done = run_e2e(suite, server, ids, screenshots)
    report = done.stdout + done.stderr
    assert done.returncode == 0, f"browser tests {suite} failed:\n{report[-6000:]}"
    passed = re.search(r"ℹ pass (\d+)", report)
    failed = re.search(r"ℹ fail (\d+)", report)
    assert passed and int(passed.group(1)) > 0 and failed and failed.group(1) == "0", report[-3000:]
    return report
