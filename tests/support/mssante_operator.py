"""``sgl mssante-simulator`` as a subprocess for end-to-end tests, and the ``SGL_MSS_*`` environment to reach it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.sgl_server import free_ports
from tests.support.waits import READY_POLL_S


@dataclass
class OperatorProcess:
    proc: subprocess.Popen[str]
    smtp_port: int
    imap_port: int
    admin_port: int
    cert_dir: Path
    bal: str

    def env(self, **more: str) -> dict[str, str]:
        d = self.cert_dir
        return {"SGL_MSS_SMTP": f"127.0.0.1:{self.smtp_port}", "SGL_MSS_IMAP": f"127.0.0.1:{self.imap_port}",
                "SGL_MSS_CERT": str(d / "client.pem"), "SGL_MSS_KEY": str(d / "client-key.pem"),
                "SGL_MSS_CA": str(d / "ca.pem"), "SGL_MSS_CRL": json.dumps([str(d / "crl.pem")]),
                "SGL_MSS_FROM": self.bal, **more}

    def messages(self, to: str | None = None, *, raw: bool = False) -> list[dict[str, Any]]:
        params = {**({"to": to} if to else {}), **({"raw": "1"} if raw else {})}
        answer = httpx.get(f"http://127.0.0.1:{self.admin_port}/_sim/messages", params=params, timeout=10)
        answer.raise_for_status()
        return list(answer.json())

    def admin(self, path: str, **params: str) -> Any:
        """``GET /_sim/<path>`` with these parameters (the simulator's knobs: ``delay``, ``ocsp``)."""
        answer = httpx.get(f"http://127.0.0.1:{self.admin_port}/_sim/{path}", params=params, timeout=10)
        answer.raise_for_status()
        return answer.json()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


def start_operator_process(cert_dir: Path, bal: str, *, unknown: tuple[str, ...] = (),
                           integration_error: tuple[str, ...] = (), timeout: float = 60.0) -> OperatorProcess:
    smtp_port, imap_port, admin_port = free_ports(3)
    cmd = [str(Path(sys.executable).parent / "sgl"), "mssante-simulator", "--smtp-port", str(smtp_port),
           "--imap-port", str(imap_port), "--admin-port", str(admin_port), "--cert-dir", str(cert_dir), "--bal", bal]
    for address in unknown:
        cmd += ["--unknown", address]
    for address in integration_error:
        cmd += ["--integration-error", address]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    handle = OperatorProcess(proc, smtp_port, imap_port, admin_port, cert_dir, bal)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sgl mssante-simulator exited with {proc.returncode}")
        try:
            handle.messages()
            return handle
        except httpx.HTTPError:
            time.sleep(READY_POLL_S)
    handle.stop()
    raise RuntimeError("sgl mssante-simulator did not start")
