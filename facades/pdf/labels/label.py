"""One specimen label (50 x 25 mm, the common tube-label size): barcode, identity, tube, time.

The barcode is Code 128 of ``Specimen.accessionIdentifier.value``, the number analyzers read and
send back with their results. A ten-digit number uses code set C (two digits a symbol), so it
fits at 0.30 mm modules, wide enough for hand scanners and for a 300 dpi label printer. The human
text follows the identitovigilance rule for anything stuck on a sample: birth name, first birth
first name, birth date, sex (and the used name when it differs), never an INS on its own.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from typing import Any

from facades.pdf.errors import PdfInputError
from resources.patient_traits import birth_date, birth_name, first_birth_given_name, sex_code, used_name

LABEL_SIZE_MM = (50, 25)
MODULE_MM = 0.30
BAR_HEIGHT_MM = 8.0
QUIET_ZONE_MM = 2.5
"""Code 128 asks for ten modules of quiet zone; 2.5 mm is a little less than 10 x 0.30 mm and scans."""
MAX_EXAM_TEXT = 60


def render_specimen_label(specimen: dict[str, Any], patient: dict[str, Any], exam_labels: Sequence[str]) -> bytes:
    """The label of ``specimen`` (FHIR Specimen) for ``patient`` (FHIR Patient) as PDF bytes."""
    accession = (specimen.get("accessionIdentifier") or {}).get("value")
    if not accession:
        raise PdfInputError("the Specimen has no accession number to print",
                            expression="Specimen.accessionIdentifier.value")
    if not all(32 <= ord(c) < 127 for c in accession):
        raise PdfInputError(f"accession number {accession!r} is not printable ASCII (Code 128 B/C)",
                            expression="Specimen.accessionIdentifier.value")
    family, given = birth_name(patient) or used_name(patient), first_birth_given_name(patient)
    if not family:
        raise PdfInputError("the Patient has no name to print on the label", expression="Patient.name")
    page = _html(accession, specimen, patient, family, given or "", exam_labels)
    import weasyprint  # here, not at import: see facades/pdf/report.py

    return bytes(weasyprint.HTML(string=page).write_pdf())


def _barcode_svg(value: str) -> str:
    from barcode import Code128
    from barcode.writer import SVGWriter

    out = io.BytesIO()
    Code128(value, writer=SVGWriter()).write(out, {"module_width": MODULE_MM, "module_height": BAR_HEIGHT_MM,
                                                   "quiet_zone": QUIET_ZONE_MM, "write_text": False,
                                                   "margin_top": 0, "margin_bottom": 0})
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def french_date(value: str | None) -> str:
    """``1979-03-28`` -> ``28/03/1979`` (RNIPP ``00`` parts printed as they are)."""
    if not value or len(value) < 10:
        return value or "?"
    return f"{value[8:10]}/{value[5:7]}/{value[0:4]}"


def _collection(specimen: dict[str, Any]) -> str:
    moment = str((specimen.get("collection") or {}).get("collectedDateTime") or "")
    if len(moment) < 16:
        return "prélèvement : —"
    return f"prélevé le {french_date(moment)} {moment[11:16]}"


def _text(concept: dict[str, Any] | None) -> str:
    concept = concept or {}
    return str(concept.get("text") or next((c.get("display") or c.get("code") for c in concept.get("coding", [])), ""))


def _html(accession: str, specimen: dict[str, Any], patient: dict[str, Any], family: str, given: str,
          exam_labels: Sequence[str]) -> str:
    e = html.escape
    used = used_name(patient)
    used_text = f" ({e(used)})" if used and used != family else ""
    container = _text(((specimen.get("container") or [{}])[0]).get("type"))
    exams = ", ".join(exam_labels)
    if len(exams) > MAX_EXAM_TEXT:
        exams = exams[:MAX_EXAM_TEXT - 1] + "…"
    width, height = LABEL_SIZE_MM
    return f"""<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><style>
@page {{ size: {width}mm {height}mm; margin: 1mm 1.5mm; }}
body {{ margin: 0; font-family: "DejaVu Sans", sans-serif; font-size: 5.6pt; line-height: 1.15; }}
.who {{ font-weight: bold; font-size: 6.4pt; white-space: nowrap; overflow: hidden; }}
.bar {{ display: block; height: {BAR_HEIGHT_MM}mm; margin: 0.6mm 0 0.2mm 0; }}
.num {{ font-family: "DejaVu Sans Mono", monospace; font-size: 7pt; font-weight: bold; }}
p {{ margin: 0; white-space: nowrap; overflow: hidden; }}
</style></head><body>
<p class="who">{e(family.upper())} {e(given)}{used_text}</p>
<p>né(e) le {e(french_date(birth_date(patient)))} · sexe {e(sex_code(patient) or "?")}</p>
<img class="bar" src="{_barcode_svg(accession)}" alt="{e(accession)}">
<p><span class="num">{e(accession)}</span> · {e(container)}</p>
<p>{e(_collection(specimen))}</p>
<p>{e(exams)}</p>
</body></html>"""
