"""The identity label of a qualified patient: the INS Datamatrix and the traits it encodes, in clear.

RNIV rule 32 (SGL.INS.53): paper output carrying a qualified INS carries its Datamatrix, so a label
stuck on a request form, a file or a document can be scanned back into the identity (mode ``CB``). The
symbol is built by ``facades.pdf.datamatrix`` from the Patient, as on the CR-Bio (same content, same
ECC200 encoder): only a QUAL identity has one (``ins_datamatrix_content`` answers ``None`` otherwise, and
the label is refused). Beside it the traits a reader must check against the code: birth name, birth first
names, birth date, sex, the matricule INS with its nature, and the used name when it differs.

70 x 30 mm, one page; the symbol is printed at 0.5 mm per module, which hand scanners read at 300 dpi.
Not PDF/A: a label is printed, not archived.
"""

from __future__ import annotations

import base64
import html
from typing import Any

from facades.pdf.datamatrix import ins_datamatrix_content, render_datamatrix_png
from facades.pdf.errors import PdfInputError
from facades.pdf.labels.label import french_date
from resources.ins import INS_TYPE_BY_OID, ins_identifier
from resources.patient_traits import birth_date, birth_given_names, birth_name, sex_code, used_name

IDENTITY_LABEL_SIZE_MM = (70, 30)
MODULE_MM = 0.5
MODULE_PX = 6
SEX_LABELS = {"M": "Masculin", "F": "Féminin"}


def render_identity_label(patient: dict[str, Any]) -> bytes:
    """The label of a qualified ``patient`` (FHIR Patient) as PDF bytes; ``PdfInputError`` otherwise."""
    content = ins_datamatrix_content(patient)
    if content is None:
        raise PdfInputError("only a qualified identity (QUAL) carries the INS Datamatrix (SGL.INS.53)",
                            expression="Patient.extension('identity-reliability')")
    import weasyprint  # here, not at import: see facades/pdf/report.py

    return bytes(weasyprint.HTML(string=_html(patient, content)).write_pdf())


def _html(patient: dict[str, Any], content: str) -> str:
    e = html.escape
    png = render_datamatrix_png(content, module_px=MODULE_PX)
    modules = _modules(png)
    ins = ins_identifier(patient) or {}
    nature = INS_TYPE_BY_OID.get(str(ins.get("system", "")).removeprefix("urn:oid:"), "INS")
    family = str(birth_name(patient))
    used = used_name(patient)
    used_text = f"<p>Nom utilisé : {e(used)}</p>" if used and used != family else ""
    width, height = IDENTITY_LABEL_SIZE_MM
    return f"""<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><style>
@page {{ size: {width}mm {height}mm; margin: 1.5mm; }}
body {{ margin: 0; font-family: "DejaVu Sans", sans-serif; font-size: 6pt; line-height: 1.2; display: flex; }}
img {{ width: {modules * MODULE_MM}mm; height: {modules * MODULE_MM}mm; margin-right: 2mm; flex: none; }}
p {{ margin: 0; }}
.who {{ font-weight: bold; font-size: 7pt; }}
</style></head><body>
<img src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}" alt="Datamatrix INS">
<div>
<p class="who">{e(family.upper())}</p>
<p>Prénoms de naissance : {e(" ".join(birth_given_names(patient)))}</p>
{used_text}
<p>Né(e) le {e(french_date(birth_date(patient)))} · sexe {e(SEX_LABELS.get(sex_code(patient) or "", "?"))}</p>
<p>INS : {e(str(ins.get("value", "")))} ({e(nature)})</p>
</div>
</body></html>"""


def _modules(png: bytes) -> int:
    """The symbol's width in modules, quiet zone included (the PNG's width over the module size)."""
    width = int.from_bytes(png[16:20], "big")
    return width // MODULE_PX
