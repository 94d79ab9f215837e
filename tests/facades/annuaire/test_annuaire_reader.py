"""The extraction reader and mapping on their own (SGL.ANN.01): headers by name, bad files refused with a
reason, lines rejected with their number, the ANS sample and the PSC extraction shape mapped to FR Core."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from facades.annuaire import (
    ExtractionError,
    LineRefused,
    Rejected,
    Row,
    activity,
    mssante_entry,
    norm,
    open_extractions,
    rows,
)
from facades.annuaire.systems import G15_PROFESSION, R38_SPECIALTY
from tests.support.annuaire_files import MSS_HEADER, mss_line, ps_lines, write_mss, write_ps

KITS = Path(__file__).resolve().parents[4] / "shared" / "kits" / "annuaire"


def _rows(path: Path) -> list[Row | Rejected]:
    with open_extractions(path) as sources:
        return [r for source in sources for r in rows(source.lines)]


@pytest.mark.req("SGL.ANN.01")
def test_the_ans_sample_maps_every_line_SGL_ANN_01() -> None:
    items = _rows(KITS / "PS_LibreAcces_Personne_activite_small.txt")
    assert len(items) == 22 and all(isinstance(r, Row) for r in items)
    acts = [activity(r, []) for r in items if isinstance(r, Row)]
    rpps = [a for a in acts if a.practitioner["id"] == "as-810106476764"][0]
    assert rpps.practitioner["identifier"][1]["value"] == "10106476764"
    codes = [c["code"]["coding"][0] for c in rpps.practitioner["qualification"]]
    assert [(c["system"], c["code"]) for c in codes] == [(G15_PROFESSION, "10"), (R38_SPECIALTY, "SM20")]
    assert sum(1 for a in acts if a.organization) == 13


@pytest.mark.req("SGL.ANN.01")
def test_the_psc_extraction_shape_gives_a_role_code_SGL_ANN_01() -> None:
    items = _rows(KITS / "Extraction_ProSanteConnect_testsample_multiple-work-situations-result.txt")
    first = activity([r for r in items if isinstance(r, Row)][0], ["anne.darco@test.mssante.fr"])
    assert first.practitioner["telecom"][0]["value"] == "anne.darco@test.mssante.fr"
    assert first.organization is not None and first.organization["name"] == "CENTRE COMMUNAL ACTION SOCIALE"
    modes = [c["coding"][0] for c in first.role["code"] if c["coding"][0]["system"] != G15_PROFESSION]
    assert {"system": "https://mos.esante.gouv.fr/NOS/TRE_R23-ModeExercice/FHIR/TRE-R23-ModeExercice",
            "code": "S"} in modes


def test_headers_are_matched_whatever_their_case_and_accents() -> None:
    assert norm("  Libellé  PROFESSION ") == norm("libelle profession") == "libelle profession"
    assert norm("Nom d’exercice") == "nom d'exercice"


def test_bad_files_are_refused_with_a_reason(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(ExtractionError, match="empty"):
        _rows(empty)
    latin = tmp_path / "latin.txt"
    latin.write_bytes(("|".join(["Identification nationale PP", "Nom d'exercice"]) + "|\n").encode()
                      + "810000000001|Hélène|\n".encode("latin-1"))
    with pytest.raises(ExtractionError, match="not UTF-8"):
        _rows(latin)
    archive = tmp_path / "other.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("PS_LibreAcces_Dipl_AutExerc_202612040100.txt", "a|b|\n")
    with pytest.raises(ExtractionError, match="no Personne_activite"):
        _rows(archive)


def test_lines_are_rejected_with_their_number_and_reason(tmp_path: Path) -> None:
    path = write_ps(tmp_path / "ps.txt", range(2), broken={0: "8|1|2|"})
    items = _rows(path)
    assert [r.line for r in items if isinstance(r, Rejected)] == [3]
    good = [r for r in items if isinstance(r, Row)]
    no_name = Row(9, {**good[0].fields, norm("Nom d'exercice"): ""})
    with pytest.raises(LineRefused, match="Nom d'exercice"):
        activity(no_name, [])
    no_id = Row(9, {**good[0].fields, norm("Identification nationale PP"): ""})
    with pytest.raises(LineRefused, match="empty"):
        activity(no_id, [])
    assert len(ps_lines(3)) == 2  # two activities of one person, consecutive


def test_mssante_lines_become_lookup_entries(tmp_path: Path) -> None:
    path = write_mss(tmp_path / "mss.txt", range(3))
    entries = [mssante_entry(r) for r in _rows(path) if isinstance(r, Row)]
    assert entries[1]["address"] == mss_line(1).split("|")[1] and entries[1]["postal_code"] == "75012"
    assert entries[1]["town"] == "PARIS" and entries[1]["department"] == "75"
    header = MSS_HEADER.split("|")
    broken = dict.fromkeys((norm(h) for h in header if h), "")
    with pytest.raises(LineRefused, match="not a mail address"):
        mssante_entry(Row(2, {**broken, norm("Adresse BAL"): "nobody"}))
    with pytest.raises(LineRefused, match="without 'Identification nationale PP'"):
        mssante_entry(Row(2, {**broken, norm("Adresse BAL"): "a@b.fr", norm("Type de BAL"): "PER"}))
    org = mssante_entry(Row(2, {**broken, norm("Adresse BAL"): "labo@b.fr", norm("Type de BAL"): "ORG",
                                norm("L6LIGNEACHEMINEMENT"): "CEDEX 9"}))
    assert org["kind"] == "ORG" and org["town"] == "CEDEX 9"
