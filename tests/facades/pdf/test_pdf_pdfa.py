"""PDF/A-1b checker: passes our rendering, and fails on each kind of non-conformance it claims to find."""

from __future__ import annotations

import base64
import io

import pikepdf
import pytest
import weasyprint
from PIL import Image

from facades.pdf.pdfa import check_pdfa1b
from facades.pdf.report import render_pdfa
from tests.support.pdf_samples import sample_view_dict

# WeasyPrint 70 opens its sRGB ICC profile without closing it; the handle is freed by the GC.
pytestmark = pytest.mark.filterwarnings("ignore:Exception ignored in.*sRGB2014.icc")


@pytest.fixture(scope="module")
def conformant() -> bytes:
    return render_pdfa(sample_view_dict())


def _edit(pdf: bytes, change, **save) -> bytes:  # type: ignore[no-untyped-def]
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        change(doc)
        out = io.BytesIO()
        doc.save(out, fix_metadata_version=False, **save)
        return out.getvalue()


def _png_data_uri(mode: str) -> str:
    buf = io.BytesIO()
    Image.new(mode, (8, 8), (0, 0, 0, 128) if mode == "RGBA" else 0).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


@pytest.mark.req("SGL.DOC.05")
def test_rendered_report_passes_every_check_SGL_DOC_05(conformant: bytes) -> None:
    assert check_pdfa1b(conformant) == []
    with pikepdf.open(io.BytesIO(conformant)) as doc:
        assert doc.pdf_version == "1.4"
        assert doc.open_metadata().pdfa_status == "1B"


def test_plain_weasyprint_pdf_is_not_pdfa() -> None:
    problems = check_pdfa1b(weasyprint.HTML(string="<p>CR</p>").write_pdf())
    assert any("pdfaid" in p or "XMP metadata" in p for p in problems)
    assert "no GTS_PDFA1 OutputIntent" in problems
    assert any(p.startswith("PDF version 1.7") for p in problems)


def test_opacity_is_reported_as_transparency() -> None:
    pdf = weasyprint.HTML(string='<p style="opacity: .5; font-family: DejaVu Sans">x</p>').write_pdf(
        pdf_variant="pdf/a-1b")
    problems = check_pdfa1b(pdf)
    assert any("ca = 0.5" in p for p in problems)
    assert any("transparency group" in p for p in problems)


def test_image_alpha_and_interpolation_are_reported() -> None:
    pdf = weasyprint.HTML(string=f'<img src="{_png_data_uri("RGBA")}">').write_pdf(pdf_variant="pdf/a-1b")
    problems = check_pdfa1b(pdf)
    assert any(p.startswith("soft mask") for p in problems)
    assert any("/Interpolate true" in p for p in problems)


def test_font_without_embedded_program_is_reported(conformant: bytes) -> None:
    def add_helvetica(doc: pikepdf.Pdf) -> None:
        font = doc.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                                                    BaseFont=pikepdf.Name.Helvetica))
        doc.pages[0].Resources.Font[pikepdf.Name("/FHelv")] = font

    problems = check_pdfa1b(_edit(conformant, add_helvetica))
    assert len(problems) == 1 and "font /Helvetica" in problems[0] and "not embedded" in problems[0]


def test_type0_descendant_without_font_file_is_reported(conformant: bytes) -> None:
    def strip_font_files(doc: pikepdf.Pdf) -> None:
        for font in doc.pages[0].Resources.Font.values():
            del font.DescendantFonts[0].FontDescriptor["/FontFile2"]

    problems = check_pdfa1b(_edit(conformant, strip_font_files))
    assert problems and all("not embedded" in p for p in problems)


def test_encryption_javascript_and_attachments_are_reported(conformant: bytes) -> None:
    encrypted = _edit(conformant, lambda doc: None, encryption=pikepdf.Encryption(owner="o", user=""))
    assert "the PDF is encrypted" in check_pdfa1b(encrypted)

    def add_js(doc: pikepdf.Pdf) -> None:
        doc.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))

    assert any("JavaScript" in p for p in check_pdfa1b(_edit(conformant, add_js)))

    def attach(doc: pikepdf.Pdf) -> None:
        doc.attachments["cda.xml"] = pikepdf.AttachedFileSpec(doc, b"<ClinicalDocument/>")

    problems = check_pdfa1b(_edit(conformant, attach))
    assert "the catalog's name tree holds embedded files" in problems


def test_claim_without_pdfa_part_1_is_reported(conformant: bytes) -> None:
    def claim_part_2(doc: pikepdf.Pdf) -> None:
        with doc.open_metadata(set_pikepdf_as_editor=False) as meta:
            meta["pdfaid:part"] = "2"

    assert "XMP pdfaid:part is '2', expected '1'" in check_pdfa1b(_edit(conformant, claim_part_2))


def test_unparseable_xmp_is_reported(conformant: bytes) -> None:
    def break_xmp(doc: pikepdf.Pdf) -> None:
        doc.Root.Metadata.write(b"<not xmp")

    problems = check_pdfa1b(_edit(conformant, break_xmp))
    assert len(problems) == 1 and problems[0].startswith("XMP metadata cannot be parsed")


def test_unreadable_bytes_are_reported_not_raised() -> None:
    problems = check_pdfa1b(b"%PDF-1.4 truncated")
    assert len(problems) == 1 and problems[0].startswith("not a readable PDF")
