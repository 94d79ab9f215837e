"""The CR-Bio seal (SGL.DOC.19) checked from the outside: pyHanko's validator against the test CA, pikepdf's
PDF/A checks, poppler's rendering of page 1 (the seal box drawn, the INS Datamatrix still scanning)."""

from __future__ import annotations

import io
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pikepdf
import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from PIL import Image, ImageChops
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import EmbeddedPdfSignature, validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko_certvalidator import ValidationContext

from facades.insi.dev_pki import CertifiedKey, create_ca, issue_client_certificate
from facades.pdf import check_pdfa1b, decode_datamatrix_png, render_pdfa
from facades.pdf.errors import SealConfigError
from facades.pdf.seal import BOX, current_seal, load_seal, seal_pdf
from facades.pdf.seal_config import SealConfig
from tests.support.pdf_samples import PAT_TROIS_DATAMATRIX, sample_view_dict
from tests.support.seal_pki import issue_seal_certificate

pytestmark = [
    pytest.mark.filterwarnings("ignore:Exception ignored in.*sRGB2014.icc"),
    pytest.mark.skipif(not shutil.which("pdftoppm"), reason="needs poppler-utils (pdftoppm)"),
]
LAB = "Laboratoire OpenSGL Auvergne"


@dataclass(frozen=True)
class Sealed:
    folder: Path
    ca: CertifiedKey
    seal: CertifiedKey
    plain: bytes
    sealed: bytes


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory) -> Sealed:
    folder = tmp_path_factory.mktemp("seal")
    ca = create_ca(folder)
    seal = issue_seal_certificate(ca, folder)
    plain = render_pdfa(sample_view_dict())
    return Sealed(folder, ca, seal, plain, seal_pdf(plain, load_seal(SealConfig(seal.cert, seal.key, ca.cert)), LAB))


def _trust(cert: Path) -> ValidationContext:
    return ValidationContext(trust_roots=[asn1_x509.Certificate.load(_der(cert))])


def _der(cert: Path) -> bytes:
    return x509.load_pem_x509_certificate(cert.read_bytes()).public_bytes(Encoding.DER)


def _status(pdf: bytes, trust: Path) -> tuple[EmbeddedPdfSignature, PdfSignatureStatus]:
    [signature] = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    return signature, validate_pdf_signature(signature, _trust(trust))


def _page1(pdf: bytes, folder: Path, stem: str) -> Image.Image:
    path = folder / f"{stem}.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "200", "-f", "1", "-l", "1", "-gray", "-png", str(path), str(folder / stem)],
                   check=True, timeout=60)
    [png] = folder.glob(f"{stem}*.png")
    return Image.open(png)


@pytest.mark.req("SGL.DOC.19")
def test_sealed_report_validates_against_the_test_ca_signed_by_the_seal_SGL_DOC_19(sealed: Sealed) -> None:
    signature, status = _status(sealed.sealed, sealed.ca.cert)
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert status.signing_cert.dump() == _der(sealed.seal.cert)
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES baseline, not adbe.pkcs7
    assert status.coverage.name == "ENTIRE_FILE" and status.timestamp_validity is None  # B-B: no time-stamp
    assert abs((status.signer_reported_dt - datetime.now(UTC)).total_seconds()) < 600
    assert sealed.sealed.startswith(sealed.plain)  # an incremental update: the rendered bytes are untouched
    (sealed.folder / "other").mkdir(exist_ok=True)
    other = create_ca(sealed.folder / "other")
    _, untrusted = _status(sealed.sealed, other.cert)
    assert untrusted.intact and not untrusted.trusted  # the validator does check the chain


@pytest.mark.req("SGL.DOC.19")
def test_a_byte_changed_after_sealing_is_detected_SGL_DOC_19(sealed: Sealed) -> None:
    at = sealed.sealed.index(b"WeasyPrint")
    tampered = sealed.sealed[:at] + b"X" + sealed.sealed[at + 1:]
    _, status = _status(tampered, sealed.ca.cert)
    assert not status.intact and not status.bottom_line  # the digest no longer matches: the seal is broken


