"""Exports LOINC_1, LOINC_2, LOINC_3 (terminology/loinc_files/export.py): SGL.LOI.01-03."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from terminology.catalog.model import Catalog
from terminology.loinc_files.export import export_loinc_files
from terminology.loinc_files.formats import LOINC_1, LOINC_2, LOINC_3
from tests.support.loinc_rows import TODAY, read_rows


def test_export_writes_three_dated_files_in_utf8_with_bom_and_crlf(exported: dict[int, Path]) -> None:
    assert [p.name for p in exported.values()] == [
        "LOINC_1_export_chapitres_20261126.csv", "LOINC_2_export_demandes_20261126.csv",
        "LOINC_3_export_resultats_20261126.csv"]
    for path in exported.values():
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw and b"\n\n" not in raw
        raw.decode("utf-8-sig")
    assert not list(path.parent.glob("*.part"))


@pytest.mark.req("SGL.LOI.01")
def test_loinc_1_lists_chapters_and_sub_chapters_SGL_LOI_01(exported: dict[int, Path], catalog: Catalog) -> None:
    first_line = exported[1].read_text(encoding="utf-8-sig").splitlines()[0]
    assert first_line == "Code chapitre SGL;Libellé chapitre SGL;Code Sous-chapitre SGL;Libellé Sous-chapitre SGL"
    header, rows = read_rows(exported[1])
    assert header == list(LOINC_1.headers)
    assert len(rows) >= 10 and all(len(r) == 4 and r[1] for r in rows)
    assert ["HEMAT", "Hématologie", "HEMAT-NFS", "Hémogramme"] in rows
    assert ["HEMOS", "Hémostase", "", ""] in rows  # a chapter without sub-chapters still has its line
    assert {r[2] for r in rows if r[2]} == {s.code for c in catalog.chapters for s in c.subchapters}


@pytest.mark.req("SGL.LOI.02")
def test_loinc_2_has_one_line_per_analysis_of_each_exam_SGL_LOI_02(exported: dict[int, Path],
                                                                   catalog: Catalog) -> None:
    header, rows = read_rows(exported[2])
    assert header == list(LOINC_2.headers)
    assert len(rows) == sum(len(e.analyses) for e in catalog.exams) >= 10
    assert all(len(r) == 9 and r[0] and r[1] and r[7] and r[8] for r in rows)
    nfs = [r for r in rows if r[0] == "NFS"]
    assert [r[7] for r in nfs] == list(catalog.exam("NFS").analyses)
    assert nfs[0][:7] == ["NFS", "Numération formule sanguine", "Hémogramme|NFS-plaquettes", "HEMAT", "HEMAT-NFS",
                          "Sang total", "1104"]
    assert ["IONO", "Ionogramme sanguin", "Iono", "BIOCH", "BIOCH-ELEC", "Sérum", "", "K", "Potassium"] in rows


@pytest.mark.req("SGL.LOI.03")
def test_loinc_3_describes_each_result_analysis_on_the_loinc_axes_SGL_LOI_03(exported: dict[int, Path],
                                                                             catalog: Catalog) -> None:
    header, rows = read_rows(exported[3])
    assert header == list(LOINC_3.headers)
    assert header[0] == 'Code SGL de l’analyse "résultat"'
    assert len(rows) == len(catalog.analyses) >= 10
    by_code = {r[0]: r for r in rows}
    assert by_code["CREA"] == ["CREA", "Créatinine", "Créatininémie", "SCnc", "umol/L", "µmol/L", "Pt", "SER",
                               "Sérum", "Qn", "", ""]
    assert by_code["PROT24"][6] == "24H" and by_code["PROT24"][4] == "g/(24.h)"
    assert by_code["HBSAG"][9] == "Ord" and by_code["HBSAG"][4] == ""  # qualitative: no unit


@pytest.mark.req("SGL.LOI.03")
def test_separator_and_line_breaks_inside_labels_are_escaped_SGL_LOI_03(tmp_path: Path, catalog: Catalog) -> None:
    odd = replace(catalog, analyses=tuple(
        replace(a, label="Sodium; ionisé\nsur deux lignes") if a.code == "NA" else a for a in catalog.analyses))
    paths = export_loinc_files(odd, tmp_path, TODAY)
    _, rows = read_rows(paths[2])
    assert next(r for r in rows if r[0] == "NA")[1] == "Sodium; ionisé sur deux lignes"
    assert len(paths[2].read_text(encoding="utf-8-sig").splitlines()) == len(catalog.analyses) + 1


def test_export_replaces_an_older_file_of_the_same_day(tmp_path: Path, catalog: Catalog) -> None:
    (tmp_path / LOINC_1.file_name(TODAY)).write_text("stale", encoding="utf-8")
    export_loinc_files(catalog, tmp_path, TODAY)
    assert (tmp_path / LOINC_1.file_name(TODAY)).read_text(encoding="utf-8-sig").startswith("Code chapitre SGL")
