"""LOINC_4/5/6 imports over HTTP and with ``sgl catalog import`` (server/catalog/importing.py): SGL.LOI.04–07."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from resources.errors import RuleViolation
from resources.interactions import WriteIntent
from server.access.caller import system
from server.catalog import apply_import, read_import
from server.catalog.importing import circuit_codes
from server.database import Database
from server.settings import Settings
from terminology import StaleLoincChange
from tests.support.catalog_files import (
    DAY,
    IN_CIRCUIT,
    OUTSIDE_CIRCUIT,
    concept_loinc,
    loinc_of,
    sgl_catalog,
    transcoded,
    versions,
)
from tests.support.sgl_server import SglProcess

pytestmark = pytest.mark.db

CSV = {"Content-Type": "text/csv; charset=utf-8"}
LOINC_6 = f"LOINC_6_transcodage_resultats_{DAY}.csv"


async def _analysis(fhir: httpx.AsyncClient, code: str) -> dict[str, object] | None:
    response = await fhir.get(f"ObservationDefinition/analysis-{code}")
    assert response.status_code == 200, response.text
    return loinc_of(response.json())


def _report(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig")), delimiter=";"))


def _recent(stamp: object) -> bool:
    return datetime.now(UTC) - datetime.fromisoformat(str(stamp)) < timedelta(minutes=5)


@pytest.mark.req("SGL.LOI.06")
async def test_cli_imports_a_good_loinc_6_and_keeps_creation_dates_SGL_LOI_06(
        sgl_server: SglProcess, fhir: httpx.AsyncClient, tmp_path: Path) -> None:
    before = await _analysis(fhir, "UREA")
    assert before is not None
    path = tmp_path / LOINC_6
    path.write_bytes(await transcoded(fhir, "LOINC_3", {"UREA": [IN_CIRCUIT[0], "Urée Sér/Plas"],
                                                        "CREA": [IN_CIRCUIT[1], "Créatinine Sér/Plas"]}))
    done = sgl_catalog(sgl_server.data_dir, "import", str(path), "--report", str(tmp_path / "rapport.csv"))
    assert done.returncode == 0, done.stderr + done.stdout
    assert "2 LOINC code(s) applied" in done.stdout and "0 ligne(s) rejeté(e)s" in done.stdout
    after = await _analysis(fhir, "UREA")
    assert after is not None and after["code"] == IN_CIRCUIT[0] and after["display"] == "Urée Sér/Plas"
    assert after["created"] == before["created"] and _recent(after["modified"])
    assert after["source"] == f"{LOINC_6}:2"
    assert (await _analysis(fhir, "CREA") or {})["code"] == IN_CIRCUIT[1]
    rows = _report(tmp_path / "rapport.csv")
    assert rows[0] == ["Ligne", "Colonne", "Gravité", "Erreur", "Message"] and rows[-1][3] == "résumé"
    translated = await fhir.get("ConceptMap/$translate", params={"code": "UREA", "target": "http://loinc.org"})
    assert translated.json()["parameter"][1]["part"][1]["valueCoding"]["code"] == IN_CIRCUIT[0]


@pytest.mark.req("SGL.LOI.07", "SGL.LOI.06")
async def test_several_codes_for_one_analysis_block_only_that_line_SGL_LOI_07(
        sgl_server: SglProcess, fhir: httpx.AsyncClient, tmp_path: Path) -> None:
    before_na = await _analysis(fhir, "NA")
    path = tmp_path / LOINC_6
    path.write_bytes(await transcoded(fhir, "LOINC_3", {"NA": [f"{IN_CIRCUIT[2]}|{IN_CIRCUIT[3]}", "Sodium"],
                                                        "K": [IN_CIRCUIT[4], "Potassium Sér/Plas"]}))
    report = tmp_path / "rapport.csv"
    done = sgl_catalog(sgl_server.data_dir, "import", str(path), "--report", str(report))
    assert done.returncode == 1, done.stderr + done.stdout
    assert "1 LOINC code(s) applied" in done.stdout
    assert await _analysis(fhir, "NA") == before_na  # nothing from the blocked line 2
    assert (await _analysis(fhir, "K") or {})["code"] == IN_CIRCUIT[4]  # line 3 applied
    blocking = [r for r in _report(report)[1:] if r[2] == "bloquante"]
    assert [(r[0], r[1], r[3]) for r in blocking] == [("2", "13", "multiple-loinc")]
    assert IN_CIRCUIT[2] in blocking[0][4] and IN_CIRCUIT[3] in blocking[0][4]


@pytest.mark.req("SGL.LOI.07", "SGL.LOI.06")
async def test_unknown_code_malformed_line_and_outside_circuit_are_reported_by_line_SGL_LOI_07(
        fhir: httpx.AsyncClient) -> None:
    content = await transcoded(fhir, "LOINC_3", {"CL": [OUTSIDE_CIRCUIT[0], "Chlorure hors circuit"],
                                                 "CO2": [IN_CIRCUIT[5], "CO2"]},
                               extra_lines=(["INCONNU", "Analyse inconnue"] + [""] * 10 + [IN_CIRCUIT[6], "x"],
                                            ["CA", "Calcium", IN_CIRCUIT[7]]))
    response = await fhir.post("ConceptMap/$loinc-import", params={"file": LOINC_6}, content=content, headers=CSV)
    assert response.status_code == 200, response.text
    issues = {(i["severity"], i["code"], i.get("expression", [""])[0]) for i in response.json()["issue"]}
    assert ("warning", "business-rule", f"{LOINC_6}:2") in issues  # outside the circuit: warned...
    assert ("error", "not-found", f"{LOINC_6}:4:1") in issues  # unknown local code, line and column
    assert any(s == "error" and e == f"{LOINC_6}:5" for s, _, e in issues)  # 3 columns instead of 14
    assert (await _analysis(fhir, "CL") or {})["code"] == OUTSIDE_CIRCUIT[0]  # ...and applied
    assert (await _analysis(fhir, "CO2") or {})["code"] == IN_CIRCUIT[5]
    assert (await _analysis(fhir, "CA") or {})["code"] != IN_CIRCUIT[7]


@pytest.mark.req("SGL.LOI.04")
async def test_loinc_4_codes_chapters_and_sub_chapters_SGL_LOI_04(fhir: httpx.AsyncClient) -> None:
    content = await transcoded(fhir, "LOINC_1", {"IMMUN/IMMUN-IG": [IN_CIRCUIT[8], "Immunologie", IN_CIRCUIT[9],
                                                                    "Immunoglobulines"]})
    response = await fhir.post("ConceptMap/$loinc-import", content=content,
                               headers={**CSV, "Content-Disposition": f'attachment; filename="LOINC_4_transcodage_'
                                                                      f'chapitres_{DAY}.csv"'})
    assert response.status_code == 200, response.text
    code_system = (await fhir.get("CodeSystem/catalogue")).json()
    chapter, sub = concept_loinc(code_system, "IMMUN"), concept_loinc(code_system, "IMMUN-IG")
    assert chapter is not None and chapter["code"] == IN_CIRCUIT[8] and chapter["created"] == chapter["modified"]
    assert sub is not None and sub["code"] == IN_CIRCUIT[9] and _recent(sub["created"])


@pytest.mark.req("SGL.LOI.05")
async def test_loinc_5_codes_orderable_exams_SGL_LOI_05(fhir: httpx.AsyncClient) -> None:
    before = await versions(fhir, "ActivityDefinition/exam-PHOSP")
    content = await transcoded(fhir, "LOINC_2", {"CALC": [IN_CIRCUIT[10], "Calcémie"],
                                                 "PHOSP": ["", ""]})
    response = await fhir.post("ConceptMap/$loinc-import", params={"file": f"LOINC_5_transcodage_demandes_{DAY}.csv"},
                               content=content, headers=CSV)
    assert response.status_code == 200, response.text
    exam = (await fhir.get("ActivityDefinition/exam-CALC")).json()
    assert (loinc_of(exam) or {})["code"] == IN_CIRCUIT[10]
    assert await versions(fhir, "ActivityDefinition/exam-PHOSP") == before  # a line without a code changes nothing
    assert any(i["severity"] == "warning" and i["code"] == "incomplete" for i in response.json()["issue"])


@pytest.mark.req("SGL.LOI.07")
async def test_a_file_with_only_blocking_lines_is_422_and_writes_nothing_SGL_LOI_07(fhir: httpx.AsyncClient) -> None:
    before = await versions(fhir, "CodeSystem/catalogue", "ConceptMap/catalogue-loinc",
                            "ObservationDefinition/analysis-LDH")
    content = await transcoded(fhir, "LOINC_3", {"LDH": ["2532-1", "clé fausse"]})
    response = await fhir.post("ConceptMap/$loinc-import", params={"file": LOINC_6}, content=content, headers=CSV)
    assert response.status_code == 422
    errors = [i for i in response.json()["issue"] if i["severity"] == "error"]
    assert len(errors) == 1 and errors[0]["expression"] == [f"{LOINC_6}:2:13"] and "clé" in errors[0]["diagnostics"]
    assert await versions(fhir, *before) == before


async def test_bad_requests_get_a_clear_outcome_and_write_nothing(fhir: httpx.AsyncClient) -> None:
    refs = ("CodeSystem/catalogue", "ConceptMap/catalogue-loinc")
    before = await versions(fhir, *refs)
    empty = await fhir.post("ConceptMap/$loinc-import", params={"file": LOINC_6}, content=b"", headers=CSV)
    assert empty.status_code == 400 and empty.json()["issue"][0]["expression"] == ["body"]
    export = await fhir.get("CodeSystem/$loinc-export", params={"file": "LOINC_3"})
    wrong_kind = await fhir.post("ConceptMap/$loinc-import", params={"file": f"LOINC_3_export_resultats_{DAY}.csv"},
                                 content=export.content, headers=CSV)
    assert wrong_kind.status_code == 400 and "not a LOINC_4, LOINC_5 or LOINC_6" in wrong_kind.text
    unnamed = await fhir.post("ConceptMap/$loinc-import", content=export.content, headers=CSV)
    assert unnamed.status_code == 400 and unnamed.json()["issue"][0]["expression"] == ["file"]
    sneaky = await fhir.post("ConceptMap/$loinc-import", params={"file": f"../{LOINC_6}"}, content=export.content,
                             headers=CSV)
    assert sneaky.status_code == 400 and sneaky.json()["issue"][0]["expression"] == ["file"]
    header_only = await fhir.post("ConceptMap/$loinc-import", params={"file": LOINC_6}, content=export.content,
                                  headers=CSV)  # an export sent back as is: the LOINC columns are missing
    assert header_only.status_code == 422 and "12 colonnes au lieu de 14" in header_only.text
    not_a_map = await fhir.post("ConceptMap/$loinc-import", json={"resourceType": "ValueSet"})
    assert not_a_map.status_code == 400 and not_a_map.json()["issue"][0]["expression"] == ["resourceType"]
    assert await versions(fhir, *refs) == before


async def test_dry_run_reports_and_changes_nothing(sgl_server: SglProcess, fhir: httpx.AsyncClient,
                                                   tmp_path: Path) -> None:
    before = await versions(fhir, "ObservationDefinition/analysis-PAL", "CodeSystem/catalogue")
    path = tmp_path / LOINC_6
    path.write_bytes(await transcoded(fhir, "LOINC_3", {"PAL": [IN_CIRCUIT[11], "PAL"]}))
    done = sgl_catalog(sgl_server.data_dir, "import", str(path), "--report", str(tmp_path / "r.csv"), "--dry-run")
    assert done.returncode == 0 and "dry run: nothing applied" in done.stdout
    assert "1 code(s) LOINC à appliquer" in done.stdout and (tmp_path / "r.csv").exists()
    assert await versions(fhir, *before) == before


async def test_import_computed_before_the_catalogue_changed_is_refused_whole(
        sgl_db: Database, fhir: httpx.AsyncClient, tmp_path: Path) -> None:
    path = tmp_path / LOINC_6
    path.write_bytes(await transcoded(fhir, "LOINC_3", {"GGT": [IN_CIRCUIT[0], "GGT"], "BILC": [IN_CIRCUIT[1], "x"]}))
    result = await read_import(sgl_db.store, path, circuit_codes(Settings()))
    assert len(result.changes) == 2
    edited = await fhir.post("ObservationDefinition/analysis-GGT/$set-loinc", json={
        "resourceType": "Parameters", "parameter": [{"name": "code", "valueCode": IN_CIRCUIT[2]}]})
    assert edited.status_code == 200, edited.text
    refs = ("CodeSystem/catalogue", "ObservationDefinition/analysis-GGT", "ObservationDefinition/analysis-BILC")
    before = await versions(fhir, *refs)

    async def accept(intent: WriteIntent) -> dict[str, Any] | None:
        return intent.proposed

    with pytest.raises(StaleLoincChange) as refused:
        await apply_import(sgl_db.store, result, write_rule=accept, caller=system("test"))
    assert refused.value.status == 409 and refused.value.expression == ["analysis:GGT.loinc"]
    assert await versions(fhir, *refs) == before  # not even BILC, whose line was fine


@pytest.mark.req("SGL.LOI.10")
async def test_concept_map_import_is_the_fhir_form_of_the_csv_import_SGL_LOI_10(
        sgl_server: SglProcess, fhir: httpx.AsyncClient, tmp_path: Path) -> None:
    def to(code: str) -> dict[str, str]:
        return {"code": code, "equivalence": "equivalent"}

    concept_map: dict[str, Any] = {
        "resourceType": "ConceptMap", "id": "transcodage-prestataire", "status": "active",
        "group": [{"source": "https://opensgl.org/fhir/CodeSystem/catalogue", "target": "http://loinc.org",
                   "element": [{"code": "ASAT", "target": [{**to(IN_CIRCUIT[3]), "display": "ASAT"}]},
                               {"code": "ALAT", "target": [to(IN_CIRCUIT[4]), to(IN_CIRCUIT[5])]},
                               {"code": "HEMOS", "target": [to(IN_CIRCUIT[6])]}]}]}
    before_alat = await _analysis(fhir, "ALAT")
    response = await fhir.post("ConceptMap/$loinc-import", json=concept_map)
    assert response.status_code == 200, response.text
    errors = [i for i in response.json()["issue"] if i["severity"] == "error"]
    assert [e["expression"] for e in errors] == [["ConceptMap.group[0].element[1]"]]  # two codes for ALAT
    assert (await _analysis(fhir, "ASAT") or {})["code"] == IN_CIRCUIT[3]
    assert await _analysis(fhir, "ALAT") == before_alat
    code_system = (await fhir.get("CodeSystem/catalogue")).json()
    assert (concept_loinc(code_system, "HEMOS") or {})["code"] == IN_CIRCUIT[6]  # a chapter, by its local code
    concept_map["group"][0]["element"] = [{"code": "TG", "target": [to(IN_CIRCUIT[7])]}]
    path = tmp_path / "transcodage.json"
    path.write_text(json.dumps(concept_map), encoding="utf-8")
    done = sgl_catalog(sgl_server.data_dir, "import", str(path), "--report", str(tmp_path / "r.csv"))
    assert done.returncode == 0, done.stderr + done.stdout
    assert (await _analysis(fhir, "TG") or {})["code"] == IN_CIRCUIT[7]


async def test_import_failing_on_its_last_write_leaves_nothing_written(sgl_db: Database, fhir: httpx.AsyncClient,
                                                                       tmp_path: Path) -> None:
    path = tmp_path / LOINC_6
    path.write_bytes(await transcoded(fhir, "LOINC_3", {"HBA1C": [IN_CIRCUIT[8], "HbA1c"],
                                                        "FER": [IN_CIRCUIT[9], "Ferritine"]}))
    result = await read_import(sgl_db.store, path, circuit_codes(Settings()))
    refs = ("CodeSystem/catalogue", "ConceptMap/catalogue-loinc", "ObservationDefinition/analysis-HBA1C",
            "ObservationDefinition/analysis-FER")
    before = await versions(fhir, *refs)
    written: list[str] = []

    async def refuse_concept_map(intent: WriteIntent) -> dict[str, Any] | None:
        if intent.written:  # told again once written (after_write): not a new write
            return None
        written.append(intent.resource_type)
        if intent.resource_type == "ConceptMap":
            raise RuleViolation("TEST", "the map may not be written", expression="ConceptMap")
        return intent.proposed

    with pytest.raises(RuleViolation):
        await apply_import(sgl_db.store, result, write_rule=refuse_concept_map, caller=system("test"))
    assert written == ["CodeSystem", "ObservationDefinition", "ObservationDefinition", "ConceptMap"]
    assert await versions(fhir, *refs) == before
