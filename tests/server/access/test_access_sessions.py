"""Local accounts and workbench sessions (SGL.PSC.01 keeps the current login): the first
administrator from the shell, login with a Secure/HttpOnly/SameSite cookie, CSRF on every
state-changing request, lockout that survives 10,000 attempts, hostile user names."""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from typing import Any

import httpx
import pytest

from server.access import recent
from tests.support.access import SGL
from tests.support.sgl_server import SglProcess

pytestmark = pytest.mark.db
PASSWORD = "correct horse battery staple"


def _origin(server: SglProcess) -> str:
    return f"http://127.0.0.1:{server.port}"


def create_user(server: SglProcess, *args: str, password: str = PASSWORD) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SGL, "users", *args, "--password-stdin", "--data-dir", str(server.data_dir)],
                          input=password + "\n", capture_output=True, text=True, timeout=120)


async def login(http: httpx.AsyncClient, server: SglProcess, username: str, password: str = PASSWORD) -> httpx.Response:
    return await http.post(f"{_origin(server)}/auth/login", json={"username": username, "password": password})


def _session(answer: httpx.Response) -> tuple[dict[str, str], str]:
    """The cookie header to send back (the Secure cookie is not replayed by a client over plain http)."""
    cookies = {c.split("=", 1)[0]: c.split("=", 1)[1].split(";", 1)[0]
               for c in answer.headers.get_list("set-cookie")}
    return {"Cookie": f"sgl_session={cookies['sgl_session']}"}, answer.json()["csrf"]


@pytest.mark.req("SGL.PSC.01")
async def test_first_admin_logs_in_and_csrf_guards_every_change_SGL_PSC_01(sgl_server: SglProcess) -> None:
    name = f"admin{uuid.uuid4().hex[:6]}"
    made = create_user(sgl_server, "create-admin", "--username", name, "--name", "Alice Admin")
    assert made.returncode == 0, made.stderr
    assert PASSWORD not in made.stdout + made.stderr
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await login(http, sgl_server, name)
        assert answer.status_code == 200, answer.text
        assert answer.json()["role"] == "administrateur"
        session = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("sgl_session="))
        assert all(flag in session.lower() for flag in ("httponly", "secure", "samesite=strict"))
        cookie, csrf = _session(answer)
        # the login answer is the session's description (the workbench needs no second round trip) + the token
        described = await http.get(f"{_origin(sgl_server)}/auth/session", headers=cookie)
        assert answer.json() == {**described.json(), "csrf": csrf} and described.json()["login"] == "password"
        assert "Person:read" in described.json()["permissions"] and answer.headers["cache-control"] == "no-store"
        base = sgl_server.base
        assert (await http.get(f"{base}/Practitioner", headers=cookie)).status_code == 200
        practitioner = {"resourceType": "Practitioner", "name": [{"family": "SANSJETON"}]}
        no_csrf = await http.post(f"{base}/Practitioner", json=practitioner, headers=cookie)
        assert no_csrf.status_code == 403 and "CSRF" in no_csrf.text
        form = await http.post(f"{base}/Practitioner/_search", data={"family": "SANSJETON"}, headers=cookie)
        assert form.status_code == 403, "a form posted from another site carries the cookie, never the token"
        wrong = await http.post(f"{base}/Practitioner", json=practitioner, headers={**cookie, "X-CSRF-Token": "x"})
        assert wrong.status_code == 403
        made_ok = await http.post(f"{base}/Practitioner", json=practitioner, headers={**cookie, "X-CSRF-Token": csrf})
        assert made_ok.status_code == 201, made_ok.text
        assert (await http.get(f"{base}/Patient", headers=cookie)).status_code == 403  # an administrator
        out = await http.post(f"{_origin(sgl_server)}/auth/logout", headers=cookie)
        assert out.status_code == 204
        assert (await http.get(f"{base}/Practitioner", headers=cookie)).status_code == 401


async def test_login_takes_json_only_and_password_change(sgl_server: SglProcess) -> None:
    name = f"sec{uuid.uuid4().hex[:6]}"
    assert create_user(sgl_server, "create", name, "--role", "secretaire").returncode == 0
    async with httpx.AsyncClient(timeout=30) as http:
        form = await http.post(f"{_origin(sgl_server)}/auth/login", data={"username": name, "password": PASSWORD})
        assert form.status_code == 400
        cookie, csrf = _session(await login(http, sgl_server, name))
        url = f"{_origin(sgl_server)}/auth/password"
        new = "an even longer passphrase"
        assert (await http.post(url, json={"current": PASSWORD, "new": new}, headers=cookie)).status_code == 403
        changed = await http.post(url, json={"current": PASSWORD, "new": new}, headers={**cookie, "X-CSRF-Token": csrf})
        assert changed.status_code == 204, changed.text
        assert (await login(http, sgl_server, name)).status_code == 401
        assert (await login(http, sgl_server, name, new)).status_code == 200


