"""Revocation of the operator's certificate by OCSP (SGL.MSS.06 accepts CRL or OCSP), against the simulator's
OCSP responder on loopback: the certificate names it (AIA) or the lab configures it; good, revoked, responder
down, stale answer, neither CRL nor OCSP. Every refusal happens before any mail command: the operator holds
nothing, and the reason names the rule."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from facades.mssante import MssClient, MssTlsRefused, build_message
from facades.mssante.dev_crl import write_crl
from facades.mssante.ocsp import check_ocsp, responder_urls
from facades.mssante.simulator import OcspResponder, OperatorHandle, start_operator
from tests.support.mssante import BAL, SENDER, OperatorPki, client_for, operator_pki, reissue, report_mail
from tests.support.pki import create_test_pki
from tests.support.sgl_server import free_ports

PRO = "dr.ocsp@medecin.mssante.fr"


@dataclass
class OcspOperator:
    handle: OperatorHandle
    responder: OcspResponder
    crl: Path
    cert: Path

    def client(self, ops: OperatorPki, **config: object) -> MssClient:
        return client_for(ops, self.handle.smtp_port, self.handle.imap_port, crls=(), **config)  # type: ignore[arg-type]


@pytest.fixture
async def aia(ops: OperatorPki, tmp_path: Path) -> AsyncIterator[OcspOperator]:
    """An operator whose certificate names the simulator's OCSP responder (answering from its own CRL file)."""
    (admin,) = free_ports(1)
    server = reissue(ops.pki.ca, ops.pki.server, tmp_path, "server-aia", ocsp_url=f"http://127.0.0.1:{admin}/ocsp")
    crl = write_crl(ops.pki.ca.cert, ops.pki.ca.key, tmp_path / "ocsp-crl.pem")
    responder = OcspResponder(ops.pki.ca.cert, ops.pki.ca.key, crl)
    handle = await start_operator("127.0.0.1", server.cert, server.key, ops.pki.ca.cert, bal=BAL, admin_port=admin,
                                  ocsp=responder)
    try:
        yield OcspOperator(handle, responder, crl, server.cert)
    finally:
        await handle.stop()


async def _refused(client: MssClient, operator: OperatorHandle) -> str:
    before = len(operator.boxes.messages())
    with pytest.raises(MssTlsRefused) as refused:
        await client.send(build_message(report_mail(PRO), SENDER))
    assert len(operator.boxes.messages()) == before  # nothing sent
    return refused.value.diagnostics


@pytest.mark.req("SGL.MSS.06")
async def test_good_ocsp_answer_from_the_certificates_own_responder_SGL_MSS_06(ops: OperatorPki,
                                                                               aia: OcspOperator) -> None:
    sent = await aia.client(ops).send(build_message(report_mail(PRO), SENDER))  # no CRL at all: OCSP decides
    assert sent.tls.endswith(f"OCSP good ({aia.handle.ocsp_url})")
    assert [m["messageId"] for m in aia.handle.boxes.messages(to=PRO)] == [sent.message_id]
    fetched = await aia.client(ops).fetch_receipts()  # IMAP checks it the same way
    assert isinstance(fetched, list)


@pytest.mark.req("SGL.MSS.06")
async def test_revoked_by_ocsp_is_refused_even_with_a_clean_crl_SGL_MSS_06(ops: OperatorPki,
                                                                           aia: OcspOperator) -> None:
    write_crl(ops.pki.ca.cert, ops.pki.ca.key, aia.crl, revoked=[aia.cert])  # the responder's own source
    reason = await _refused(aia.client(ops), aia.handle)
    assert "revoked" in reason and "(OCSP)" in reason and "SGL.MSS.06" in reason
    both = client_for(ops, aia.handle.smtp_port, aia.handle.imap_port)  # the configured CRL does not list it
    assert "(OCSP)" in await _refused(both, aia.handle)


@pytest.mark.req("SGL.MSS.06")
async def test_responder_down_or_stale_answer_refuses_the_session_SGL_MSS_06(ops: OperatorPki,
                                                                             aia: OcspOperator) -> None:
    (closed,) = free_ports(1)
    down = await _refused(aia.client(ops, ocsp=f"http://127.0.0.1:{closed}/ocsp"), aia.handle)
    assert "cannot be reached" in down and "revocation cannot be checked (SGL.MSS.06)" in down
    aia.responder.stale = True
    stale = await _refused(aia.client(ops), aia.handle)
    assert "out of date" in stale and "SGL.MSS.06" in stale


@pytest.mark.req("SGL.MSS.06")
async def test_configured_responder_and_neither_crl_nor_ocsp_SGL_MSS_06(ops: OperatorPki, aia: OcspOperator,
                                                                        operator: OperatorHandle) -> None:
    # the plain operator certificate names no responder: the lab's configured one answers for it
    sent = await client_for(ops, operator.smtp_port, operator.imap_port, crls=(),
                            ocsp=aia.handle.ocsp_url).send(build_message(report_mail(PRO), SENDER))
    assert "OCSP good" in sent.tls
    neither = await _refused(client_for(ops, operator.smtp_port, operator.imap_port, crls=()), operator)
    assert "no CRL configured and no OCSP responder" in neither
    assert responder_urls(x509.load_pem_x509_certificate(ops.pki.server.cert.read_bytes())) == []


@pytest.mark.req("SGL.MSS.06")
async def test_answer_signed_by_another_ca_is_refused_SGL_MSS_06(ops: OperatorPki, aia: OcspOperator,
                                                                 tmp_path: Path) -> None:
    other = create_test_pki(tmp_path / "other")
    aia.responder.ca_cert, aia.responder.ca_key = other.ca.cert, other.ca.key  # a forged responder
    reason = await _refused(aia.client(ops), aia.handle)
    assert "not signed by the operator certificate's CA" in reason or "another certificate" in reason
    # and the issuer must be among the configured CAs (a third PKI's root does not chain the operator)
    leaf = x509.load_pem_x509_certificate(aia.cert.read_bytes()).public_bytes(Encoding.DER)
    with pytest.raises(MssTlsRefused, match="not among the configured IGC-Santé CAs"):
        check_ocsp(leaf, operator_pki(tmp_path / "third").pki.ca.cert, aia.handle.ocsp_url)
