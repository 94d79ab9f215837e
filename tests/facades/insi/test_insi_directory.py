"""The simulator's test identities: loaded from the kit, matched as the INSi test service does."""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

import pytest
from lxml import etree

from facades.insi import CarteVitaleQuery, Matricule, TraitsQuery
from facades.insi.directory import KIT_DIR, Directory, read_rows
from tests.support.insi_kit import KIT

NS = {"r": "http://www.cnamts.fr/INSiResultat"}


def _code(resultat: etree._Element) -> str:
    return resultat.findtext("r:CR/r:CodeCR", namespaces=NS)


def _nir(resultat: etree._Element) -> str:
    return resultat.findtext("r:INDIVIDU/r:INSACTIF/r:IdIndividu/r:NumIdentifiant", namespaces=NS)


def test_packaged_kit_is_the_shared_kit() -> None:
    names = sorted(p.name for p in KIT_DIR.iterdir() if p.suffix in (".xml", ".csv"))
    assert "test_identities.csv" in names and len(names) == 11
    match, mismatch, errors = filecmp.cmpfiles(KIT_DIR, KIT / "test-identities", names, shallow=False)
    assert (mismatch, errors) == ([], [])


def test_every_csv_row_becomes_a_person_with_its_answer() -> None:
    directory = Directory()
    assert len(directory.persons) == 11
    by_name = {p.birth_name: p for p in directory.persons}
    assert _code(by_name["HOUILLES"].resultat) == "01"
    assert _code(by_name["DE VINCI"].resultat) == "02"
    assert _nir(by_name["NESSI"].resultat) == "1100863220830"  # built from the CSV: no recorded answer


def test_history_cell_split_by_the_csv_delimiter_is_folded_back() -> None:
    rows = {r["nom_naissance"]: r for r in read_rows(KIT_DIR / "test_identities.csv")}
    assert rows["ECETINSI"]["inshisto"] == "2090763220834/39 ; 2090663220123/55"
    assert rows["ECETINSI"]["commentaire"].endswith("DateDeb/DateFin dans INSHISTO")
    assert rows["ADRUN"]["inshisto"] == ""


def test_broken_csv_is_refused_with_its_line(tmp_path: Path) -> None:
    shutil.copytree(KIT_DIR, tmp_path / "kit")
    csv_path = tmp_path / "kit/test_identities.csv"
    lines = csv_path.read_text(encoding="utf-8").splitlines()
    lines[3] = "ADRTROIS;TOUSSAINT"
    csv_path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(ValueError, match="test_identities.csv line 4"):
        Directory(tmp_path / "kit")


def test_kit_without_recorded_01_answer_is_refused(tmp_path: Path) -> None:
    shutil.copytree(KIT_DIR, tmp_path / "kit")
    (tmp_path / "kit/REP_CR01.xml").unlink()
    with pytest.raises(FileNotFoundError, match="01 and 02"):
        Directory(tmp_path / "kit")


def test_two_matching_persons_give_02(tmp_path: Path) -> None:
    shutil.copytree(KIT_DIR, tmp_path / "kit")
    csv_path = tmp_path / "kit/test_identities.csv"
    text = csv_path.read_text(encoding="utf-8")
    twin = "ADRUN;ZOE;ZOE;F;1975-12-31;63220;2751263220749;74;1.2.250.1.213.1.4.8;00;;jumelle"
    csv_path.write_text(text.rstrip("\n") + "\n" + twin + "\n", encoding="utf-8")
    directory = Directory(tmp_path / "kit")
    assert _code(directory.by_traits(TraitsQuery("ADRUN", ("ZOE",), "F", "1975-12-31"))) == "02"


def test_all_first_names_sent_must_be_birth_first_names() -> None:
    directory = Directory()
    full = TraitsQuery("ECETINSI", ("PIERRE-ALAIN MURIEL FLORIANT",), "M", "2009-07-14")
    partial = TraitsQuery("ECETINSI", ("MURIEL", "FLORIANT"), "M", "2009-07-14")
    foreign = TraitsQuery("ECETINSI", ("PIERRE-ALAIN", "JEAN"), "M", "2009-07-14")
    assert [_code(directory.by_traits(q)) for q in (full, partial, foreign)] == ["00", "00", "01"]


def test_wrong_sex_is_not_found() -> None:
    assert _code(Directory().by_traits(TraitsQuery("ADRUN", ("ZOE",), "M", "1975-12-31"))) == "01"


def test_carte_vitale_matches_name_date_and_nir() -> None:
    directory = Directory()
    assert _nir(directory.by_carte_vitale(CarteVitaleQuery("adrun", "1975-12-31", "1"))) == "2751263220749"
    other = CarteVitaleQuery("ADRUN", "1975-12-31", "1", individual=Matricule("2751263220748"))
    assert _code(directory.by_carte_vitale(other)) == "01"
