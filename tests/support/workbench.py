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
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from resources.ins import OID_INS_NIR_TEST, ins_identifier_for
from resources.patient_traits import birth_given_names_extension, birthplace_extension
from tests.support.access import ActAs
from tests.support.sgl_server import SglProcess
from tests.support.validation_lab import CATALOG, UCUM, UNITS

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "web"
SGL = str(Path(sys.executable).parent / "sgl")
RELIABILITY = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-identity-reliability"
STATUS_SYSTEM = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-identity-status"
QUALIFIED_INS = "282077505612323"
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


def create_user(server: SglProcess, username: str, role: str, name: str, *, practitioner: str | None = None,
                rpps: str | None = None) -> None:
    cmd = [SGL, "users", "create", username, "--role", role, "--name", name, "--password-stdin",
           "--data-dir", str(server.data_dir)]
    if practitioner:
        cmd += ["--practitioner", practitioner]
    if rpps:
        cmd += ["--rpps", rpps]
    subprocess.run(cmd, input=PASSWORD + "\n", text=True, check=True, capture_output=True, timeout=120,
                   env={**os.environ, **SERVER_ENV})


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
    roles: ActAs
    ids: dict[str, str] = field(default_factory=dict)

    async def created(self, client: httpx.AsyncClient, body: dict[str, Any]) -> str:
        answer = await client.post(body["resourceType"], json=body)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])

    async def order(self, patient: str, results: dict[str, float], when: str) -> list[str]:
        """One order (a ServiceRequest) and its analyzer results (preliminary Observations), as sent by an analyzer."""
        desk, analyzer = await self.roles("secretaire"), await self.roles("automate")
        request = await self.created(desk, {
            "resourceType": "ServiceRequest", "status": "active", "intent": "order",
            "subject": {"reference": f"Patient/{patient}"}, "code": {"text": "bilan"},
            "requisition": {"system": "https://opensgl.org/sid/demande", "value": f"D{uuid.uuid4().hex[:8].upper()}"}})
        out = []
        for code, value in results.items():
            out.append(await self.created(analyzer, {
                "resourceType": "Observation", "status": "preliminary",
                "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                          "code": "laboratory"}]}],
                "code": {"coding": [{"system": CATALOG, "code": code}]},
                "subject": {"reference": f"Patient/{patient}"},
                "basedOn": [{"reference": f"ServiceRequest/{request}"}], "effectiveDateTime": when,
                "valueQuantity": {"value": value, "unit": UNITS[code], "system": UCUM, "code": UNITS[code]}}))
        return out

    async def validate_technically(self, observations: list[str]) -> str:
        """The technician's batch technical validation; returns the order's report id."""
        tech = await self.roles("technicien")
        answer = await tech.post("Observation/$validate-technical", json={
            "resourceType": "Parameters",
            "parameter": [{"name": "observation", "valueReference": {"reference": f"Observation/{o}"}}
                          for o in observations]})
        assert answer.status_code == 200, answer.text
        found = await tech.get("DiagnosticReport", params={"result": f"Observation/{observations[0]}"})
        return str(found.json()["entry"][0]["resource"]["id"])


async def seed(roles: ActAs) -> dict[str, str]:
    """The data the browser tests look at; returns the ids they need."""
    lab = Lab(roles)
    feed, desk = await roles("source-identite"), await roles("secretaire")
    ids = {"qualified": await lab.created(feed, qualified_patient()),
           "provisional": await lab.created(desk, provisional_patient())}
    biologist = await roles.biologist()
    earlier = await lab.order(ids["qualified"], {"GLU": 0.95, "K": 4.2}, "2026-10-02T08:00:00+02:00")
    ids["earlier_report"] = await lab.validate_technically(earlier)
    done = await biologist.post(f"DiagnosticReport/{ids['earlier_report']}/$validate-biological",
                                json={"resourceType": "Parameters", "parameter": []})
    assert done.status_code == 200, done.text
    current = await lab.order(ids["qualified"], {"GLU": 1.32, "K": 6.5, "NA": 140}, "2026-11-20T08:00:00+01:00")
    ids["pending_report"] = await lab.validate_technically(current)
    ids["biologist"] = roles.biologist_ref or ""
    return ids


def run_e2e(suite: str, server: SglProcess, ids: dict[str, str], out_dir: Path,
            timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """``node --test web/e2e/<suite>.test.mjs`` against the server; the fixture reaches it as JSON in the env."""
    fixture = {"baseUrl": f"http://127.0.0.1:{server.port}", "password": PASSWORD, "ids": ids,
               "users": {login: role for login, (role, _) in USERS.items()}, "chromium": chromium(),
               "screenshots": str(out_dir)}
    env = {**os.environ, "SGL_WEB_FIXTURE": json.dumps(fixture)}
    return subprocess.run(["node", "--test", "--test-reporter=spec", f"e2e/{suite}.test.mjs"], cwd=WEB, env=env,
                          capture_output=True, text=True, timeout=timeout)
