"""Serve the simulated DMP over HTTPS on loopback (``sgl dmp-simulator``): the services on one port requiring
a client certificate, the web portal for professionals (TD0.9 landing page) on another without one, as a
browser reaches it.

The certificates come from the caller (the CLI makes a test PKI in ``--cert-dir``): the server
certificate and key, and the CA that must have issued both the client's TLS certificate and the
seal certificate signing VIHFs and submission sets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import ssl
from collections.abc import Iterator
from pathlib import Path

import uvicorn
from cryptography import x509

from facades.dmp.simulator.app import SERVICES, create_app
from facades.dmp.simulator.registry import SimulatedDmp
from facades.dmp.simulator.web import WEB_PATH, WebCalls, create_web_app

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    """A server that leaves the signals to :func:`run_simulator`: two servers share one process, and one
    SIGINT/SIGTERM stops both."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def run_simulator(port: int, certfile: Path, keyfile: Path, cafile: Path, *, host: str = "127.0.0.1",
                  web_port: int = 0) -> None:
    """Serve until interrupted; the DMP base URL is ``https://host:port/si-dmp-server/v2/services``, the
    web-PS TD0.9 URL ``https://host:web_port/web-ps`` (no web port when ``web_port`` is 0)."""
    ca = x509.load_pem_x509_certificate(cafile.read_bytes())
    calls = WebCalls()
    servers = [_Server(uvicorn.Config(create_app(SimulatedDmp(ca), calls), host=host, port=port,
                                      ssl_certfile=str(certfile), ssl_keyfile=str(keyfile), ssl_ca_certs=str(cafile),
                                      ssl_cert_reqs=ssl.CERT_REQUIRED, log_config=None, access_log=False))]
    log.info("simulated DMP: https://%s:%s%s", host, port, SERVICES)
    if web_port:
        servers.append(_Server(uvicorn.Config(create_web_app(ca, calls), host=host, port=web_port,
                                              ssl_certfile=str(certfile), ssl_keyfile=str(keyfile), log_config=None,
                                              access_log=False)))
        log.info("simulated DMP web-PS (TD0.9): https://%s:%s%s", host, web_port, WEB_PATH)

    def stop() -> None:
        for server in servers:
            server.should_exit = True

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop)
        await asyncio.gather(*(server.serve() for server in servers))

    asyncio.run(serve())
