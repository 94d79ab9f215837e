"""The MLLP and ASTM listeners that ``sgl serve`` runs beside the HTTP API (port 0 disables one)."""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass, field
from typing import Any

from facades.astm import start_astm_server
from facades.hl7v2 import start_mllp_server
from resources.connections import ConnectionGate
from resources.errors import Unavailable
from server.context import AppContext
from server.inbound.hl7_dispatch import describe
from server.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Listeners:
    servers: list[Any] = field(default_factory=list)
    ports: dict[str, int] = field(default_factory=dict)

    async def stop(self) -> None:
        for server in reversed(self.servers):
            await server.stop()
        self.servers.clear()


def mllp_tls_context(settings: Settings) -> ssl.SSLContext:
    """TLS 1.2+ server context of the MLLP/TLS listener; mutual TLS when a CA is configured."""
    if settings.mllp_tls_cert is None or settings.mllp_tls_key is None:
        raise Unavailable("SGL_MLLP_TLS_PORT is set but SGL_MLLP_TLS_CERT / SGL_MLLP_TLS_KEY are not")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH,
                                         cafile=str(settings.mllp_tls_ca) if settings.mllp_tls_ca else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(settings.mllp_tls_cert), str(settings.mllp_tls_key))
    context.verify_mode = ssl.CERT_REQUIRED if settings.mllp_tls_ca else ssl.CERT_NONE
    return context
def _gate(name: str, settings: Settings) -> ConnectionGate:
    return ConnectionGate(f"{name} listener", max_total=settings.max_socket_connections,
                          max_per_address=settings.max_socket_connections_per_address)


async def start_listeners(ctx: AppContext) -> Listeners:
    settings = ctx.settings
    out = Listeners()
    if settings.mllp_port:
        mllp = await start_mllp_server(ctx.hl7, settings.host, settings.mllp_port,
                                       on_unreadable=ctx.hl7.quarantine, gate=_gate("MLLP", settings),
                                       max_message_size=settings.mllp_max_frame_bytes,
                                       idle_timeout=settings.socket_idle_timeout,
                                       frame_timeout=settings.socket_frame_timeout)
        out.servers.append(mllp)
        out.ports["mllp"] = mllp.port
        log.info("MLLP listener on %s:%s for %s", settings.host, mllp.port,
                 ", ".join(describe(ctx.hl7.routes)) or "no message type yet")
    if settings.mllp_tls_port:
        tls = await start_mllp_server(ctx.hl7, settings.host, settings.mllp_tls_port,
                                      on_unreadable=ctx.hl7.quarantine, ssl_context=mllp_tls_context(settings),
                                      gate=_gate("MLLP/TLS", settings), max_message_size=settings.mllp_max_frame_bytes,
                                      idle_timeout=settings.socket_idle_timeout,
                                      frame_timeout=settings.socket_frame_timeout)
        out.servers.append(tls)
        out.ports["mllp-tls"] = tls.port
        log.info("MLLP over TLS listener on %s:%s%s", settings.host, tls.port,
                 " (client certificate required)" if settings.mllp_tls_ca else "")
    if settings.astm_port:
        astm = await start_astm_server(ctx.astm, settings.host, settings.astm_port, on_invalid=ctx.astm.quarantine,
                                       encoding=settings.astm_charset, max_frame=settings.astm_max_frame,
                                       gate=_gate("ASTM", settings), idle_timeout=settings.socket_idle_timeout)
        out.servers.append(astm)
        out.ports["astm"] = astm.port
        log.info("ASTM listener on %s:%s", settings.host, astm.port)
    return out
