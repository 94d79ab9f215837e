"""Password spraying against a real ``sgl serve`` (``server/access/throttle.py``): one password tried on many
names from one address. The per-account lockout never sees it (each name fails once); before, 40 names in a
row were all answered 401, each after a full Argon2id check. Now the address is refused (429, Retry-After)
once it has failed ``SGL_AUTH_FAILURES_PER_ADDRESS`` times, whatever the door and even with good credentials,
and the log names the address, never a name or a password."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import httpx
import pytest

from tests.support.access import SGL, sgl_clients_create, token_url
from tests.support.sgl_server import SglProcess, start_sgl

pytestmark = pytest.mark.db
LIMIT = 5
PASSWORD = "Printemps-2026-Labo!"
SPRAYED = "Azerty-123456789"


@pytest.fixture(scope="module")
def sprayed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SglProcess]:
    server = start_sgl(tmp_path_factory.mktemp("throttle") / "var",
                       env={"SGL_AUTH_FAILURES_PER_ADDRESS": str(LIMIT), "SGL_AUTH_FAILURE_WINDOW": "900"})
    yield server
    server.stop()


def test_one_password_tried_on_many_names_blocks_the_address_not_the_accounts(sprayed: SglProcess) -> None:
    subprocess.run([SGL, "users", "create", "martine", "--role", "secretaire", "--password-stdin",
                    "--data-dir", str(sprayed.data_dir)], input=PASSWORD + "\n", text=True, check=True,
                   capture_output=True, timeout=120)
    client = sgl_clients_create(sprayed.data_dir, "secretaire")
    root = sprayed.base.removesuffix("/fhir")
    with httpx.Client(base_url=root, timeout=60) as http:
        names = ["martine", "admin", "secretariat", "biologiste", "accueil"]
        answers = [http.post("/auth/login", json={"username": name, "password": SPRAYED}) for name in names]
        assert [a.status_code for a in answers] == [401] * LIMIT  # one failure per name: no account locked
        blocked = http.post("/auth/login", json={"username": "martine", "password": PASSWORD})
        assert blocked.status_code == 429, blocked.text
        assert int(blocked.headers["Retry-After"]) > 0
        assert blocked.json()["issue"][0]["code"] == "throttled"
        token = http.post(token_url(sprayed.base), data={"grant_type": "client_credentials"},
                          auth=(client.client_id, client.client_secret))
        assert token.status_code == 429 and token.json()["error"] == "invalid_client", token.text
    log = sprayed.log.read_text(encoding="utf-8", errors="replace")
    assert f"authentication: {LIMIT} failures from 127.0.0.1 within 900 s" in log
    assert SPRAYED not in log and PASSWORD not in log and client.client_secret not in log
