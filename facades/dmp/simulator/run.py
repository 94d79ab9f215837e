"""Serve the simulated DMP over HTTPS on loopback, requiring a client certificate (``sgl dmp-simulator``).

The certificates come from the caller (the CLI makes a test PKI in ``--cert-dir``): the server
certificate and key, and the CA that must have issued both the client's TLS certificate and the
seal certificate signing VIHFs and submission sets.
"""

from __future__ import annotations

import logging
import ssl
from pathlib import Path

from cryptography import x509

from facades.dmp.simulator.app import SERVICES, create_app
from facades.dmp.simulator.registry import SimulatedDmp

log = logging.getLogger(__name__)


def run_simulator(port: int, certfile: Path, keyfile: Path, cafile: Path, *, host: str = "127.0.0.1") -> None:
    """Serve until interrupted; the DMP base URL is ``https://host:port/si-dmp-server/v2/services``."""
    import uvicorn

    dmp = SimulatedDmp(x509.load_pem_x509_certificate(cafile.read_bytes()))
    log.info("simulated DMP: https://%s:%s%s", host, port, SERVICES)
    uvicorn.run(create_app(dmp), host=host, port=port, ssl_certfile=str(certfile), ssl_keyfile=str(keyfile),
                ssl_ca_certs=str(cafile), ssl_cert_reqs=ssl.CERT_REQUIRED, log_config=None, access_log=False)
