"""CR-Bio PDF/A-1b rendering: real files, read back with pikepdf, pdftotext and pdftoppm (poppler-utils)."""

from __future__ import annotations

import dataclasses
import io
import logging
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pikepdf
import pytest
import weasyprint

from facades.pdf.datamatrix import decode_datamatrix_png, parse_ins_datamatrix
from facades.pdf.errors import PdfaConformanceError, PdfInputError
from facades.pdf.pdfa import check_pdfa1b
from facades.pdf.report import fr_date, fr_datetime, fr_num, pdf_filename, render_html, render_pdfa
from facades.pdf.view import PatientIdentity, ReportView
from tests.support.pdf_samples import PAT_TROIS_DATAMATRIX, ans_test_patient, sample_view_dict

pytestmark = [
    pytest.mark.filterwarnings("ignore:Exception ignored in.*sRGB2014.icc"),
    pytest.mark.skipif(not shutil.which("pdftotext") or not shutil.which("pdftoppm"),
                       reason="needs poppler-utils (pdftotext, pdftoppm)"),
]


def _render(tmp_path: Path, view: dict[str, Any] | ReportView, name: str = "cr.pdf") -> tuple[bytes, str]:
    """Render to a real file; return its bytes and its text as pdftotext reads it (one line per line)."""
    pdf = render_pdfa(view)
    path = tmp_path / name
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True,
                          timeout=30).stdout.decode("utf-8")
    return pdf, re.sub(r"[ \t]+", " ", text)


def _image_count(pdf: bytes) -> int:
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        return sum(1 for o in doc.objects if isinstance(o, pikepdf.Stream) and o.get("/Subtype") == pikepdf.Name.Image)


def _accredited(view: dict[str, Any], *indexes: int) -> dict[str, Any]:
    view["laboratory"]["cofrac_number"] = "8-1234"
    for i in indexes:
        view["chapters"][0]["sections"][0]["results"][i]["accredited"] = True
    return view


@pytest.fixture(scope="module")
def default_render(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, str, Path]:
    folder = tmp_path_factory.mktemp("crbio")
    pdf, text = _render(folder, sample_view_dict())
    return pdf, text, folder / "cr.pdf"


@pytest.mark.req("SGL.DOC.05")
def test_report_is_a_pdfa1b_file_named_ascii_SGL_DOC_05(default_render: tuple[bytes, str, Path]) -> None:
    pdf, _, path = default_render
    assert check_pdfa1b(path.read_bytes()) == []
    with pikepdf.open(path) as doc:
        assert doc.pdf_version == "1.4" and doc.open_metadata().pdfa_status == "1B"
        assert len(doc.pages) == 2
        assert "PAT-TROIS" in str(doc.docinfo.get("/Title"))
    view = ReportView.from_dict(sample_view_dict())
    assert pdf_filename(view) == "CR-BIO_PAT-TROIS_DOMINIQUE_19790328_2611250042_V1.pdf"


@pytest.mark.req("SGL.DOC.06")
@pytest.mark.req("SGL.INS.53")
def test_printed_datamatrix_scans_back_to_the_ins_content_SGL_DOC_06_SGL_INS_53(
        default_render: tuple[bytes, str, Path], tmp_path: Path) -> None:
    _, _, path = default_render
    subprocess.run(["pdftoppm", "-r", "200", "-f", "1", "-l", "1", "-gray", "-png", str(path), str(tmp_path / "p")],
                   check=True, timeout=60)
    assert _image_count(path.read_bytes()) == 1
    page1 = next(tmp_path.glob("p*.png")).read_bytes()
    assert decode_datamatrix_png(page1) == PAT_TROIS_DATAMATRIX
    assert parse_ins_datamatrix(PAT_TROIS_DATAMATRIX)["matricule"] == "279035121518989"


@pytest.mark.req("SGL.INS.51")
def test_qualified_identity_prints_strict_traits_and_matricule_with_its_nature_SGL_INS_51(
        default_render: tuple[bytes, str, Path]) -> None:
    _, text, _ = default_render
    for expected in ("Nom de naissance PAT-TROIS", "prénom de naissance DOMINIQUE", "Date de naissance 28/03/1979",
                     "Sexe Féminin", "Matricule INS 279035121518989 (NIR) [TEST]",
                     "Lieu de naissance (code) 63220", "Nom utilisé MARTIN", "Prénom utilisé DOMI"):
        assert expected in text


