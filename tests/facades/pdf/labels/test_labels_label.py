"""The specimen label: 50 x 25 mm, a Code 128 that scans back, the identity traits printed."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path
from typing import Any

import pikepdf
import pytest

from facades.pdf import PdfInputError
from facades.pdf.labels import LABEL_SIZE_MM, render_specimen_label

PATIENT: dict[str, Any] = {"name": [{"use": "official", "family": "Pat-Trois", "given": ["Dominique"]},
                                    {"use": "usual", "family": "Martin"}],
                           "birthDate": "1979-03-28", "gender": "female"}
SPECIMEN: dict[str, Any] = {"accessionIdentifier": {"value": "2600001234"},
                            "container": [{"type": {"text": "Tube sec avec gel séparateur"}}],
                            "collection": {"collectedDateTime": "2026-11-26T07:45:00+01:00"}}


def _scan(pdf: bytes, workdir: Path) -> list[str]:
    (workdir / "l.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "300", "-png", "-singlefile", str(workdir / "l.pdf"), str(workdir / "l")],
                   check=True, timeout=60)
    out = subprocess.run(["zbarimg", "-q", "--raw", str(workdir / "l.png")], capture_output=True, text=True,
                         timeout=60)
    return out.stdout.split()


def _text(pdf: bytes, workdir: Path) -> str:
    (workdir / "t.pdf").write_bytes(pdf)
    return subprocess.run(["pdftotext", str(workdir / "t.pdf"), "-"], capture_output=True, text=True, check=True,
                          timeout=60).stdout


def test_label_is_50_by_25_mm_and_its_barcode_scans_back(tmp_path: Path) -> None:
    pdf = render_specimen_label(SPECIMEN, PATIENT, ["Urée sanguine", "Créatinine"])
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        assert len(doc.pages) == 1
        box = [float(v) for v in doc.pages[0].MediaBox]
    mm = 72 / 25.4
    assert (round(box[2] / mm), round(box[3] / mm)) == LABEL_SIZE_MM
    assert _scan(pdf, tmp_path) == ["2600001234"]


def test_label_prints_identity_traits_tube_and_time(tmp_path: Path) -> None:
    text = _text(render_specimen_label(SPECIMEN, PATIENT, ["Urée sanguine"]), tmp_path)
    for expected in ("PAT-TROIS Dominique (Martin)", "28/03/1979", "sexe F", "Tube sec avec gel séparateur",
                     "26/11/2026 07:45", "Urée sanguine", "2600001234"):
        assert expected in text


@pytest.mark.parametrize(("specimen", "patient", "where"), [
    ({}, PATIENT, "Specimen.accessionIdentifier.value"),
    ({"accessionIdentifier": {"value": "26é"}}, PATIENT, "Specimen.accessionIdentifier.value"),
    (SPECIMEN, {"gender": "male"}, "Patient.name"),
])
def test_label_without_number_or_name_is_refused(specimen: dict[str, Any], patient: dict[str, Any],
                                                 where: str) -> None:
    with pytest.raises(PdfInputError) as caught:
        render_specimen_label(specimen, patient, [])
    assert caught.value.expression == [where]
