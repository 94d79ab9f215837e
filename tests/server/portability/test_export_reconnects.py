"""``sgl export`` resumes by itself when the database connection fails mid-way (seen at 10,000 patients on a
busy machine: the driver's heartbeat timed out and cancelled the running read): it starts again from the last
durable checkpoint, and the export completes with every resource once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from pymongo.errors import AutoReconnect

from server.portability import cli
from server.portability.engine import Exporter

pytestmark = pytest.mark.db


@pytest.mark.req("SGL.PORT.01")
def test_a_lost_connection_resumes_from_the_checkpoint_SGL_PORT_01(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    original = Exporter._type
    failures = {"left": 1}

    async def flaky(self: Exporter, rtype: str, selection: Any) -> None:
        if rtype == "Organization" and failures["left"]:
            failures["left"] -= 1
            raise AutoReconnect("operation cancelled")
        await original(self, rtype, selection)

    monkeypatch.setattr(Exporter, "_type", flaky)
    answer = CliRunner().invoke(cli.export_command, [str(tmp_path / "out"), "--data-dir", str(tmp_path / "var"),
                                                     "--type", "Organization"])
    assert answer.exit_code == 0, answer.output
    assert "resuming from the last checkpoint (attempt 2 of 5)" in answer.output and failures["left"] == 0
    manifest = orjson.loads((tmp_path / "out" / "manifest.json").read_bytes())
    assert manifest["output"] == [] or all(o["type"] == "Organization" for o in manifest["output"])