@pytest.mark.req("SGL.INS.37")
@pytest.mark.parametrize("status", ["PROV", "VALI"])
def test_non_qualified_identity_prints_traits_without_ins_nor_datamatrix_SGL_INS_37(
        tmp_path: Path, status: str) -> None:
    data = sample_view_dict()
    identity = PatientIdentity.from_patient(ans_test_patient(status), local_id="IPP0042")
    data["patient"] = dataclasses.asdict(identity)
    pdf, text = _render(tmp_path, data)
    assert "PAT-TROIS" in text and "28/03/1979" in text
    assert "279035121518989" not in text and "Matricule INS" not in text
    assert _image_count(pdf) == 0


@pytest.mark.req("SGL.INS.52")
def test_site_chooses_the_extra_traits_printed_SGL_INS_52(tmp_path: Path) -> None:
    data = sample_view_dict()
    data["texts"]["extra_traits"] = ["birthplace"]
    _, text = _render(tmp_path, data)
    assert "Lieu de naissance (code) 63220" in text
    assert "Nom utilisé" not in text and "IPP0042" not in text
    assert "Matricule INS 279035121518989 (NIR)" in text  # the minimum set is always printed


@pytest.mark.req("SGL.DOC.10")
def test_accredited_results_bring_cofrac_mentions_and_stars_SGL_DOC_10(tmp_path: Path) -> None:
    _, text = _render(tmp_path, _accredited(sample_view_dict(), 0, 1))
    assert "COFRAC" in text and "Accréditation n° 8-1234" in text and "www.cofrac.fr" in text
    assert "Examens de biologie médicale" in text
    assert "Hématies *" in text and "Hémoglobine *" in text and "Hématocrite *" not in text
    assert "Seuls les examens marqués d'un astérisque (*) sont couverts par l'accréditation" in text


@pytest.mark.req("SGL.DOC.10")
def test_no_accredited_result_means_no_cofrac_mention_at_all_SGL_DOC_10(tmp_path: Path) -> None:
    data = _accredited(sample_view_dict())  # the lab is accredited, but no result of this report is
    _, text = _render(tmp_path, data)
    assert "cofrac" not in text.lower() and "accrédit" not in text.lower() and "*" not in text


@pytest.mark.req("SGL.DOC.08")
def test_configured_rgpd_text_is_printed_at_the_end_SGL_DOC_08(tmp_path: Path) -> None:
    data = sample_view_dict()
    data["texts"]["rgpd"] = "Mention RGPD du site : contactez le DPO à dpo@site.example."
    _, text = _render(tmp_path, data)
    assert "Mention RGPD du site : contactez le DPO à dpo@site.example." in text
    assert text.rindex("dpo@site.example") > text.rindex("Compte rendu validé par")


@pytest.mark.req("SGL.DOC.09")
def test_autoverified_result_brings_the_configured_mention_SGL_DOC_09(
        tmp_path: Path, default_render: tuple[bytes, str, Path]) -> None:
    data = sample_view_dict()
    data["chapters"][2]["sections"][0]["results"][0]["autoverified"] = True
    data["texts"]["autoverification"] = "Résultat(s) validé(s) automatiquement, sans revue du biologiste."
    _, text = _render(tmp_path, data)
    assert "Résultat(s) validé(s) automatiquement, sans revue du biologiste." in text
    assert "validé automatiquement" in text
    assert "validé automatiquement" not in default_render[1]
    assert "validé(s) automatiquement" not in default_render[1]


@pytest.mark.req("SGL.DOC.09")
def test_report_with_no_biologist_says_it_was_validated_automatically_SGL_DOC_09(tmp_path: Path) -> None:
    data = sample_view_dict(validation={"validated_at": "2026-11-25T17:40:00+01:00"})
    _, text = _render(tmp_path, data)
    assert "Compte rendu validé automatiquement le 25/11/2026 17:40" in text


