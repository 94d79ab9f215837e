"""A password change or an administrator's reset or disabling ends the account's other ways in
(``server/access/sign_out.py``). Before, probed on a real ``sgl serve``: of two sessions of one user, the second
still answered 200 after the first changed the password; an administrator's reset ended no session; a session of
a disabled account came back when the account was enabled again. Now the other sessions answer 401 at once (the
change was made by this server), the session that made the change stays, and each change is an AuditEvent that
says what was ended and never the password."""

from __future__ import annotations

import subprocess
import uuid

import httpx
import pytest

from tests.support.access import SGL, ActAs
from tests.support.sgl_server import SglProcess

pytestmark = pytest.mark.db
PASSWORD = "Paillasse-du-matin-2026"
NEW = "Paillasse-du-soir-2026!"
DCM = "http://dicom.nema.org/resources/ontology/DCM"


def _user(server: SglProcess, role: str) -> str:
    name = f"so{uuid.uuid4().hex[:8]}"
    made = subprocess.run([SGL, "users", "create", name, "--role", role, "--password-stdin", "--data-dir",
                           str(server.data_dir)], input=PASSWORD + "\n", capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    return name


async def _login(server: SglProcess, name: str, password: str = PASSWORD) -> httpx.AsyncClient:
    """A browser of its own (one cookie jar each): the session cookie sent back by hand, as it is Secure and the
    test speaks plain http; the CSRF token on every request."""
    origin = f"http://127.0.0.1:{server.port}"
    answer = httpx.post(f"{origin}/auth/login", json={"username": name, "password": password}, timeout=60)
    assert answer.status_code == 200, answer.text
    sid = answer.cookies["sgl_session"]
    return httpx.AsyncClient(base_url=origin, timeout=60,
                             headers={"Cookie": f"sgl_session={sid}", "X-CSRF-Token": answer.json()["csrf"]})


async def _status(browser: httpx.AsyncClient) -> tuple[int, int]:
    """What the session gets: its description, and a FHIR read."""
    described = await browser.get("/auth/session")
    read = await browser.get("/fhir/Observation", params={"_count": "1"})
    return described.status_code, read.status_code


async def _trail(admin: httpx.AsyncClient, name: str) -> list[str]:
    """What the account changes of ``name`` say (DICOM 110137 User Security Attributes Changed, the latest)."""
    answer = await admin.get("AuditEvent", params={"type": f"{DCM}|110137", "_sort": "-date", "_count": "200"})
    assert answer.status_code == 200, answer.text
    return [e["resource"]["outcomeDesc"] for e in answer.json().get("entry", [])
            if e["resource"]["entity"][0]["what"]["identifier"]["value"] == name
            and e["resource"]["subtype"][0]["code"] in ("account-password", "account-disable")]


async def test_a_password_change_ends_the_other_sessions_and_renews_its_own(sgl_server: SglProcess,
                                                                             act_as: ActAs) -> None:
    """The session that changed the password goes on under the new cookies of the 204; its old cookie (a copy
    taken before the change) is ended with the other session."""
    name = _user(sgl_server, "technicien")
    mine, stolen = await _login(sgl_server, name), await _login(sgl_server, name)
    try:
        assert await _status(stolen) == (200, 200)
        changed = await mine.post("/auth/password", json={"current": PASSWORD, "new": NEW})
        assert changed.status_code == 204, changed.text
        assert await _status(stolen) == (401, 401)
        assert await _status(mine) == (401, 401)  # the old cookie of the session that made the change
        mine.headers.update({"Cookie": f"sgl_session={changed.cookies['sgl_session']}",
                             "X-CSRF-Token": changed.cookies["sgl_csrf"]})
        assert await _status(mine) == (200, 200)
        assert (await mine.post("/auth/password", json={"current": NEW, "new": PASSWORD})).status_code == 204
    finally:
        await mine.aclose()
        await stolen.aclose()
    trail = await _trail(await act_as("administrateur"), name)
    assert f"password of {name} changed by its user (its session renewed); 2 session(s) ended, 0 token(s) " \
           "revoked" in trail, trail
    assert NEW not in sgl_server.log.read_text(errors="replace")


async def test_an_administrator_reset_or_disabling_ends_every_session_for_good(sgl_server: SglProcess,
                                                                              act_as: ActAs) -> None:
    admin = await act_as("administrateur")
    name = _user(sgl_server, "secretaire")
    first, second = await _login(sgl_server, name), await _login(sgl_server, name)
    try:
        reset = await admin.post(f"Person/{name}/$set-password", json={"resourceType": "Parameters", "parameter": [
            {"name": "password", "valueString": NEW}]})
        assert reset.status_code == 204, reset.text
        assert await _status(first) == (401, 401) and await _status(second) == (401, 401)
    finally:
        await first.aclose()
        await second.aclose()
    third = await _login(sgl_server, name, NEW)
    try:
        assert (await admin.post(f"Person/{name}/$disable")).status_code == 200
        assert (await admin.post(f"Person/{name}/$enable")).status_code == 200
        assert await _status(third) == (401, 401)  # enabled again: the session of before stays ended
    finally:
        await third.aclose()
    assert sorted(await _trail(admin, name)) == sorted([
        f"password of {name} reset; 2 session(s) ended, 0 token(s) revoked",
        f"account {name} disabled; 1 session(s) ended, 0 token(s) revoked"])
