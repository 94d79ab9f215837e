"""``sgl catalog`` (server/catalog/cli.py): help texts, exit codes, and a database no server is running on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from server.embedded import STATE_FILE
from tests.support.catalog_files import DAY, sgl_catalog, versions
from tests.support.sgl_server import SglProcess

pytestmark = pytest.mark.db


def test_help_texts_say_what_each_command_does() -> None:
    sgl = str(Path(sys.executable).parent / "sgl")
    group = subprocess.run([sgl, "catalog", "--help"], capture_output=True, text=True, timeout=180, check=True).stdout
    assert "LOINC transcoding files" in group and "export" in group and "import" in group
    imports = subprocess.run([sgl, "catalog", "import", "--help"], capture_output=True, text=True, timeout=180,
                             check=True).stdout
    for words in ("--report", "--dry-run", "--data-dir", "--value-set", "blocking error"):
        assert words in imports


async def test_a_file_that_cannot_be_imported_exits_2_and_writes_nothing(sgl_server: SglProcess,
                                                                         fhir: httpx.AsyncClient,
                                                                         tmp_path: Path) -> None:
    before = await versions(fhir, "CodeSystem/catalogue")
    wrong = tmp_path / f"LOINC_3_export_resultats_{DAY}.csv"
    wrong.write_bytes((await fhir.get("CodeSystem/$loinc-export", params={"file": "LOINC_3"})).content)
    done = sgl_catalog(sgl_server.data_dir, "import", str(wrong), "--report", str(tmp_path / "r.csv"))
    assert done.returncode == 2 and "not a LOINC_4, LOINC_5 or LOINC_6 file name" in done.stderr
    assert not (tmp_path / "r.csv").exists()
    lost = sgl_catalog(sgl_server.data_dir, "import", str(wrong), "--report", str(tmp_path / "nowhere" / "r.csv"))
    assert lost.returncode == 2 and "does not exist" in lost.stderr
    assert await versions(fhir, "CodeSystem/catalogue") == before


def test_export_on_a_database_no_server_runs_on_loads_the_seed_first(tmp_path: Path) -> None:
    data = tmp_path / "var"
    done = sgl_catalog(data, "export", "--dir", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert len(list((tmp_path / "out").glob("LOINC_[123]_export_*.csv"))) == 3
    assert "seed analysis catalogue loaded" in done.stderr
    assert not (data / STATE_FILE).exists()  # the database the command started is stopped again
    again = sgl_catalog(data, "export", "--dir", str(tmp_path / "out2"))
    assert again.returncode == 0 and "already stored: seed not loaded" in again.stderr
