"""The identity label: 70 x 30 mm, only for a qualified identity, the used name shown when it differs."""

from __future__ import annotations

import io
import subprocess

import pikepdf
import pytest

from facades.pdf import PdfInputError
from facades.pdf.labels import IDENTITY_LABEL_SIZE_MM, render_identity_label
from tests.support.pdf_samples import ans_test_patient


def test_label_page_is_the_label_size_and_shows_the_used_name() -> None:
    patient = ans_test_patient()
    patient["name"].append({"use": "usual", "family": "MARTIN", "given": ["Do"]})
    pdf = render_identity_label(patient)
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        assert len(doc.pages) == 1
        box = [float(v) for v in doc.pages[0].MediaBox]
    width, height = ((box[2] - box[0]) * 25.4 / 72, (box[3] - box[1]) * 25.4 / 72)
    assert (round(width), round(height)) == IDENTITY_LABEL_SIZE_MM
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True, timeout=60).stdout
    assert "Nom utilisé : MARTIN" in text.decode()


@pytest.mark.parametrize("status", ["PROV", "RECUP", "VALI"])
def test_identity_not_qualified_has_no_label(status: str) -> None:
    patient = ans_test_patient()
    for ext in patient["extension"]:
        for sub in ext.get("extension", ()):
            if sub.get("url") == "identityStatus":
                sub["valueCoding"]["code"] = status
    with pytest.raises(PdfInputError) as err:
        render_identity_label(patient)
    assert "SGL.INS.53" in err.value.diagnostics
