"""Argon2id checks in a bounded pool of their own (``server/access/passwords.py``), on a real ``sgl serve``.

Before, every check ran on asyncio's default executor, the one the server parses and validates JSON with, and
waited there without bound: a flood of logins from many addresses (the per-address throttle bounds one address
only) queued every other request's work behind 64 MiB hashes. Now, with one hashing thread and one waiting place,
a flood of wrong passwords and wrong client secrets from four loopback addresses is answered 401 for the checks
that got a place and 503 + Retry-After (OperationOutcome ``transient``, OAuth ``temporarily_unavailable``) at
once for the others, no password checked; a FHIR read sent while the flood is on answers 200; the log says it
once for the burst. Asserted on statuses, never on durations."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.support.access import sgl_clients_create, token_url
from tests.support.sgl_server import SglProcess, start_sgl

pytestmark = pytest.mark.db
ADDRESSES = ("127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5")
"""Four source addresses on the loopback (Linux routes all of 127.0.0.0/8 there): what the server tells apart."""
LOGINS, TOKENS = 32, 8


@pytest.fixture(scope="module")
def one_hasher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SglProcess]:
    server = start_sgl(tmp_path_factory.mktemp("hashing") / "var",
                       env={"SGL_PASSWORD_HASH_THREADS": "1", "SGL_PASSWORD_HASH_QUEUE": "1"})
    yield server
    server.stop()


def _from(address: str, origin: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=origin, timeout=120,
                             transport=httpx.AsyncHTTPTransport(local_address=address))


async def test_a_login_flood_from_many_addresses_gets_503_and_reads_keep_answering(one_hasher: SglProcess) -> None:
    creds = sgl_clients_create(one_hasher.data_dir, "technicien")
    origin = f"http://127.0.0.1:{one_hasher.port}"
    browsers = [_from(address, origin) for address in ADDRESSES]
    async with httpx.AsyncClient(base_url=origin, timeout=120) as reader:
        granted = await reader.post(token_url(one_hasher.base), data={"grant_type": "client_credentials"},
                                    auth=(creds.client_id, creds.client_secret))  # before the flood
        assert granted.status_code == 200, granted.text
        bearer = {"Authorization": f"Bearer {granted.json()['access_token']}"}
        try:
            logins = [asyncio.create_task(browsers[i % len(browsers)].post("/auth/login", json={
                "username": f"inconnu{uuid.uuid4().hex[:8]}", "password": "Mauvais-mot-de-passe-1"}))
                for i in range(LOGINS)]
            tokens = [asyncio.create_task(browsers[i % len(browsers)].post(
                token_url(one_hasher.base), data={"grant_type": "client_credentials"},
                auth=(creds.client_id, "pas-le-bon-secret"))) for i in range(TOKENS)]
            first = None
            for done in asyncio.as_completed(logins):
                answer = await done
                if answer.status_code == 503:
                    first = answer
                    break
            assert first is not None, "no login was refused: the checks queued without bound"
            read = await reader.get("/fhir/Observation", params={"_count": "1"}, headers=bearer)
            assert read.status_code == 200, read.text  # answered while the flood's checks are under way
            answers = await asyncio.gather(*logins, *tokens)
        finally:
            for browser in browsers:
                await browser.aclose()
    login_statuses = [a.status_code for a in answers[:LOGINS]]
    assert set(login_statuses) <= {401, 503} and 401 in login_statuses, login_statuses
    for refused in (a for a in answers[:LOGINS] if a.status_code == 503):
        assert refused.json()["issue"][0]["code"] == "transient" and refused.headers["Retry-After"] == "1"
    for answer in answers[LOGINS:]:
        assert answer.status_code in (401, 503), answer.text
        assert answer.json()["error"] == ("temporarily_unavailable" if answer.status_code == 503 else "invalid_client")
    log = one_hasher.log.read_text(encoding="utf-8", errors="replace")
    assert "password hashing: 1 running and 1 waiting" in log
    assert log.count("password hashing: 1 running and 1 waiting") <= sum(s == 503 for s in login_statuses) + TOKENS
