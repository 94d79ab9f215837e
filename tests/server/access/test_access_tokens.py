"""OAuth 2.0 client credentials over real HTTP (SGL.PSC.01's "current login" for API clients):
discovery, token, refresh, revocation on a running server, and forged tokens refused."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey

from server.access import keys, recent, tokens
from server.settings import Settings
from tests.support.access import SGL, Credentials, sgl_clients_create, token_url
from tests.support.sgl_server import SglProcess

pytestmark = pytest.mark.db


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


BOUND_S = recent.TTL_S + 3.0
"""A revocation by another process (the command line) is seen within the server's memory of checked tokens
(``recent.TTL_S``), plus room for a request on a loaded machine."""


async def _refused_within(http: httpx.AsyncClient, bearer: dict[str, str], bound_s: float) -> httpx.Response:
    """The first answer refusing the token, polling from now; the answer to the first request sent after
    ``bound_s`` if none refused it before. A request is late by when it was sent, not by when its answer came: on
    a loaded machine an answer may take longer than the bound's slack, and the request after it would have been
    judged by a deadline it was never given a chance to meet."""
    deadline = time.monotonic() + bound_s
    while True:
        sent = time.monotonic()
        answer = await http.get("Patient", params={"_count": "1"}, headers=bearer)
        if answer.status_code == 401 or sent > deadline:
            return answer
        await asyncio.sleep(0.1)


async def _token(http: httpx.AsyncClient, url: str, creds: Credentials, **form: str) -> httpx.Response:
    return await http.post(url, data={"grant_type": "client_credentials", **form},
                           auth=(creds.client_id, creds.client_secret))


@pytest.fixture(scope="module")
def server_key(sgl_server: SglProcess) -> ECKey:
    """The signing key in the data dir (a test reads it to make tokens only the expiry or audience spoils)."""
    path = sgl_server.data_dir / "access" / "jwt-signing-key.json"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    return ECKey.import_key(json.loads(path.read_text()))


@pytest.mark.req("SGL.PSC.01")
async def test_client_credentials_discovered_issued_used_and_revoked_without_restart_SGL_PSC_01(
        sgl_server: SglProcess) -> None:
    config = httpx.get(f"{sgl_server.base}/.well-known/smart-configuration", timeout=30)
    assert config.status_code == 200 and "client_credentials" in config.json()["grant_types_supported"]
    url = config.json()["token_endpoint"]
    creds = sgl_clients_create(sgl_server.data_dir, "secretaire", name=f"harness-{uuid.uuid4().hex[:6]}")
    async with httpx.AsyncClient(base_url=sgl_server.base + "/", timeout=30) as http:
        answer = await _token(http, url, creds)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["token_type"] == "Bearer" and 0 < body["expires_in"] <= 3600
        assert answer.headers["cache-control"] == "no-store"
        claims = _claims(body["access_token"])
        assert claims["sub"] == f"client:{creds.client_id}" and claims["role"] == "secretaire"
        bearer = {"Authorization": f"Bearer {body['access_token']}"}
        assert (await http.get("Patient", params={"_count": "1"}, headers=bearer)).status_code == 200
        listed = subprocess.run([SGL, "tokens", "list", "--data-dir", str(sgl_server.data_dir)], check=True,
                                capture_output=True, text=True, timeout=120).stdout
        assert claims["jti"] in listed and f"client:{creds.client_id}" in listed
        subprocess.run([SGL, "tokens", "revoke", claims["jti"], "--data-dir", str(sgl_server.data_dir)], check=True,
                       capture_output=True, timeout=120)
        refused = await _refused_within(http, bearer, BOUND_S)
        assert refused.status_code == 401 and "revoked" in refused.text
        assert 'error="invalid_token"' in refused.headers["www-authenticate"]


async def test_refresh_rotates_and_a_replayed_refresh_token_revokes_the_family(sgl_server: SglProcess) -> None:
    url = token_url(sgl_server.base)
    creds = sgl_clients_create(sgl_server.data_dir, "technicien", name="refresh-harness")
    async with httpx.AsyncClient(base_url=sgl_server.base + "/", timeout=30) as http:
        first = (await _token(http, url, creds)).json()
        second = await _token(http, url, creds, grant_type="refresh_token", refresh_token=first["refresh_token"])
        assert second.status_code == 200, second.text
        new = second.json()["access_token"]
        assert (await http.get("Observation", headers={"Authorization": f"Bearer {new}"})).status_code == 200
        replay = await _token(http, url, creds, grant_type="refresh_token", refresh_token=first["refresh_token"])
        assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
        assert (await http.get("Observation", headers={"Authorization": f"Bearer {new}"})).status_code == 401


async def test_a_client_disabled_from_the_command_line_is_refused_within_the_bound(sgl_server: SglProcess) -> None:
    """The server remembers a checked token for ``recent.TTL_S`` seconds: ``sgl clients disable`` (another process)
    is seen within that bound for a token used just before (so remembered), and no new token is issued."""
    own = f"Practitioner/recent-{uuid.uuid4().hex[:8]}"  # a client of its own: the helper shares them per role
    creds = sgl_clients_create(sgl_server.data_dir, "technicien", practitioner=own)
    async with httpx.AsyncClient(base_url=sgl_server.base + "/", timeout=30) as http:
        issued = (await _token(http, token_url(sgl_server.base), creds)).json()
        bearer = {"Authorization": f"Bearer {issued['access_token']}"}
        assert (await http.get("Patient", params={"_count": "1"}, headers=bearer)).status_code == 200
        subprocess.run([SGL, "clients", "disable", creds.client_id, "--data-dir", str(sgl_server.data_dir)],
                       check=True, capture_output=True, timeout=120)
        refused = await _refused_within(http, bearer, BOUND_S)
        assert refused.status_code == 401 and 'error="invalid_token"' in refused.headers["www-authenticate"]
        again = await _token(http, token_url(sgl_server.base), creds)
        assert again.status_code == 401, again.text
        refreshed = await _token(http, token_url(sgl_server.base), creds, grant_type="refresh_token",
                                 refresh_token=issued["refresh_token"])  # nor renewed with its refresh token
        assert refreshed.status_code == 401 and refreshed.json()["error"] == "invalid_client", refreshed.text


async def test_wrong_client_credentials_and_grants_get_oauth_errors(sgl_server: SglProcess) -> None:
    url = token_url(sgl_server.base)
    creds = sgl_clients_create(sgl_server.data_dir, "secretaire")
    async with httpx.AsyncClient(timeout=30) as http:
        wrong = await _token(http, url, Credentials(creds.client_id, creds.client_secret + "x"))
        assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
        assert wrong.headers["www-authenticate"].startswith("Basic")
        unknown = await _token(http, url, Credentials('sgl-{"$ne": null}', "x"))
        assert unknown.status_code == 401 and unknown.json()["error"] == "invalid_client"
        password = await http.post(url, data={"grant_type": "password", "username": "a", "password": "b"},
                                   auth=(creds.client_id, creds.client_secret))
        assert password.status_code == 400 and password.json()["error"] == "unsupported_grant_type"
        no_auth = await http.post(url, data={"grant_type": "client_credentials"})
        assert no_auth.status_code == 401


def _forged(key: Any, alg: str, **overrides: Any) -> str:
    now = int(time.time())
    claims = {"iss": "opensgl", "aud": "opensgl-fhir", "sub": "client:sgl-AAAAAAAAAAAAAAAA", "role": "biologiste",
              "iat": now, "nbf": now, "exp": now + 300, "jti": str(uuid.uuid4()), **overrides}
    return jwt.encode({"alg": alg}, claims, key, algorithms=[alg])


def _unsigned(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


async def test_forged_expired_unsigned_and_misdirected_tokens_are_401(sgl_server: SglProcess, server_key: ECKey,
                                                                      act_as: Any) -> None:
    real = await act_as("biologiste")  # a real client, so a forged token could name it
    sub = f"client:{real.auth.credentials.client_id}"
    now = int(time.time())
    public = ECKey.import_key(server_key.as_dict(private=False))
    tokens = {
        "other key": _forged(ECKey.generate_key("P-256", private=True), "ES256", sub=sub),
        "expired": _forged(server_key, "ES256", sub=sub, iat=now - 3600, nbf=now - 3600, exp=now - 1800),
        "wrong audience": _forged(server_key, "ES256", sub=sub, aud="another-api"),
        "wrong issuer": _forged(server_key, "ES256", sub=sub, iss="https://evil.example"),
        "never issued": _forged(server_key, "ES256", sub=sub),
        "alg none": _unsigned({"iss": "opensgl", "aud": "opensgl-fhir", "sub": sub, "exp": now + 300,
                               "jti": str(uuid.uuid4())}),
        "HS256 with the public key": _forged(OctKey.import_key(json.dumps(public.as_dict()).encode()), "HS256",
                                             sub=sub),
        "garbage": "not.a.jwt",
    }
    async with httpx.AsyncClient(base_url=sgl_server.base + "/", timeout=30) as http:
        for name, token in tokens.items():
            answer = await http.get("Patient", headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 401, (name, answer.text)
            assert answer.headers["www-authenticate"].startswith("Bearer"), name
        basic = await http.get("Patient", headers={"Authorization": "Basic YTpi"})
        assert basic.status_code == 401


async def test_sgl_clients_create_prints_one_json_object_and_stores_only_a_hash(sgl_server: SglProcess,
                                                                                 sgl_db: Any) -> None:
    out = subprocess.run([SGL, "clients", "create", "automate-xn", "--role", "automate", "--data-dir",
                          str(sgl_server.data_dir)], check=True, capture_output=True, text=True, timeout=120)
    data = json.loads(out.stdout)
    assert list(data) == ["client_id", "client_secret"] and out.stdout.count("\n") == 1
    stored = await sgl_db.db["access_clients"].find_one({"_id": data["client_id"]})
    assert stored["role"] == "automate" and stored["secret"].startswith("$argon2id$")
    assert data["client_secret"] not in json.dumps(stored, default=str)
    bad = subprocess.run([SGL, "clients", "create", "x", "--role", "chef", "--data-dir", str(sgl_server.data_dir)],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and bad.stdout == ""


def test_signing_key_is_private_to_the_server(sgl_server: SglProcess) -> None:
    path = Path(sgl_server.data_dir) / "access" / "jwt-signing-key.json"
    assert path.stat().st_mode & 0o077 == 0


@pytest.mark.req("SGL.PSC.01")
def test_metadata_is_public_and_declares_the_security_SGL_PSC_01(sgl_server: SglProcess) -> None:
    metadata = httpx.get(f"{sgl_server.base}/metadata", timeout=30)
    assert metadata.status_code == 200
    security = metadata.json()["rest"][0]["security"]
    assert security["service"][0]["coding"][0]["code"] == "SMART-on-FHIR"
    uris = security["extension"][0]
    assert uris["url"].endswith("oauth-uris")
    token = next(e["valueUri"] for e in uris["extension"] if e["url"] == "token")
    assert token == token_url(sgl_server.base)


def test_a_token_signature_is_verified_once_and_its_claims_on_every_request(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 17 item 4: the ES256 check of a client's token is not repeated by each of its requests; the expiry
    still is, a token signed by another key or with its signature altered is still refused, and a token seen
    expired is forgotten."""
    verified: list[str] = []
    real_decode = tokens.jwt.decode

    def counting(token: str, key: Any, algorithms: list[str]) -> Any:
        verified.append(token)
        return real_decode(token, key, algorithms=algorithms)

    monkeypatch.setattr(tokens.jwt, "decode", counting)
    key, other = ECKey.generate_key("P-256", private=True), ECKey.generate_key("P-256", private=True)
    token = _forged(key, "ES256")
    claims = _claims(token)
    for _ in range(3):
        assert tokens.decode(key, token)["jti"] == claims["jti"]
    assert len(verified) == 1  # three requests, one signature check (three before)
    with pytest.raises(tokens.InvalidToken):
        tokens.decode(other, token)  # remembered for ``key`` only
    head, body, signature = token.split(".")
    altered = f"{head}.{body}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}"
    with pytest.raises(tokens.InvalidToken):
        tokens.decode(key, altered)
    with pytest.raises(tokens.InvalidToken):  # expired: refused from the memory too, and forgotten
        tokens.decode(key, token, now=claims["exp"] + 60)
    verified.clear()
    tokens.decode(key, token)
    assert verified == [token]


def test_the_signing_key_file_is_visible_only_once_complete(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two ``sgl serve`` started at once on one data dir: the second read the key file the first had created
    (O_EXCL) and not yet written, and died on an empty JSON document (CI, session 10). The file must appear
    whole: while the key is being written, its final path does not exist yet."""
    settings = Settings(data_dir=tmp_path)
    path = keys.key_path(settings)
    seen: list[bool] = []
    real_fdopen = os.fdopen

    def fdopen_watching(fd: int, *args: Any, **kwargs: Any) -> Any:
        seen.append(path.exists())  # the key is about to be written through this file
        return real_fdopen(fd, *args, **kwargs)

    monkeypatch.setattr(keys.os, "fdopen", fdopen_watching)
    first = keys.signing_key(settings)
    assert seen == [False]
    assert keys.signing_key(settings).as_dict(private=True) == first.as_dict(private=True)
    assert [p.name for p in path.parent.iterdir()] == [path.name]
    assert path.stat().st_mode & 0o777 == 0o600