async def test_a_user_disabled_from_the_command_line_loses_the_session_within_the_bound(
        sgl_server: SglProcess) -> None:
    """The server remembers a checked session for ``recent.TTL_S`` seconds: ``sgl users disable`` (another
    process) ends a session used just before (so remembered) within that bound."""
    name = f"tech{uuid.uuid4().hex[:6]}"
    assert create_user(sgl_server, "create", name, "--role", "technicien").returncode == 0
    async with httpx.AsyncClient(timeout=30) as http:
        cookie, _ = _session(await login(http, sgl_server, name))
        url = f"{sgl_server.base}/Observation"
        assert (await http.get(url, params={"_count": "1"}, headers=cookie)).status_code == 200
        disabled = subprocess.run([SGL, "users", "disable", name, "--data-dir", str(sgl_server.data_dir)],
                                  capture_output=True, text=True, timeout=120)
        assert disabled.returncode == 0, disabled.stderr
        deadline = time.monotonic() + recent.TTL_S + 3.0  # the bound, plus room for the server's own check
        while True:
            sent = time.monotonic()  # judged by when the request was sent: an answer may be slow on a loaded machine
            answer = await http.get(url, params={"_count": "1"}, headers=cookie)
            if answer.status_code == 401:
                break
            assert sent < deadline, answer.status_code
            await asyncio.sleep(0.1)


@pytest.mark.parametrize("username", [{"$ne": ""}, {"$gt": ""}, "admin' OR '1'='1", 'admin" || "1"=="1',
                                      "admin\u0000", "../../etc/passwd", "A" * 5000, ["admin"], None, 42])
async def test_nosql_and_sql_shaped_user_names_are_refused_and_write_nothing(sgl_server: SglProcess,
                                                                           sgl_db: Any, username: Any) -> None:
    before = await sgl_db.db["access_sessions"].count_documents({})
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await http.post(f"{_origin(sgl_server)}/auth/login",
                                 json={"username": username, "password": {"$ne": ""}})
        assert answer.status_code == 401, answer.text
        assert answer.json()["resourceType"] == "OperationOutcome" and "set-cookie" not in answer.headers
    assert await sgl_db.db["access_sessions"].count_documents({}) == before


@pytest.mark.timeout(900)
async def test_ten_thousand_login_attempts_lock_the_account_and_the_server_stays_up(sgl_server: SglProcess) -> None:
    name = f"cible{uuid.uuid4().hex[:6]}"
    assert create_user(sgl_server, "create", name, "--role", "biologiste").returncode == 0
    statuses: dict[int, int] = {}
    limit = asyncio.Semaphore(32)
    async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=32)) as http:
        async def attempt(i: int) -> None:
            async with limit:
                answer = await login(http, sgl_server, name, f"guess-{i}")
                statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1

        await asyncio.gather(*(attempt(i) for i in range(10_000)))
        assert set(statuses) <= {401, 429} and statuses.get(429, 0) > 9_900, statuses
        locked = await login(http, sgl_server, name)
        assert locked.status_code == 429 and "locked" in locked.text, "even the right password waits"
        assert (await http.get(f"{sgl_server.base}/metadata")).status_code == 200
    subprocess.run([SGL, "users", "unlock", name, "--data-dir", str(sgl_server.data_dir)], check=True, timeout=120)
    async with httpx.AsyncClient(timeout=30) as http:  # the running server re-reads a lock it has seen after 3 s
        answers, end = [(await login(http, sgl_server, name)).status_code], time.monotonic() + 30
        while answers[-1] == 429 and time.monotonic() < end:
            await asyncio.sleep(0.2)
            answers.append((await login(http, sgl_server, name)).status_code)
        assert answers[-1] == 200 and set(answers[:-1]) <= {429}, answers


def test_create_admin_prompts_on_the_terminal_and_never_echoes(sgl_server: SglProcess) -> None:
    """Run on a real pseudo-terminal (the command's controlling tty), as an operator would type it."""
    import os
    import pty
    import select
    import time

    name, secret = f"tty{uuid.uuid4().hex[:6]}", "typed on a terminal 42"
    pid, fd = pty.fork()
    if pid == 0:  # the child: exec the command, the pty is its terminal
        os.execv(SGL, [SGL, "users", "create-admin", "--username", name, "--data-dir", str(sgl_server.data_dir)])
    seen, answered, deadline = b"", 0, time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 1.0)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 1024)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
            prompts = (b"Password", b"Repeat for confirmation")
            if answered < 2 and prompts[answered] in seen:
                answered += 1
                os.write(fd, secret.encode() + b"\n")
    finally:
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, seen
    assert answered == 2 and secret.encode() not in seen, seen
    assert f"user {name} created".encode() in seen
