"""``sgl mssante-simulator`` as a harness sees it, and the simulator's own refusals (plain text, no certificate)."""

from __future__ import annotations

import asyncio
import base64
import smtplib
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from facades.mssante import MssClient, OperatorConfig, build_message
from facades.mssante.simulator import OperatorHandle
from tests.support.mssante import SENDER, OperatorPki, report_mail
from tests.support.sgl_server import free_ports

PRO = "dr.martin@medecin.mssante.fr"


def test_cli_serves_smtp_imap_and_the_messages_endpoint(tmp_path: Path) -> None:
    smtp_port, imap_port, admin_port = free_ports(3)
    cert_dir, bal = tmp_path / "pki", SENDER.address
    sgl = Path(sys.executable).parent / "sgl"
    cmd = [str(sgl), "mssante-simulator", "--smtp-port", str(smtp_port), "--imap-port", str(imap_port),
           "--admin-port", str(admin_port), "--cert-dir", str(cert_dir), "--bal", bal, "--unknown", "x@inconnu.fr"]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        try:
            assert proc.stdout is not None
            banner = proc.stdout.readline()  # printed once every port listens
            assert f"SMTP 127.0.0.1:{smtp_port}" in banner, banner
            for name in ("ca.pem", "server.pem", "client.pem", "client-key.pem", "crl.pem"):
                assert (cert_dir / name).is_file()
            client = MssClient(OperatorConfig("127.0.0.1", smtp_port, "127.0.0.1", imap_port, cert_dir / "client.pem",
                                              cert_dir / "client-key.pem", cert_dir / "ca.pem", (cert_dir / "crl.pem",),
                                              timeout=10))
            sent = asyncio.run(client.send(build_message(report_mail(PRO, "x@inconnu.fr"), SENDER)))
            listed = httpx.get(f"http://127.0.0.1:{admin_port}/_sim/messages", params={"to": PRO}, timeout=5).json()
            assert [m["messageId"] for m in listed] == [sent.message_id]
            assert set(listed[0]) >= {"messageId", "from", "to", "subject", "headers", "attachments", "received"}
            assert listed[0]["attachments"] == ["IHE_XDM.ZIP", "CR-BIO_PAT-TROIS_20210401_V1.pdf"]
            assert listed[0]["headers"]["X-MSS-CODECDA"] == "11502-2" and "raw" not in listed[0]
            raw = httpx.get(f"http://127.0.0.1:{admin_port}/_sim/messages", params={"to": PRO, "raw": "1"},
                            timeout=5).json()[0]["raw"]
            assert sent.message_id.encode() in base64.b64decode(raw)
            statuses = [(r.recipient, r.status) for f in asyncio.run(client.fetch_receipts()) for r in f.receipts]
            assert sorted(statuses) == [(PRO, "processed"), ("x@inconnu.fr", "failed")]
            assert httpx.get(f"http://127.0.0.1:{admin_port}/nowhere", timeout=5).status_code == 404
        finally:
            proc.terminate()
            proc.wait(timeout=10)


async def test_simulator_refuses_mail_before_starttls_and_login(ops: OperatorPki, operator: OperatorHandle) -> None:
    def plain_smtp() -> int:
        with smtplib.SMTP("127.0.0.1", operator.smtp_port, timeout=5) as smtp:
            smtp.ehlo()
            return smtp.mail("a@b.fr")[0]

    assert await asyncio.to_thread(plain_smtp) == 530
    reader, writer = await asyncio.open_connection("127.0.0.1", operator.imap_port)
    try:
        greeting = await asyncio.wait_for(reader.readline(), 5)
        assert b"STARTTLS" in greeting and b"LOGINDISABLED" in greeting
        writer.write(b"a1 LOGIN user password\r\na2 SELECT INBOX\r\n")
        answers = [await asyncio.wait_for(reader.readline(), 5) for _ in range(2)]
        assert all(line.split()[1] == b"NO" and b"STARTTLS" in line for line in answers), answers
    finally:
        writer.close()


async def test_simulator_refuses_a_client_without_certificate(ops: OperatorPki, operator: OperatorHandle) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(str(ops.pki.ca.cert))

    def anonymous() -> None:
        with smtplib.SMTP("127.0.0.1", operator.smtp_port, timeout=5) as smtp:
            smtp.starttls(context=context)
            smtp.sendmail("a@b.fr", [PRO], b"Subject: x\r\n\r\nx\r\n")

    with pytest.raises((ssl.SSLError, smtplib.SMTPException, ConnectionError)):
        await asyncio.to_thread(anonymous)
    assert operator.boxes.messages() == []
