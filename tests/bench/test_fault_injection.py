"""CI's reduced fault-injection run (``bench/fault_injection.py``): a few ``kill -9`` of the database, the
server and both while HL7, ASTM and FHIR traffic streams in; nothing acknowledged may be lost, nothing doubled.

The full run (at least 20 kills) is ``.venv/bin/python -m bench.fault_injection --kills 20``; its figures
are in the README.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.fault_injection import run

pytestmark = pytest.mark.db


@pytest.mark.timeout(420)
async def test_kill_9_of_database_server_and_both_loses_and_doubles_nothing(tmp_path: Path) -> None:
    # generous bounds: under a load average of 11 a restart of sgl takes 10–20 s, the database 3–4 s
    outcome = await run(3, seed=7, gap=(0.5, 2.0), recover_s=60.0, max_seconds=240.0, data_dir=tmp_path / "var")
    assert sorted(outcome.kills.elements()) == ["both", "database", "server"]
    for stream, row in outcome.rows.items():
        assert row["acknowledged"] > 0, f"{stream}: nothing went through"
        assert row["lost"] == 0, f"{stream}: {row['lost']} acknowledged but not stored"
        assert row["doubled"] == 0, f"{stream}: {row['doubled']} stored more than once"
    assert outcome.server_errors == 0, "a 5xx other than 503 while the database was down or restarting"
    assert outcome.operator_restarts == 0, "sgl did not bring its database back by itself"
    assert outcome.journal_left_received == 0, "journal entries left 'received' after the restarts"
