"""Imports LOINC_4, LOINC_5, LOINC_6 and their report (importer.py, report.py): SGL.LOI.04-07 and 09."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fhir.resources.R4B.operationoutcome import OperationOutcome

from resources.errors import InvalidInput
from terminology.catalog.changes import apply_changes
from terminology.catalog.model import Catalog, Target
from terminology.loinc_files.importer import parse_loinc_import
from terminology.loinc_files.report import Finding

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
H4 = ["Code LOINC chapitre", "Libellé LOINC chapitre", "Code LOINC sous-chapitre", "Libellé LOINC sous-chapitre"]
H5 = ["Code LOINC examen", "Libellé LOINC examen"]
H6 = ["Code LOINC analyse", "Libellé LOINC analyse"]
Answer = Callable[..., Path]
OUTSIDE = "99999-5"  # a well-formed LOINC code (right check digit) that the circuit value set lacks


def _codes(table: dict[str, tuple[str, str]], key: int = 0) -> Callable[[list[str]], list[str]]:
    return lambda row: list(table.get(row[key], ("", "")))


def _blocking(result, line: int) -> list[Finding]:  # type: ignore[no-untyped-def]
    return [e.finding for e in result.report.blocking if e.line == line]


def _line_of(path: Path, needle: str) -> int:
    return next(n for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text.startswith(needle))


@pytest.mark.req("SGL.LOI.06")
def test_good_loinc_6_assigns_a_code_to_each_transcoded_analysis_SGL_LOI_06(answer: Answer, catalog: Catalog,
                                                                            circuit: frozenset[str]) -> None:
    path = answer(6, _codes({"GLU": ("2345-7", "Glucose [Masse/Volume] Sérum/Plasma ; Numérique"),
                             "NA": ("2947-0", "Sodium [Moles/Volume] Sang ; Numérique"),
                             "K": ("2823-3", "Potassium [Moles/Volume] Sérum/Plasma ; Numérique")}), headers=H6)
    result = parse_loinc_import(path, catalog, circuit | {"2947-0"})
    assert result.report.blocking == [] and result.report.data_lines == len(catalog.analyses)
    # GLU and K come back with the code and label they already have: no change, dates untouched
    assert [(c.local_code, c.loinc_code) for c in result.changes] == [("NA", "2947-0")]
    assert next(c for c in result.changes if c.local_code == "NA").source == f"{path.name}:{_line_of(path, 'NA;')}"
    applied = apply_changes(catalog, result.changes, NOW)
    assert applied.analysis("NA").loinc.code == "2947-0"
    assert sum(e.finding is Finding.NO_LOINC for e in result.report.warnings) == len(catalog.analyses) - 3


@pytest.mark.req("SGL.LOI.05")
def test_good_loinc_5_gives_each_exam_one_code_over_its_lines_SGL_LOI_05(answer: Answer, catalog: Catalog,
                                                                         circuit: frozenset[str]) -> None:
    path = answer(5, _codes({"IONO": ("24326-1", "Électrolytes 1998 panel"), "NFS": ("58410-2", "Hémogramme")}),
                  headers=H5)
    result = parse_loinc_import(path, catalog, circuit | {"24326-1"})
    assert result.report.blocking == []
    assert [(c.target, c.local_code, c.loinc_code) for c in result.changes] == [
        (Target.EXAM, "IONO", "24326-1"), (Target.EXAM, "NFS", "58410-2")]
    applied = apply_changes(catalog, result.changes, NOW)
    assert applied.exam("IONO").loinc.code == "24326-1" and applied.exam("IONO").loinc.created == NOW


@pytest.mark.req("SGL.LOI.04")
def test_good_loinc_4_codes_chapters_and_sub_chapters_SGL_LOI_04(answer: Answer, catalog: Catalog,
                                                                 circuit: frozenset[str]) -> None:
    table = {("HEMAT", "HEMAT-NFS"): ["18723-7", "Hématologie", "58410-2", "Hémogramme"],
             ("HEMOS", ""): ["18720-3", "Hémostase, coagulation", "", ""]}
    path = answer(4, lambda row: table.get((row[0], row[2]), ["", "", "", ""]), headers=H4)
    result = parse_loinc_import(path, catalog, circuit)
    assert result.report.blocking == []
    assert [(c.target, c.local_code, c.loinc_code) for c in result.changes] == [
        (Target.SUBCHAPTER, "HEMAT-NFS", "58410-2")]  # both chapter codes already in the catalogue
    applied = apply_changes(catalog, result.changes, NOW)
    assert next(s for s in applied.chapters[1].subchapters if s.code == "HEMAT-NFS").loinc.code == "58410-2"


@pytest.mark.req("SGL.LOI.07")
def test_several_codes_in_one_cell_block_that_line_only_SGL_LOI_07(answer: Answer, catalog: Catalog,
                                                                   circuit: frozenset[str]) -> None:
    path = answer(6, _codes({"GLU": ("2345-7, 2339-0", "Glucose"), "K": ("2823-3", "Potassium")}), headers=H6)
    result = parse_loinc_import(path, catalog, circuit)
    line = _line_of(path, "GLU;")
    assert _blocking(result, line) == [Finding.MULTIPLE_LOINC]
    entry = next(e for e in result.report.blocking if e.line == line)
    assert entry.column == 13 and "2345-7" in entry.message and "2339-0" in entry.message
    assert [(c.local_code, c.loinc_code, c.loinc_display) for c in result.changes] == [("K", "2823-3", "Potassium")]


@pytest.mark.req("SGL.LOI.07")
def test_several_codes_for_one_analysis_on_two_lines_block_and_keep_the_old_code_SGL_LOI_07(
        answer: Answer, catalog: Catalog, circuit: frozenset[str]) -> None:
    glu = next(r for r in catalog.analyses if r.code == "GLU")
    path = answer(6, _codes({"GLU": ("2339-0", "Glucose sang"), "NA": ("2947-0", "Sodium sang")}), headers=H6,
                  more_lines=[f"GLU;{glu.label};;;;;;;;;;;2345-7;Glucose"])
    result = parse_loinc_import(path, catalog, circuit)
    last = len(path.read_text(encoding="utf-8").splitlines())
    assert _blocking(result, last) == [Finding.MULTIPLE_LOINC]
    assert [c.local_code for c in result.changes] == ["NA"]
    assert apply_changes(catalog, result.changes, NOW).analysis("GLU").loinc == catalog.analysis("GLU").loinc


@pytest.mark.req("SGL.LOI.07")
def test_conflicting_exam_codes_across_its_lines_block_the_exam_SGL_LOI_07(answer: Answer, catalog: Catalog,
                                                                           circuit: frozenset[str]) -> None:
    path = answer(5, lambda row: (["24326-1", "Iono"] if row[7] != "CL" else ["24323-8", "Autre"])
                  if row[0] == "IONO" else ["", ""], headers=H5)
    result = parse_loinc_import(path, catalog, circuit)
    assert [e.finding for e in result.report.blocking] == [Finding.MULTIPLE_LOINC]
    assert result.changes == ()


@pytest.mark.req("SGL.LOI.07")
def test_extra_columns_with_a_second_code_block_the_line_SGL_LOI_07(answer: Answer, catalog: Catalog,
                                                                    circuit: frozenset[str]) -> None:
    path = answer(6, lambda row: ["2339-0", "Glucose sang", "2345-7", "Glucose"] if row[0] == "GLU" else ["", ""],
                  headers=H6)
    result = parse_loinc_import(path, catalog, circuit)
    assert _blocking(result, _line_of(path, "GLU;")) == [Finding.MULTIPLE_LOINC]
    assert result.changes == ()


@pytest.mark.req("SGL.LOI.07")
@pytest.mark.parametrize(("bad_line", "finding", "column"), [
    ("ZZZ;Analyse inconnue;;;;;;;;;;;2345-7;Glucose", Finding.UNKNOWN_LOCAL_CODE, 1),
    ("GLU;Glucose;;;;;;;;;;;2345-8;Glucose", Finding.CHECK_DIGIT, 13),
    ("GLU;Glucose;;;;;;;;;;;glucose;Glucose", Finding.MALFORMED, 13),
    ('GLU;"Glucose;;;;;;;;;;;2345-7;Glucose', Finding.MALFORMED, None),
    ("GLU;Glucose;;;;;;;;;;2345-7;Glucose", Finding.COLUMN_COUNT, None),
    (";Glucose;;;;;;;;;;;2345-7;Glucose", Finding.MISSING_VALUE, 1),
])
def test_a_bad_line_is_blocking_with_its_number_and_nothing_from_it_applies_SGL_LOI_07(
        answer: Answer, catalog: Catalog, circuit: frozenset[str], bad_line: str, finding: Finding,
        column: int | None) -> None:
    path = answer(6, _codes({"NA": ("2947-0", "Sodium sang")}), headers=H6, more_lines=[bad_line])
    result = parse_loinc_import(path, catalog, circuit | {"2947-0"})
    last = len(path.read_text(encoding="utf-8").splitlines())
    assert [(e.line, e.finding, e.column) for e in result.report.blocking] == [(last, finding, column)]
    assert [c.local_code for c in result.changes] == ["NA"]  # the good lines still apply


@pytest.mark.req("SGL.LOI.07")
def test_codes_outside_the_circuit_warn_but_apply_in_loinc_4_5_and_6_SGL_LOI_07(
        answer: Answer, catalog: Catalog, circuit: frozenset[str]) -> None:
    """The ANS scenario: a chapter, a sub-chapter, an exam and an analysis code outside the value set."""
    assert OUTSIDE not in circuit
    files = [
        answer(4, lambda row: [OUTSIDE, "Chapitre", "99998-7", "Sous-chapitre"] if row[2] == "IMMUN-IG"
               else ["", "", "", ""], headers=H4),
        answer(5, _codes({"IGS": (OUTSIDE, "Examen")}), headers=H5),
        answer(6, _codes({"IGG": (OUTSIDE, "Analyse")}), headers=H6),
    ]
    applied = catalog
    for path in files:
        result = parse_loinc_import(path, applied, circuit)
        assert result.report.blocking == []
        outside = [e for e in result.report.warnings if e.finding is Finding.OUTSIDE_CIRCUIT]
        assert outside and all(not e.blocking and e.line > 1 for e in outside)
        assert result.changes
        applied = apply_changes(applied, result.changes, NOW)
    assert applied.chapters[3].loinc.code == OUTSIDE and applied.chapters[3].subchapters[0].loinc.code == "99998-7"
    assert applied.exam("IGS").loinc.code == OUTSIDE and applied.analysis("IGG").loinc.code == OUTSIDE


@pytest.mark.req("SGL.LOI.07")
def test_report_as_csv_and_operation_outcome_names_the_lines_SGL_LOI_07(answer: Answer, catalog: Catalog,
                                                                        circuit: frozenset[str],
                                                                        tmp_path: Path) -> None:
    path = answer(6, _codes({"GLU": ("2345-7, 2339-0", "x"), "IGG": (OUTSIDE, "y")}), headers=H6)
    report = parse_loinc_import(path, catalog, circuit).report
    line_glu, line_igg = _line_of(path, "GLU;"), _line_of(path, "IGG;")
    text = report.write_csv(tmp_path / "rapport.csv").read_text(encoding="utf-8-sig")
    assert text.splitlines()[0] == "Ligne;Colonne;Gravité;Erreur;Message"
    assert f"{line_glu};13;bloquante;multiple-loinc;" in text
    assert f"{line_igg};;non bloquante;outside-circuit;" in text
    outcome = report.to_operation_outcome()
    OperationOutcome.model_validate(outcome)
    issues = {i["expression"][0]: i for i in outcome["issue"] if "expression" in i}
    assert issues[f"{path.name}:{line_glu}:13"]["severity"] == "error"
    assert issues[f"{path.name}:{line_igg}"]["severity"] == "warning"
    assert outcome["issue"][-1]["severity"] == "information" and "1 ligne(s) rejeté(e)s" in report.summary()


@pytest.mark.req("SGL.LOI.09")
def test_import_keeps_creation_date_and_stamps_modification_SGL_LOI_09(answer: Answer, catalog: Catalog,
                                                                       circuit: frozenset[str]) -> None:
    path = answer(6, _codes({"NA": ("2947-0", "Sodium sang")}), headers=H6)
    result = parse_loinc_import(path, catalog, circuit)
    assert result.changes[0].previous == catalog.analysis("NA").loinc
    assignment = apply_changes(catalog, result.changes, NOW).analysis("NA").loinc
    assert assignment.created == catalog.analysis("NA").loinc.created and assignment.modified == NOW
    assert assignment.source == f"{path.name}:{_line_of(path, 'NA;')}"


def test_wrong_header_rejects_the_whole_file(answer: Answer, catalog: Catalog, circuit: frozenset[str]) -> None:
    path = answer(6, _codes({"NA": ("2947-0", "x")}), headers=H6)
    text = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\r\n".join(["Code;Libellé;" + ";" * 11] + text[1:]), encoding="utf-8")
    result = parse_loinc_import(path, catalog, circuit)
    assert [(e.line, e.finding) for e in result.report.blocking] == [(1, Finding.HEADER)]
    assert result.changes == ()


def test_windows_1252_file_is_read_with_a_warning(answer: Answer, catalog: Catalog,
                                                  circuit: frozenset[str]) -> None:
    path = answer(6, _codes({"NA": ("2947-0", "Sodium [Moles/Volume] Sang ; Numérique")}), headers=H6,
                  encoding="cp1252")
    result = parse_loinc_import(path, catalog, circuit)
    assert result.report.blocking == []
    assert [e.finding for e in result.report.warnings if e.line == 0] == [Finding.ENCODING]
    assert result.changes[0].loinc_display == "Sodium [Moles/Volume] Sang ; Numérique"


def test_file_name_must_announce_loinc_4_5_or_6(tmp_path: Path, catalog: Catalog, circuit: frozenset[str]) -> None:
    path = tmp_path / "transcodage.csv"
    path.write_text("x", encoding="utf-8")
    with pytest.raises(InvalidInput) as err:
        parse_loinc_import(path, catalog, circuit)
    assert err.value.expression == ["transcodage.csv"]
