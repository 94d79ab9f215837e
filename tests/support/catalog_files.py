"""Helpers of the catalogue tests: the ``sgl catalog`` CLI as a subprocess, LOINC_4/5/6 files built
from the server's own exports (as a transcoding provider would), LOINC codes read back over HTTP."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from terminology.catalog.fhir import EXT_LOINC_DATES

IN_CIRCUIT = ("13978-2", "13980-8", "13981-6", "13982-4", "13983-2", "14340-4", "18718-7", "18769-0", "18928-2",
              "20453-7", "20509-6", "20570-8")
"""Valid LOINC codes of the "circuit de la biologie" stand-in that the seed catalogue does not use."""
OUTSIDE_CIRCUIT = ("99991-2", "99992-0", "99993-8")
"""Valid LOINC codes (check digit right) that are not in the circuit value set."""
DAY = "20261201"


def sgl_catalog(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``sgl catalog ARGS --data-dir DATA_DIR`` as an operator would type it."""
    sgl = Path(sys.executable).parent / "sgl"
    return subprocess.run([str(sgl), "catalog", *args, "--data-dir", str(data_dir)], capture_output=True, text=True,
                          timeout=180, check=False)


def rows_of(content: bytes) -> list[list[str]]:
    """The rows of a ``;`` CSV export (header first)."""
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def csv_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


async def export(fhir: httpx.AsyncClient, kind: str) -> list[list[str]]:
    response = await fhir.get("CodeSystem/$loinc-export", params={"file": kind})
    assert response.status_code == 200, response.text
    return rows_of(response.content)


async def transcoded(fhir: httpx.AsyncClient, export_kind: str, answers: dict[str, list[str]],
                     extra_lines: tuple[list[str], ...] = ()) -> bytes:
    """The provider's answer to an export: its lines whose first cell is in ``answers``, each followed
    by the cells given there (LOINC code, label...), in the order of ``answers``; header extended."""
    header, *lines = await export(fhir, export_kind)
    added = {"LOINC_1": ["Code LOINC chapitre", "Libellé LOINC chapitre", "Code LOINC sous-chapitre",
                         "Libellé LOINC sous-chapitre"],
             "LOINC_2": ["Code LOINC examen", "Libellé LOINC examen"],
             "LOINC_3": ["Code LOINC analyse", "Libellé LOINC analyse"]}[export_kind]
    out = [header + added]
    for key, cells in answers.items():
        local, _, sub = key.partition("/")
        matching = [line for line in lines if line[0] == local and (not sub or sub in line[2:8:5])]
        assert matching, f"{key} is not in {export_kind}"
        out.append(matching[0] + cells)
    return csv_bytes(out + list(extra_lines))


def loinc_of(resource: dict[str, Any]) -> dict[str, Any] | None:
    """The LOINC coding of an ObservationDefinition / ActivityDefinition, with its dates flattened."""
    coding = next((c for c in resource["code"]["coding"] if c["system"] == "http://loinc.org"), None)
    return None if coding is None else _flatten(coding)


def concept_loinc(code_system: dict[str, Any], local: str) -> dict[str, Any] | None:
    """The LOINC property of a concept of the catalogue CodeSystem, dates flattened."""
    def walk(concepts: list[dict[str, Any]]) -> dict[str, Any] | None:
        for concept in concepts:
            if concept["code"] == local:
                prop = next((p for p in concept.get("property", ()) if p["code"] == "loinc"), None)
                return None if prop is None else _flatten(prop["valueCoding"])
            found = walk(concept.get("concept", []))
            if found is not None:
                return found
        return None
    return walk(code_system["concept"])


def _flatten(coding: dict[str, Any]) -> dict[str, Any]:
    dates = next(e for e in coding["extension"] if e["url"] == EXT_LOINC_DATES)
    inner = {e["url"]: next(v for k, v in e.items() if k.startswith("value")) for e in dates["extension"]}
    return {"code": coding["code"], "display": coding.get("display", ""), **inner}


async def versions(fhir: httpx.AsyncClient, *refs: str) -> dict[str, str]:
    """``meta.versionId`` of each ``Type/id``."""
    out = {}
    for ref in refs:
        response = await fhir.get(ref)
        assert response.status_code == 200, response.text
        out[ref] = response.json()["meta"]["versionId"]
    return out
