"""The MSSanté TLS rules, checked against real operators on loopback (SGL.MSS.01–06).

Each bad operator is a real simulator with one thing wrong; the production client must refuse the
session before sending anything, say why, and the operator must have received nothing.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
import warnings
from collections.abc import AsyncIterator, Callable

import pytest

from facades.mssante import CIPHER_SUITES, MssTlsRefused, build_message, client_context
from facades.mssante.dev_crl import write_crl
from facades.mssante.simulator import OperatorHandle, start_operator
from facades.mssante.tls import server_context
from tests.support.mssante import BAL, SENDER, OperatorPki, client_for, days_ago, reissue, report_mail
from tests.support.pki import create_ca, issue_server_certificate

PRO = "dr.martin@medecin.mssante.fr"


@pytest.fixture
async def bad_operator(ops: OperatorPki) -> AsyncIterator[Callable[..., object]]:
    started: list[OperatorHandle] = []

    async def start(**kwargs: object) -> OperatorHandle:
        cert, key = kwargs.pop("cert", ops.pki.server.cert), kwargs.pop("key", ops.pki.server.key)
        handle = await start_operator("127.0.0.1", cert, key, ops.pki.ca.cert, bal=BAL, **kwargs)  # type: ignore[arg-type]
        started.append(handle)
        return handle

    yield start
    for handle in started:
        await handle.stop()


async def _refused(ops: OperatorPki, operator: OperatorHandle, **client: object) -> str:
    mss = client_for(ops, operator.smtp_port, operator.imap_port, **client)  # type: ignore[arg-type]
    with pytest.raises(MssTlsRefused) as refused:
        await mss.send(build_message(report_mail(PRO), SENDER))
    assert operator.boxes.messages() == []
    return refused.value.diagnostics


@pytest.mark.req("SGL.MSS.01")
async def test_conforming_operator_gets_the_mail_over_tls_1_2_SGL_MSS_01(ops: OperatorPki,
                                                                        operator: OperatorHandle) -> None:
    sent = await client_for(ops, operator.smtp_port, operator.imap_port).send(
        build_message(report_mail(PRO), SENDER))
    version, suite = sent.tls.split(" ")
    assert version == "TLSv1.2" and suite in CIPHER_SUITES.values()
    assert sent.accepted == (PRO,)
    received = operator.boxes.messages(to=PRO)
    assert [m["messageId"] for m in received] == [sent.message_id]
    assert received[0]["clientCertificate"] == "BAL-APPLICATIVE"  # the BAL's certificate was presented
    assert received[0]["authenticated"] is True  # and SASL EXTERNAL, offered by the operator, was used


@pytest.mark.req("SGL.MSS.02")
async def test_operator_speaking_tls_1_1_is_refused_SGL_MSS_02(ops: OperatorPki, bad_operator: Callable[..., object],
                                                               ) -> None:
    context = server_context(ops.pki.server.cert, ops.pki.server.key, ops.pki.ca.cert,
                             maximum=ssl.TLSVersion.TLSv1_1, ciphers="ALL:@SECLEVEL=0")
    operator = await bad_operator(context=context)  # type: ignore[operator]
    # the operator really speaks TLS 1.1 to a client that lets it
    permissive = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        permissive.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    permissive.set_ciphers("ALL:@SECLEVEL=0")
    permissive.check_hostname, permissive.verify_mode = False, ssl.CERT_NONE
    permissive.load_cert_chain(ops.pki.client.cert, ops.pki.client.key)

    def negotiated() -> str | None:
        with smtplib.SMTP("127.0.0.1", operator.smtp_port, timeout=10) as smtp:
            smtp.starttls(context=permissive)
            return smtp.sock.version() if isinstance(smtp.sock, ssl.SSLSocket) else None

    assert await asyncio.to_thread(negotiated) == "TLSv1.1"
    reason = await _refused(ops, operator)
    assert "SGL.MSS.02" in reason


@pytest.mark.req("SGL.MSS.02")
def test_client_context_allows_tls_1_2_only_SGL_MSS_02(ops: OperatorPki) -> None:
    context = client_context(ops.pki.client.cert, ops.pki.client.key, ops.pki.ca.cert, (ops.crl,))
    assert context.minimum_version == context.maximum_version == ssl.TLSVersion.TLSv1_2


@pytest.mark.req("SGL.MSS.03")
async def test_operator_with_an_unlisted_cipher_suite_is_refused_SGL_MSS_03(
        ops: OperatorPki, bad_operator: Callable[..., object]) -> None:
    # 0xC013 ECDHE-RSA-AES128-SHA: TLS 1.2 but SHA-1 CBC, not in the MSSanté list
    context = server_context(ops.pki.server.cert, ops.pki.server.key, ops.pki.ca.cert, ciphers="ECDHE-RSA-AES128-SHA")
    operator = await bad_operator(context=context)  # type: ignore[operator]
    reason = await _refused(ops, operator)
    assert "SGL.MSS.03" in reason


@pytest.mark.req("SGL.MSS.03")
def test_client_offers_exactly_the_four_suites_SGL_MSS_03(ops: OperatorPki) -> None:
    context = client_context(ops.pki.client.cert, ops.pki.client.key, ops.pki.ca.cert, (ops.crl,))
    offered = {c["name"] for c in context.get_ciphers() if c["protocol"] == "TLSv1.2"}
    assert offered == set(CIPHER_SUITES.values())
    assert {c["id"] & 0xFFFF for c in context.get_ciphers() if c["protocol"] == "TLSv1.2"} == set(CIPHER_SUITES)


@pytest.mark.req("SGL.MSS.04")
async def test_operator_certificate_from_another_ca_is_refused_SGL_MSS_04(
        ops: OperatorPki, bad_operator: Callable[..., object], tmp_path: object) -> None:
    from pathlib import Path

    other = create_ca(Path(str(tmp_path)), common_name="AC COMMERCIALE QUELCONQUE")
    stranger = issue_server_certificate(other, Path(str(tmp_path)), stem="stranger")
    operator = await bad_operator(cert=stranger.cert, key=stranger.key)  # type: ignore[operator]
    reason = await _refused(ops, operator)
    assert "SGL.MSS.04" in reason


@pytest.mark.req("SGL.MSS.05")
async def test_expired_operator_certificate_is_refused_SGL_MSS_05(
        ops: OperatorPki, bad_operator: Callable[..., object]) -> None:
    expired = reissue(ops.pki.ca, ops.pki.server, ops.directory, "expired", not_before=days_ago(60),
                      not_after=days_ago(1))
    operator = await bad_operator(cert=expired.cert, key=expired.key)  # type: ignore[operator]
    reason = await _refused(ops, operator)
    assert "expired" in reason and "SGL.MSS.05" in reason


@pytest.mark.req("SGL.MSS.06")
async def test_revoked_operator_certificate_is_refused_SGL_MSS_06(
        ops: OperatorPki, bad_operator: Callable[..., object]) -> None:
    revoked = reissue(ops.pki.ca, ops.pki.server, ops.directory, "revoked")
    crl = write_crl(ops.pki.ca.cert, ops.pki.ca.key, ops.directory / "crl-revoking.pem", revoked=[revoked.cert])
    operator = await bad_operator(cert=revoked.cert, key=revoked.key)  # type: ignore[operator]
    reason = await _refused(ops, operator, crls=(crl,))
    assert "revoked" in reason and "SGL.MSS.06" in reason


@pytest.mark.req("SGL.MSS.06")
async def test_without_a_current_crl_nothing_is_sent_SGL_MSS_06(ops: OperatorPki, operator: OperatorHandle) -> None:
    assert "SGL.MSS.06" in await _refused(ops, operator, crls=())
    stale = write_crl(ops.pki.ca.cert, ops.pki.ca.key, ops.directory / "crl-stale.pem", days=1, age_days=3)
    assert "SGL.MSS.06" in await _refused(ops, operator, crls=(stale,))


@pytest.mark.req("SGL.MSS.02")
async def test_imap_side_applies_the_same_rules_SGL_MSS_02(ops: OperatorPki,
                                                           bad_operator: Callable[..., object]) -> None:
    context = server_context(ops.pki.server.cert, ops.pki.server.key, ops.pki.ca.cert,
                             maximum=ssl.TLSVersion.TLSv1_1, ciphers="ALL:@SECLEVEL=0")
    operator = await bad_operator(context=context)  # type: ignore[operator]
    with pytest.raises(MssTlsRefused, match="SGL.MSS.02"):
        await client_for(ops, operator.smtp_port, operator.imap_port).fetch_receipts()
