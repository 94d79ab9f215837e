"""The CR-Bio seal through a real ``sgl serve`` (SGL.DOC.19): with ``SGL_CRBIO_SEAL_*`` set, the PDF served by
``$cr-bio`` and the one inside the N1 are the same sealed file, valid against the test CA; a certificate that
cannot seal stops the start-up, and one that expires (files replaced) after it fails the job: no document."""

from __future__ import annotations

import base64
import io
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from facades.insi.dev_pki import CertifiedKey, create_ca
from facades.pdf import check_pdfa1b
from facades.pdf.errors import SealConfigError
from server.documents.service import seal_config
from server.settings import Settings
from tests.support.dedicated_lab import dedicated_lab
from tests.support.documents_wait import crbio, documents_status, wait_for_documents
from tests.support.dossiers import patient
from tests.support.seal_pki import issue_seal_certificate
from tests.support.sgl_server import start_sgl
from tests.support.validation_lab import Lab, parameters
from tests.support.worklist import worklist

pytestmark = pytest.mark.filterwarnings("ignore:Exception ignored in.*sRGB2014.icc")
HL7 = "{urn:hl7-org:v3}"


def _der(cert: Path) -> bytes:
    return x509.load_pem_x509_certificate(cert.read_bytes()).public_bytes(Encoding.DER)


def _env(seal: CertifiedKey, ca: CertifiedKey) -> dict[str, str]:
    return {"SGL_CRBIO_SEAL_CERT": str(seal.cert), "SGL_CRBIO_SEAL_KEY": str(seal.key),
            "SGL_CRBIO_SEAL_CHAIN": str(ca.cert)}


@pytest.fixture(scope="module")
async def sealing(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Lab, Path, CertifiedKey,
                                                                                   CertifiedKey]]:
    folder = tmp_path_factory.mktemp("seal-e2e")
    ca = create_ca(folder)
    seal = issue_seal_certificate(ca, folder)
    async with dedicated_lab(folder / "var", _env(seal, ca)) as lab:
        yield lab, folder, ca, seal


async def _validated_report(lab: Lab, value: float) -> str:
    pid = await patient(lab)
    [order] = await lab.order(pid)
    rid = await lab.result(pid, order, "NA", value)
    assert (await lab.validate(rid)).status_code == 200
    report = await lab.report_of(rid)
    answer = await lab.client.post(f"DiagnosticReport/{report['id']}/$validate-biological", json=parameters())
    assert answer.status_code == 200, answer.text
    return str(report["id"])


@pytest.mark.req("SGL.DOC.19")
async def test_served_pdf_and_the_n1_s_pdf_carry_the_lab_seal_SGL_DOC_19(
        sealing: tuple[Lab, Path, CertifiedKey, CertifiedKey]) -> None:
    lab, _, ca, seal = sealing
    report_id = await _validated_report(lab, 139)
    pdf = (await crbio(lab.client, report_id)).content
    [signature] = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    status = await async_validate_pdf_signature(signature, ValidationContext(
        trust_roots=[asn1_x509.Certificate.load(_der(ca.cert))]))
    assert status.bottom_line and status.coverage.name == "ENTIRE_FILE", status.pretty_print_details()
    assert status.signing_cert.dump() == _der(seal.cert)
    assert check_pdfa1b(pdf) == []
    n1 = (await lab.client.get(f"DiagnosticReport/{report_id}/$cr-bio", params={"format": "n1"})).content
    [text] = etree.fromstring(n1).iter(f"{HL7}text")
    assert text.get("mediaType") == "application/pdf"
    assert base64.b64decode("".join(text.itertext())) == pdf  # the N1 embeds the sealed file itself


@pytest.mark.req("SGL.DOC.19")
async def test_certificate_expired_after_start_fails_the_job_and_stores_nothing_SGL_DOC_19(
        sealing: tuple[Lab, Path, CertifiedKey, CertifiedKey]) -> None:
    lab, folder, ca, seal = sealing
    expired = issue_seal_certificate(ca, folder, stem="expired", valid_days=(-30, -1))
    shutil.copyfile(expired.cert, seal.cert)  # the files renewed wrongly while the server runs
    shutil.copyfile(expired.key, seal.key)
    report_id = await _validated_report(lab, 141)
    after = await wait_for_documents(lab.client, report_id, expect="failed")
    assert "is not valid now" in documents_status(after)["reason"]
    assert "presentedForm" not in after
    [task] = await worklist(lab.client, "document-production-failed", f"DiagnosticReport/{report_id}")
    assert "SGL.DOC.19" in task["description"]
    assert (await lab.client.get(f"DiagnosticReport/{report_id}/$cr-bio")).status_code == 422


@pytest.mark.req("SGL.DOC.19")
def test_a_certificate_that_cannot_seal_stops_the_start_up_SGL_DOC_19(tmp_path: Path) -> None:
    ca = create_ca(tmp_path)
    signing_off = issue_seal_certificate(ca, tmp_path, signing=False)
    with pytest.raises(RuntimeError, match="not a signing certificate"):
        start_sgl(tmp_path / "var", env=_env(signing_off, ca), timeout=60).stop()


@pytest.mark.req("SGL.DOC.19")
def test_seal_setting_unset_seals_nothing_and_a_half_setting_is_refused_SGL_DOC_19(tmp_path: Path) -> None:
    assert seal_config(Settings(data_dir=tmp_path)) is None  # as before SGL.DOC.19: no seal
    with pytest.raises(SealConfigError, match="go together"):
        seal_config(Settings(data_dir=tmp_path, crbio_seal_cert=tmp_path / "seal.pem"))
    ca = create_ca(tmp_path)
    seal = issue_seal_certificate(ca, tmp_path)
    der_chain = tmp_path / "chain.der"
    der_chain.write_bytes(_der(ca.cert))  # a chain given as one DER certificate is accepted too
    config = seal_config(Settings(data_dir=tmp_path, crbio_seal_cert=seal.cert, crbio_seal_key=seal.key,
                                  crbio_seal_chain=der_chain))
    assert config is not None and config.chain == der_chain
