"""Shared fixtures: one real ``sgl serve`` process on the embedded database for the whole run, an HTTP
client on it (``fhir``, acting as a ``biologiste-responsable`` API client who is an RPPS-identified
biologist), clients for any role (``act_as``) and a direct connection to its database (``sgl_db``)."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from server.database import Database, open_database
from server.retention.envelope import new_master_key
from server.settings import Settings
from tests.support.access import ActAs
from tests.support.sgl_server import SglProcess, share_template, start_sgl

# Every process a test starts (``sgl serve``, CLI commands, simulators) runs this checkout's code, even when
# the virtualenv's editable install points at another working tree of the repository.
_ROOT = str(Path(__file__).resolve().parents[1])
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (_ROOT, os.environ.get("PYTHONPATH", "")) if p)
# Where the environment forbids writing bytecode beside the sources (this machine sets PYTHONDONTWRITEBYTECODE),
# every process a test starts compiled this checkout's modules again (~0.4 CPU s each, hundreds of processes):
# they keep their bytecode in a cache of their own outside the checkout instead (checked against each source's
# mtime and size, as always).
if os.environ.pop("PYTHONDONTWRITEBYTECODE", None):
    os.environ.setdefault("PYTHONPYCACHEPREFIX", os.path.join(tempfile.gettempdir(), "opensgl-pycache"))


ONE_WORKER_FLAG = "ONE_WORKER"
"""A conftest that sets ``ONE_WORKER = True`` has a package- or session-scoped server fixture: under pytest-xdist
(``--dist loadgroup``, scripts/test) every test using it runs in one worker, so that server starts once per run."""


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In an xdist worker distributing by group: each test file is a group (its module-scoped servers start once),
    except that the files with a test using a fixture of a ``ONE_WORKER`` conftest form one group per conftest."""
    if not getattr(config.option, "loadgroup", False):
        return
    groups: dict[str, str] = {}
    for item in items:
        file = item.nodeid.split("::", 1)[0]
        groups[file] = _shared_server_package(item) or groups.get(file) or file
    for item in items:
        item.add_marker(pytest.mark.xdist_group(groups[item.nodeid.split("::", 1)[0]]))


def _shared_server_package(item: pytest.Item) -> str | None:
    """The package (conftest's node id) whose ``ONE_WORKER`` server fixture the test uses, if any."""
    info = getattr(item, "_fixtureinfo", None)
    for defs in (info.name2fixturedefs.values() if info is not None else ()):
        widest = defs[-1]
        module = sys.modules.get(getattr(widest.func, "__module__", ""))
        if widest.scope in ("package", "session") and getattr(module, ONE_WORKER_FLAG, False):
            return widest.baseid or "root"
    return None


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
