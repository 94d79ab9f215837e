"""One ``sgl serve`` of its own for the directory tests (a load inactivates what a file lacks and tags the
lab's own Practitioners absent from it: that must not touch the shared session server), started with a
scheduled load of the ANS sample extraction every 24 h, checked every half second."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.annuaire_files import KIT_PS
from tests.support.sgl_server import SglProcess, start_sgl

ONE_WORKER = True  # under pytest-xdist the package's tests run in one worker: its server starts once


@pytest.fixture(scope="package")
def directory_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SglProcess]:
    env = {"SGL_ANNUAIRE_SOURCE": str(KIT_PS), "SGL_ANNUAIRE_EVERY_HOURS": "24", "SGL_ANNUAIRE_POLL": "0.5"}
    server = start_sgl(tmp_path_factory.mktemp("annuaire") / "var", env=env, partners=None)
    yield server
    server.stop()