@pytest.mark.req("SGL.MSS.24")
def test_replacing_version_says_annule_et_remplace_SGL_MSS_24(
        tmp_path: Path, default_render: tuple[bytes, str, Path]) -> None:
    data = sample_view_dict(version=2, replaces={"replaced_issued_at": "2026-11-25T12:00:00+01:00",
                                                 "replaced_id": "2611250042-V1"})
    _, text = _render(tmp_path, data)
    assert "Annule et remplace le compte rendu du 25/11/2026 12:00 (réf. 2611250042-V1)" in text
    assert "version 2" in text
    assert "Annule et remplace" not in default_render[1]


def test_results_are_printed_in_french_with_flags_pages_and_context(default_render: tuple[bytes, str, Path]) -> None:
    _, text, _ = default_render
    for expected in ("Compte rendu d'examens de biologie médicale", "Laboratoire OpenSGL Auvergne",
                     "FINESS 630000000", "Dr Jean Généraliste", "Dr Anne Cardio", "HÉMATOLOGIE",
                     "Numération formule sanguine", "Hémoglobine 11,2 ↓ B g/dL 12,0 - 16,0",
                     "Potassium 5,9 ↑↑ HH mmol/L 3,5 - 5,1", "Ferritine 8 ↓↓ BB µg/L 15 - 150",
                     "TSH 2,35 mUI/L 0,27 - 4,20 2,10 (12/05/2026)", "Contrôlé sur un second prélèvement",
                     "Prélevé le", "25/11/2026 08:10", "25/11/2026 09:02", "Page 1 / 2", "Page 2 / 2",
                     "Compte rendu validé par Dr Claire Fontaine, biologiste, le 25/11/2026 17:40"):
        assert expected in text, expected
    assert text.count("PAT-TROIS DOMINIQUE – né(e) le 28/03/1979") == 2  # footer on each page


def test_view_text_is_escaped_not_interpreted() -> None:
    data = sample_view_dict()
    data["chapters"][0]["sections"][0]["results"][0]["label"] = "<b>Hématies</b>"
    html = render_html(ReportView.from_dict(data))
    assert "&lt;b&gt;Hématies&lt;/b&gt;" in html and "<b>Hématies</b>" not in html


def test_stylesheet_is_understood_by_weasyprint(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        render_pdfa(sample_view_dict())
    assert [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")] == []


def test_bad_view_is_refused_before_anything_is_rendered() -> None:
    data = sample_view_dict()
    data["chapters"][0]["sections"][0]["results"][3]["flag"] = "UP"
    with pytest.raises(PdfInputError) as err:
        render_pdfa(data)
    assert err.value.expression == ["view.chapters[0].sections[0].results[3].flag"]


def test_renderer_raises_when_its_output_is_not_pdfa(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = weasyprint.Document.write_pdf

    def without_variant(self: weasyprint.Document, *args: Any, **kwargs: Any) -> bytes:
        kwargs.pop("pdf_variant", None)
        return plain(self, *args, **kwargs)

    monkeypatch.setattr(weasyprint.Document, "write_pdf", without_variant)
    with pytest.raises(PdfaConformanceError) as err:
        render_pdfa(sample_view_dict())
    assert "no GTS_PDFA1 OutputIntent" in err.value.problems
    assert err.value.status == 500 and err.value.outcome()["issue"]


def test_french_formatting_helpers() -> None:
    assert fr_num("3.5 - 5.0") == "3,5 - 5,0" and fr_num("1.2.250") == "1,2,250"
    assert fr_datetime("2026-11-25T08:30:00+01:00") == "25/11/2026 08:30"
    assert fr_datetime("2026-11-25") == "25/11/2026" and fr_datetime(None) == ""
    assert fr_date("1979-03") == "03/1979" and fr_date("1979-00-00") == "00/00/1979" and fr_date("?") == "?"


def test_renders_in_parallel_threads_are_each_conformant() -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        pdfs = list(pool.map(lambda _: render_pdfa(sample_view_dict()), range(4)))
    assert all(check_pdfa1b(pdf) == [] for pdf in pdfs)
    assert len({len(pdf) for pdf in pdfs}) == 1
