"""Shared fixtures: one real ``sgl serve`` process on the embedded database for the whole run, an HTTP
client on it (``fhir``, acting as a ``biologiste-responsable`` API client who is an RPPS-identified
biologist), clients for any role (``act_as``) and a direct connection to its database (``sgl_db``)."""

from __future__ import annotations

import functools
import os
import re
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.database import Database, open_database
from server.retention.envelope import new_master_key
from server.settings import Settings
from tests.support.access import ActAs
from tests.support.sgl_server import SglProcess, share_template, start_sgl

# Every process a test starts (``sgl serve``, CLI commands, simulators) runs this checkout's code, even when
# the virtualenv's editable install points at another working tree of the repository.
_ROOT_PATH = Path(__file__).resolve().parents[1]
_ROOT = str(_ROOT_PATH)
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (_ROOT, os.environ.get("PYTHONPATH", "")) if p)
# Where the environment forbids writing bytecode beside the sources (this machine sets PYTHONDONTWRITEBYTECODE),
# every process a test starts compiled this checkout's modules again (~0.4 CPU s each, hundreds of processes):
# they keep their bytecode in a cache of their own outside the checkout instead (checked against each source's
# mtime and size, as always).
if os.environ.pop("PYTHONDONTWRITEBYTECODE", None):
    os.environ.setdefault("PYTHONPYCACHEPREFIX", os.path.join(tempfile.gettempdir(), "opensgl-pycache"))


ONE_WORKER = re.compile(r"^ONE_WORKER = True\b", re.MULTILINE)
"""In a conftest: its package- or session-scoped server is shared by the package's tests, so under pytest-xdist
(scripts/test) all the test files below that conftest run in one worker and the server starts once per run."""


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadfile`` with one change: the files below a ``ONE_WORKER`` conftest form one unit of work.
    (xdist's ``loadgroup`` cannot be used: with pytest 9 the group it writes into each test's id is lost.)"""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class SharedServerScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _work_unit(nodeid.split("::", 1)[0])

    return SharedServerScheduling(config, log)


@functools.cache
def _work_unit(file: str) -> str:
    """The folder of the nearest ``ONE_WORKER`` conftest above the test file, or the file itself."""
    folder = (_ROOT_PATH / file).parent
    while folder != _ROOT_PATH and folder.is_relative_to(_ROOT_PATH):
        conftest = folder / "conftest.py"
        if conftest.is_file() and ONE_WORKER.search(conftest.read_text(encoding="utf-8")):
            return str(folder.relative_to(_ROOT_PATH))
        folder = folder.parent
    return file


@pytest.fixture(scope="session", autouse=True)
def _one_template_per_run(tmp_path_factory: pytest.TempPathFactory) -> None:
    """pytest-xdist workers (``PYTEST_XDIST_WORKER``) share the template data dir of ``start_sgl``: one build per
    run instead of one per worker. Their temporary roots (``popen-gwN``) have the run's folder as parent."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        share_template(tmp_path_factory.getbasetemp().parent / "sgl-template")


@pytest.fixture(scope="session")
def sgl_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SglProcess]:
    key = tmp_path_factory.mktemp("keys") / "identity-documents.key"  # SGL.INS.57 copies: a key outside the data
    key.write_text(new_master_key(), encoding="ascii")
    server = start_sgl(tmp_path_factory.mktemp("sgl") / "var", env={"SGL_IDENTITY_DOCUMENT_KEY_FILE": str(key)})
    yield server
    server.stop()


@pytest.fixture(scope="session")
async def act_as(sgl_server: SglProcess) -> AsyncIterator[ActAs]:
    """``await act_as("technicien")``: an HTTP client with that role on the session server."""
    clients = ActAs(sgl_server)
    yield clients
    await clients.close()


@pytest.fixture(scope="session")
async def fhir(act_as: ActAs) -> httpx.AsyncClient:
    return await act_as.biologist()


@pytest.fixture(scope="session")
async def sgl_db(sgl_server: SglProcess) -> AsyncIterator[Database]:
    """Direct access to the running server's embedded database (shared, never started twice)."""
    database = await open_database(Settings(data_dir=sgl_server.data_dir))
    yield database
    await database.close()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "shared"
