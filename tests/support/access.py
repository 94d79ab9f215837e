"""Acting as a role over real HTTP: an API client registered with ``sgl clients create`` (the command
an operator runs), then OAuth 2.0 client credentials at the token endpoint the server advertises;
the bearer token is fetched on first use and again whenever the server answers 401 (expired)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.sgl_server import SglProcess

SGL = str(Path(sys.executable).parent / "sgl")


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str


_CACHE: dict[tuple[str, str, str | None, str], Credentials] = {}


def sgl_clients_create(data_dir: Path, role: str, *, practitioner: str | None = None,
                       name: str | None = None, env: dict[str, str] | None = None) -> Credentials:
    """``sgl clients create`` (stdout is exactly one JSON object), cached per data dir, role, practitioner and name:
    a test that names its client gets one of its own, not the one every other test of the worker acts with (and
    may revoke or disable it without touching theirs, whichever ran first); ``env``: the server's own settings
    (``SGL_MONGODB_URI``...) when they differ from this process's."""
    name = name or f"test-{role}"
    key = (str(data_dir), role, practitioner, name)
    if key not in _CACHE:
        cmd = [SGL, "clients", "create", name, "--role", role, "--data-dir", str(data_dir)]
        if practitioner:
            cmd += ["--practitioner", practitioner]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120,
                             env={**os.environ, **env} if env else None)
        data = json.loads(out.stdout)
        assert set(data) == {"client_id", "client_secret"}, out.stdout
        _CACHE[key] = Credentials(data["client_id"], data["client_secret"])
    return _CACHE[key]


class ClientCredentials(httpx.Auth):
    """httpx auth flow: a bearer token from the token endpoint, renewed on 401."""

    requires_response_body = True

    def __init__(self, token_url: str, credentials: Credentials) -> None:
        self.token_url = token_url
        self.credentials = credentials
        self.token: str | None = None

    def _token_request(self) -> httpx.Request:
        basic = httpx.BasicAuth(self.credentials.client_id, self.credentials.client_secret)
        request = httpx.Request("POST", self.token_url, data={"grant_type": "client_credentials"})
        return next(basic.auth_flow(request))

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        for attempt in (1, 2):
            if self.token is None:
                answer = yield self._token_request()
                answer.raise_for_status()
                self.token = answer.json()["access_token"]
            request.headers["Authorization"] = f"Bearer {self.token}"
            response = yield request
            if response.status_code != 401 or attempt == 2:
                return
            self.token = None


def token_url(base: str) -> str:
    """``base`` is the FHIR base (``http://127.0.0.1:P/fhir``); the server's SMART configuration names the endpoint."""
    return str(httpx.get(f"{base}/.well-known/smart-configuration", timeout=30).json()["token_endpoint"])


_AUTHS: dict[tuple[str, str, str, str | None], ClientCredentials] = {}


def auth_for(base: str, data_dir: Path, role: str, *, practitioner: str | None = None,
             env: dict[str, str] | None = None) -> ClientCredentials:
    """The auth flow of a client with ``role`` on that server, one per (server, role): its token is kept. The
    key names the data dir as well as the address: a port freed by a stopped server is given again to the next
    one, and that server's store does not know the first one's clients (a 401 at the token endpoint)."""
    key = (base, str(data_dir), role, practitioner)
    if key not in _AUTHS:
        _AUTHS[key] = ClientCredentials(token_url(base), sgl_clients_create(data_dir, role, practitioner=practitioner,
                                                                            env=env))
    return _AUTHS[key]


def role_client(base: str, data_dir: Path, role: str, *, practitioner: str | None = None,
                timeout: float = 30.0) -> httpx.AsyncClient:
    """An async FHIR client acting with ``role`` on the server at ``base`` (data dir ``data_dir``)."""
    return httpx.AsyncClient(base_url=base + "/", timeout=timeout, headers={"Accept": "application/fhir+json"},
                             auth=auth_for(base, data_dir, role, practitioner=practitioner))


def server_client(server: SglProcess, role: str) -> httpx.AsyncClient:
    """``role_client`` on a server a test started (its base URL and data dir)."""
    return role_client(server.base, server.data_dir, role)


BIOLOGIST_RPPS = "10009876543"
BIOLOGIST_DISPLAY = "Dr Claire VALIDEUR"
"""How traces and documents name the session's validating biologist (from the Practitioner, not a login)."""


RPPS_OID = "urn:oid:1.2.250.1.71.4.2.1"
PROFESSION = "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"


def biologist_practitioner(rpps: str = BIOLOGIST_RPPS, family: str = "VALIDEUR",
                           given: str = "Claire") -> dict[str, object]:
    """A biologist as FR Core writes one: RPPS as idNatPs (``8`` + RPPS) under the ANS OID."""
    return {"resourceType": "Practitioner", "active": True,
            "identifier": [{"type": {"coding": [{"system": "http://interopsante.org/fhir/CodeSystem/fr-v2-0203",
                                                 "code": "IDNPS"}]},
                            "system": RPPS_OID, "value": f"8{rpps}"}],
            "name": [{"family": family, "given": [given], "prefix": ["Dr"]}],
            "qualification": [{"code": {"coding": [
                {"system": PROFESSION, "code": "10", "display": "Médecin"},
                {"system": "urn:oid:1.2.250.1.213.1.1.4.5", "code": "G15_10/SM03",
                 "display": "Médecin - Biologie médicale (SM)"}]}}]}


class ActAs:
    """HTTP clients per role on one server, made once per session and closed at its end."""

    def __init__(self, server: object) -> None:
        self.base: str = server.base  # type: ignore[attr-defined]
        self.data_dir: Path = server.data_dir  # type: ignore[attr-defined]
        self._clients: dict[tuple[str, str | None], httpx.AsyncClient] = {}
        self.biologist_ref: str | None = None

    async def __call__(self, role: str, *, practitioner: str | None = None) -> httpx.AsyncClient:
        key = (role, practitioner)
        if key not in self._clients:
            self._clients[key] = role_client(self.base, self.data_dir, role, practitioner=practitioner)
        return self._clients[key]

    async def biologist(self, role: str = "biologiste-responsable") -> httpx.AsyncClient:
        """A client acting as an RPPS-identified biologist (what a legally binding validation needs)."""
        if self.biologist_ref is None:
            admin = await self("administrateur")
            found = (await admin.get("Practitioner", params={"identifier": f"{RPPS_OID}|8{BIOLOGIST_RPPS}"})).json()
            if found.get("entry"):
                self.biologist_ref = f"Practitioner/{found['entry'][0]['resource']['id']}"
            else:
                created = await admin.post("Practitioner", json=biologist_practitioner())
                assert created.status_code == 201, created.text
                self.biologist_ref = f"Practitioner/{created.json()['id']}"
        return await self(role, practitioner=self.biologist_ref)

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()


def caller_id(client: httpx.AsyncClient) -> str:
    """The id traces give the API client behind ``client`` (``client:<client_id>``)."""
    auth = client.auth
    assert isinstance(auth, ClientCredentials)
    return f"client:{auth.credentials.client_id}"
