"""LOINC_1/2/3 exports (server/catalog/exporting.py) through the API and the CLI: SGL.LOI.01–03."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from server.catalog import export_day
from tests.support.catalog_files import rows_of, sgl_catalog
from tests.support.sgl_server import SglProcess

pytestmark = pytest.mark.db



async def _api(fhir: httpx.AsyncClient, kind: str) -> httpx.Response:
    response = await fhir.get("CodeSystem/$loinc-export", params={"file": kind})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return response


@pytest.mark.req("SGL.LOI.01", "SGL.LOI.02", "SGL.LOI.03")
async def test_cli_and_api_exports_are_the_same_files_SGL_LOI_01_02_03(sgl_server: SglProcess, fhir: httpx.AsyncClient,
                                                                       tmp_path: Path) -> None:
    before = export_day().strftime("%Y%m%d")  # the lab's day (Europe/Paris), read when the files are made:
    done = sgl_catalog(sgl_server.data_dir, "export", "--dir", str(tmp_path / "out"))
    after = export_day().strftime("%Y%m%d")  # a run crossing midnight in Paris may name either day
    assert done.returncode == 0, done.stderr
    written = sorted((tmp_path / "out").iterdir())
    day = written[0].stem.rsplit("_", 1)[-1]
    assert day in (before, after)
    assert [p.name for p in written] == [f"LOINC_1_export_chapitres_{day}.csv",
                                         f"LOINC_2_export_demandes_{day}.csv",
                                         f"LOINC_3_export_resultats_{day}.csv"]
    assert done.stdout.split() == [str(p) for p in written]
    for path in written:
        response = await _api(fhir, path.name[:7])
        assert response.headers["content-disposition"] == f'attachment; filename="{path.name}"'
        assert response.content == path.read_bytes()


@pytest.mark.req("SGL.LOI.01")
async def test_loinc_1_lists_chapters_and_sub_chapters_SGL_LOI_01(fhir: httpx.AsyncClient) -> None:
    header, *lines = rows_of((await _api(fhir, "LOINC_1")).content)
    assert header == ["Code chapitre SGL", "Libellé chapitre SGL", "Code Sous-chapitre SGL",
                      "Libellé Sous-chapitre SGL"]
    assert len(lines) >= 10 and all(len(line) == 4 and line[1] for line in lines)  # chapter label mandatory
    assert lines[[line[2] for line in lines].index("IMMUN-IG")][:2] == ["IMMUN", "Immunologie"]
    assert ["HEMOS", "Hémostase", "", ""] in lines  # a chapter without sub-chapters has its own line


@pytest.mark.req("SGL.LOI.02")
async def test_loinc_2_has_one_line_per_analysis_of_each_exam_SGL_LOI_02(fhir: httpx.AsyncClient) -> None:
    content = (await _api(fhir, "LOINC_2")).content
    assert content.startswith("\ufeff".encode()) and b"\r\n" in content
    header, *lines = rows_of(content)
    assert len(header) == 9 and header[0] == "Code examen SGL" and header[7] == "Code analyse"
    iono = [line for line in lines if line[0] == "IONO"]
    assert [line[7] for line in iono] == ["NA", "K", "CL", "CO2"]
    assert all(line[0] and line[1] and line[7] and line[8] for line in lines)  # the mandatory columns
    assert len({line[7] for line in lines}) >= 10


@pytest.mark.req("SGL.LOI.03")
async def test_loinc_3_describes_each_result_analysis_SGL_LOI_03(fhir: httpx.AsyncClient) -> None:
    header, *lines = rows_of((await _api(fhir, "LOINC_3")).content)
    assert len(header) == 12 and header[3].startswith("Grandeur SGL") and header[9] == "Echelle SGL (type of scale)"
    assert len(lines) == 98
    sodium = next(line for line in lines if line[0] == "NA")
    assert sodium[1] == "Sodium" and sodium[4] == "mmol/L" and sodium[6] == "Pt" and sodium[9] == "Qn"
    assert all(re.fullmatch(r"[A-Za-z0-9-]+", line[0]) and line[1] for line in lines)


async def test_unknown_export_kind_is_a_clear_400(fhir: httpx.AsyncClient) -> None:
    response = await fhir.get("CodeSystem/$loinc-export", params={"file": "LOINC_4"})
    assert response.status_code == 400
    issue = response.json()["issue"][0]
    assert issue["expression"] == ["file"] and "LOINC_1, LOINC_2, LOINC_3" in issue["diagnostics"]
