"""What a relying party needs to know to talk to Pro Santé Connect.

The production and the sandbox ("BAS") differ only by the discovery URL; the local simulator
(``sgl psc-simulator``) is one more discovery URL plus the CA of its test certificate.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

PRODUCTION_DISCOVERY = "https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet/.well-known/wallet-openid-configuration"
SANDBOX_DISCOVERY = "https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet/.well-known/wallet-openid-configuration"
SCOPE = "openid scope_all"
ACR = "eidas1"
"""The only authentication level PSC knows; the ID token carries it back as ``acr``."""


@dataclass(frozen=True)
class PscConfig:
    discovery_url: str
    client_id: str
    client_secret: str
    redirect_uri: str
    """Registered with PSC; the provider sends the browser back there with ``code`` and ``state``."""
    post_logout_redirect_uri: str | None = None
    ca_file: Path | None = None
    """Extra CA trusted for the provider's TLS certificate (the simulator's test CA); None: system CAs."""
    scope: str = SCOPE
    acr_values: str = ACR
    timeout: float = 10.0
    leeway: int = 30
    """Seconds of clock skew tolerated on ``exp``/``iat``/``nbf``."""

    def tls(self) -> ssl.SSLContext:
        """TLS 1.2+ client context, verifying the provider against the system CAs or ``ca_file``."""
        context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context
