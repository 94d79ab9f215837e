"""One ``sgl serve`` of its own for the directory tests (a load inactivates what a file lacks and tags the
lab's own Practitioners absent from it: that must not touch the shared session server), started with a
scheduled load of the ANS sample extraction every 24 h, checked every half second."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.access import role_client
from tests.support.sgl_server import SglProcess, start_sgl

KITS = Path(__file__).resolve().parents[4] / "shared" / "kits"
KIT_PS = KITS / "annuaire" / "PS_LibreAcces_Personne_activite_small.txt"
SGL = str(Path(sys.executable).parent / "sgl")


@pytest.fixture(scope="package")
def directory_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SglProcess]:
    env = {"SGL_ANNUAIRE_SOURCE": str(KIT_PS), "SGL_ANNUAIRE_EVERY_HOURS": "24", "SGL_ANNUAIRE_POLL": "0.5"}
    server = start_sgl(tmp_path_factory.mktemp("annuaire") / "var", env=env, partners=None)
    yield server
    server.stop()


def sgl(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """An ``sgl`` command as an operator runs it (this checkout's code, see tests/conftest.py)."""
    return subprocess.run([SGL, *args], capture_output=True, text=True, timeout=600, input=stdin,
                          env=os.environ.copy())


def client(server: SglProcess, role: str) -> httpx.AsyncClient:
    return role_client(server.base, server.data_dir, role)