@pytest.mark.req("SGL.DOC.19")
def test_sealed_report_stays_pdfa1b_with_a_visible_box_and_a_readable_datamatrix_SGL_DOC_19(sealed: Sealed
                                                                                          ) -> None:
    assert check_pdfa1b(sealed.sealed) == []
    assert sealed.sealed.startswith(b"%PDF-1.4")
    with pikepdf.open(io.BytesIO(sealed.sealed)) as pdf, pikepdf.open(io.BytesIO(sealed.plain)) as before:
        assert "/Version" not in pdf.Root and "/Extensions" not in pdf.Root
        assert pdf.Root.Metadata.read_bytes() == before.Root.Metadata.read_bytes()  # the PDF/A claim as rendered
        assert dict(pdf.trailer.Info.items()) == dict(before.trailer.Info.items())
        [widget] = [a for a in pdf.pages[0].get("/Annots", []) if a.get("/FT") == "/Sig"]
        assert [round(float(v)) for v in widget.Rect] == list(BOX) and int(widget.F) & 4  # printed
        assert list(widget.AP.keys()) == ["/N"] and "/NeedAppearances" not in pdf.Root.AcroForm  # PDF/A-1 6.5.3
        font = widget.AP.N.Resources.Font.F1.DescendantFonts[0]
        assert font.FontDescriptor.FontFile2.read_bytes()  # the box's font is embedded (a subset)...
        cid_set, widths = font.FontDescriptor.CIDSet.read_bytes(), list(font.W)
        cids = [int(widths[i]) + k for i in range(0, len(widths), 2) for k in range(len(widths[i + 1]))]
        assert all(cid_set[c // 8] & (0x80 >> (c % 8)) for c in cids)  # ...with the CIDSet PDF/A-1 wants
    page, plain = _page1(sealed.sealed, sealed.folder, "sealed"), _page1(sealed.plain, sealed.folder, "plain")
    scale = page.height / 842
    left, bottom, right, top = (int(v * scale) for v in BOX)
    box = (left, page.height - top, right, page.height - bottom)
    assert ImageChops.difference(page.crop(box), plain.crop(box)).getbbox() is not None  # the seal box is drawn
    path = sealed.folder / "page1.png"
    page.save(path)
    assert decode_datamatrix_png(path.read_bytes()) == PAT_TROIS_DATAMATRIX


@pytest.mark.req("SGL.DOC.19")
@pytest.mark.parametrize(("case", "message"), [
    ("expired", "is not valid now"),
    ("encryption", "not a signing certificate"),
    ("org-auth", "not the structure's seal"),
    ("missing", "cannot be read"),
    ("wrong-key", "does not match"),
    ("garbage", "not a PEM or DER"),
])
def test_misconfigured_seal_is_refused_with_the_reason_SGL_DOC_19(sealed: Sealed, tmp_path: Path, case: str,
                                                                  message: str) -> None:
    good = sealed.seal
    config = {
        "expired": lambda: SealConfig(*_pair(issue_seal_certificate(sealed.ca, tmp_path, valid_days=(-30, -1)))),
        "encryption": lambda: SealConfig(*_pair(issue_seal_certificate(sealed.ca, tmp_path, signing=False))),
        "org-auth": lambda: SealConfig(*_pair(issue_client_certificate(sealed.ca, tmp_path, stem="auth"))),
        "missing": lambda: SealConfig(tmp_path / "absent.pem", good.key),
        "wrong-key": lambda: SealConfig(good.cert, issue_seal_certificate(sealed.ca, tmp_path, stem="o").key),
        "garbage": lambda: SealConfig(_write(tmp_path / "g.pem", b"not a certificate"), good.key),
    }[case]()
    with pytest.raises(SealConfigError, match=message):
        load_seal(config)
    with pytest.raises(SealConfigError, match=message):
        current_seal(config)


def _pair(files: CertifiedKey) -> tuple[Path, Path]:
    return files.cert, files.key


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
