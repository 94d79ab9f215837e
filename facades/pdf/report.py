"""Render a ``ReportView`` as a CR-Bio PDF/A-1b (WeasyPrint), and refuse our own non-conformant output.

The HTML comes from ``templates/crbio.html`` + ``crbio.css`` (Jinja2, auto-escaped). WeasyPrint's
``pdf/a-1b`` variant writes the XMP ``pdfaid`` claim, the sRGB output intent and PDF 1.4; the claim
is not proof, so every render is checked by ``check_pdfa1b`` before it is returned.

WeasyPrint is imported by the functions that render, not by this module: its import (Pango, fontconfig,
fontTools, its user-agent stylesheets) was a quarter of ``sgl serve``'s start-up, and the HTTP process only
needs it in the document pool's workers and for a label or a preview (see README "Start-up").
"""

from __future__ import annotations

import base64
import functools
import re
import threading
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import jinja2

from facades.pdf.datamatrix import render_datamatrix_png
from facades.pdf.errors import PdfaConformanceError
from facades.pdf.pdfa import check_pdfa1b
from facades.pdf.view import ReportView

if TYPE_CHECKING:
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

TEMPLATES = Path(__file__).parent / "templates"
SEX_LABELS = {"M": "Masculin", "F": "Féminin", "I": "Indéterminé"}
FLAG_LABELS = {"H": "↑ H", "HH": "↑↑ HH", "L": "↓ B", "LL": "↓↓ BB", "A": "A"}
DATAMATRIX_MODULE_PX = 4
_ISO = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?(?:T(\d{2}):(\d{2}))?")
_DECIMAL_POINT = re.compile(r"(?<=\d)\.(?=\d)")


def fr_date(value: str | None) -> str:
    """``1979-03-28`` -> ``28/03/1979``, ``1979-03`` -> ``03/1979`` (``00`` parts kept); other text as is."""
    m = _ISO.match(value or "")
    return "/".join(p for p in (m[3], m[2], m[1]) if p) if m else (value or "")


def fr_datetime(value: str | None) -> str:
    """``2026-11-25T08:30:00+01:00`` -> ``25/11/2026 08:30``, the time as written."""
    m = _ISO.match(value or "")
    return fr_date(value) + (f" {m[4]}:{m[5]}" if m and m[4] else "")


def fr_num(value: str | None) -> str:
    """French decimal comma in numbers: ``3.5 - 5.0`` -> ``3,5 - 5,0``."""
    return _DECIMAL_POINT.sub(",", value or "")


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(fr_date=fr_date, fr_datetime=fr_datetime, fr_num=fr_num, flag=FLAG_LABELS.__getitem__)
    return env


_per_thread = threading.local()


def _font_config() -> FontConfiguration:
    """One font configuration per thread: WeasyPrint's Pango/fontconfig state is not shared safely."""
    if not hasattr(_per_thread, "font_config"):
        from weasyprint.text.fonts import FontConfiguration

        _per_thread.font_config = FontConfiguration()
    return cast("FontConfiguration", _per_thread.font_config)


@functools.lru_cache(maxsize=1)
def _stylesheet() -> str:
    return (TEMPLATES / "crbio.css").read_text(encoding="utf-8")


def _parsed_stylesheet() -> weasyprint.CSS:
    """The report stylesheet parsed once per thread (with that thread's fonts): parsing it again for
    every report cost about a tenth of a CR-Bio's render (bench/documents.py)."""
    if not hasattr(_per_thread, "stylesheet"):
        import weasyprint

        _per_thread.stylesheet = weasyprint.CSS(string=_stylesheet(), base_url=str(TEMPLATES),
                                                font_config=_font_config())
    return cast("weasyprint.CSS", _per_thread.stylesheet)


def warm_renderer() -> None:
    """Load fonts (fontconfig) and parse the report stylesheet now, on a one-line page: a process that will
    render reports (the document pool) pays that at start-up instead of in its first report."""
    import weasyprint

    page = weasyprint.HTML(string="<p>CR-Bio</p>", base_url=str(TEMPLATES))
    page.write_pdf(font_config=_font_config(), stylesheets=[_parsed_stylesheet()])


def render_html(view: ReportView, *, inline_css: bool = True) -> str:
    """The report as one self-contained HTML page (CSS and Datamatrix inlined); without ``inline_css``
    the page has no CSS of its own (the PDF render gives it the pre-parsed stylesheet)."""
    env = _environment()
    patient = view.patient
    datamatrix_uri = ""
    if patient.datamatrix:
        png = render_datamatrix_png(patient.datamatrix, module_px=DATAMATRIX_MODULE_PX)
        datamatrix_uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    context: dict[str, Any] = {
        "v": view,
        "p": patient,
        "css": _stylesheet() if inline_css else "",
        "datamatrix_uri": datamatrix_uri,
        "sex_label": SEX_LABELS.get(patient.sex, "Non renseigné"),
        "extra": set(view.texts.extra_traits),
        "flags_used": any(r.flag for r in view.results),
    }
    return env.get_template("crbio.html").render(context)


def render_pdfa(view: ReportView | dict[str, Any]) -> bytes:
    """The CR-Bio as PDF/A-1b bytes; raises ``PdfaConformanceError`` if the output fails the checks."""
    if not isinstance(view, ReportView):
        view = ReportView.from_dict(view)
    import weasyprint

    html = weasyprint.HTML(string=render_html(view, inline_css=False), base_url=str(TEMPLATES))
    pdf = html.write_pdf(pdf_variant="pdf/a-1b", font_config=_font_config(), stylesheets=[_parsed_stylesheet()])
    problems = check_pdfa1b(pdf)
    if problems:
        raise PdfaConformanceError(problems)
    return bytes(pdf)


def _file_token(value: str) -> str:
    plain = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9]+", "-", plain).strip("-").upper()


def pdf_filename(view: ReportView) -> str:
    """``CR-BIO_<NOM>_<PRENOM>_<YYYYMMDD>_<dossier>_V<n>.pdf``, ASCII letters, digits, ``-`` and ``_``.

    A project convention: the MSSanté ECO 2.1.5 / 2.1.6 naming text is not in our reference material.
    """
    born = (view.patient.birth_date or "").replace("-", "")
    parts = ["CR-BIO", _file_token(view.patient.birth_name), _file_token(view.patient.first_birth_given_name),
             born, _file_token(view.report_id), f"V{view.version}"]
    return "_".join(p for p in parts if p) + ".pdf"
