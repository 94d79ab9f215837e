"""Run ``sgl dmp-simulator`` as a real process on a free loopback port, and build CR-Bio submissions.

    sim = start_dmp_simulator(tmp_path / "dmp")   # makes the test PKI there (ca, server, client)
    sim.base_url, sim.client_cert, sim.client_key, sim.ca   # what SGL_DMP_URL/CERT/KEY/CA take
    sim.documents()                               # GET /_sim/documents over mutual TLS
    sim.web_url, sim.web_calls()                  # the TD0.9 landing page (SGL_DMP_WEB_URL), the calls it got
    sim.queue_faults("registry_error", 3, code="XDSRegistryBusy")
    sim.stop()
"""

from __future__ import annotations

import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from facades.dmp import Software
from tests.support.sgl_server import free_ports, interrupt
from tests.support.waits import READY_POLL_S

SOFTWARE = Software("OpenSGL", "0.1.0", "OPENSGL-TEST", "HOMOLOG-TEST")
"""The software identity the DMP tests' client declares (its VIHF and submission headers)."""

SERVICES = "/si-dmp-server/v2/services"


@dataclass
class DmpSimulator:
    process: subprocess.Popen[bytes]
    port: int
    cert_dir: Path
    log: Path
    web_port: int = 0

    @property
    def web_url(self) -> str:
        """The web-PS TD0.9 URL (no client certificate there)."""
        return f"https://127.0.0.1:{self.web_port}/web-ps"

    @property
    def root(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return self.root + SERVICES

    @property
    def ca(self) -> Path:
        return self.cert_dir / "ca.pem"

    @property
    def client_cert(self) -> Path:
        return self.cert_dir / "client.pem"

    @property
    def client_key(self) -> Path:
        return self.cert_dir / "client-key.pem"

    def server_env(self, **more: str) -> dict[str, str]:
        """The ``SGL_DMP_*`` settings of an ``sgl serve`` that delivers to this simulator, with ``more``."""
        return {"SGL_DMP_URL": self.base_url, "SGL_DMP_CERT": str(self.client_cert),
                "SGL_DMP_KEY": str(self.client_key), "SGL_DMP_CA": str(self.ca), **more}

    def tls(self, *, with_certificate: bool = True) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.ca))
        if with_certificate:
            context.load_cert_chain(str(self.client_cert), str(self.client_key))
        return context

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(method, self.root + path, verify=self.tls(), timeout=10, **kwargs)
        response.raise_for_status()
        return response.json()

    def documents(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/_sim/documents")
        return result

    def web_calls(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/_sim/web-calls")
        return result

    def queue_faults(self, mode: str, count: int = 1, *, code: str = "XDSRegistryBusy", delay: float = 0.0) -> None:
        self._call("POST", "/_sim/faults", json={"mode": mode, "count": count, "code": code, "delay": delay})

    def reset(self) -> None:
        self._call("POST", "/_sim/reset")

    def stats(self) -> dict[str, int]:
        result: dict[str, int] = self._call("GET", "/_sim/stats")
        return result

    def stop(self) -> None:
        interrupt(self.process)


def start_dmp_simulator(cert_dir: Path, timeout: float = 60.0) -> DmpSimulator:
    port, web_port = free_ports(2)
    log = cert_dir.parent / f"dmp-simulator-{port}.log"
    sgl = Path(sys.executable).parent / "sgl"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(sgl), "dmp-simulator", "--port", str(port), "--web-port", str(web_port),
                                 "--cert-dir", str(cert_dir)], stdout=out, stderr=subprocess.STDOUT)
    sim = DmpSimulator(proc, port, cert_dir, log, web_port)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sgl dmp-simulator exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        if sim.client_key.exists():
            try:
                sim.stats()
                return sim
            except (httpx.HTTPError, ssl.SSLError, OSError):
                pass
        time.sleep(READY_POLL_S)
    sim.stop()
    raise RuntimeError(f"sgl dmp-simulator did not answer within {timeout} s:\n{log.read_text()[-3000:]}")


@contextmanager
def running_dmp_simulator(cert_dir: Path) -> Iterator[DmpSimulator]:
    """A simulator for a fixture's lifetime (stopped even when the test fails)."""
    sim = start_dmp_simulator(cert_dir)
    try:
        yield sim
    finally:
        sim.stop()


# --- CR-Bio submissions built with the project's own CDA writer (N3 + N1), as the server will send them ---

def crbio_submission(version: int = 1, *, status: str = "final", visibility: Any = None, set_id: str = "set-1",
                     ins: str = "279035121518989") -> Any:
    """A Submission of the N3 and N1 of CR-Bio ``set_id`` version ``version`` for PAT-TROIS DOMINIQUE (test INS).

    Version n > 1 replaces version n - 1 (RPLC), as a correction or a complete CR after a partial one."""
    from facades.cda import DocumentVersion, write_n1, write_n3
    from facades.dmp import Document, Kind, Submission, Visibility
    from tests.support import crbio_samples as s

    doc_id = f"{set_id}-v{version}"
    previous = f"{set_id}-v{version - 1}" if version > 1 else None
    cda_input = s.crbio_input(s.biochemistry(), status=status,
                              version=DocumentVersion(root=s.ROOT, document_id=doc_id, set_id=set_id, number=version,
                                                      replaces=previous))
    when = datetime(2024, 1, 4, 9, 30, tzinfo=UTC)
    docs = (
        Document(Kind.N3, f"{s.ROOT}^{doc_id}", write_n3(cda_input), "CR de biologie", when, when,
                 replaces=f"{s.ROOT}^{previous}" if previous else None),
        Document(Kind.N1, f"{s.ROOT}^{doc_id}-n1", write_n1(s.TINY_PDF, cda_input), "CR de biologie (PDF)", when,
                 when, replaces=f"{s.ROOT}^{previous}-n1" if previous else None),
    )
    return Submission(ins, "1.2.250.1.213.1.4.10", docs, BIOLOGIST, LAB, visibility or Visibility())


async def held(client: Any, submission: Any, sender: Any) -> dict[str, str]:
    """ITI-18 GetDocuments through ``client.get_documents`` (what the outbox asks): uniqueId -> status held."""
    return {e.unique_id: e.status for e in await client.get_documents(submission, sender)}


def _people() -> tuple[Any, Any]:
    from facades.dmp import Person, Structure

    return (Person("810001234567", "BIOLOGISTE", "Marie", profession="21", specialty="SP12"),
            Structure("3920000001", "Laboratoire des Charmes"))


BIOLOGIST, LAB = _people()
