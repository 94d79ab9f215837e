"""Start the simulated provider over HTTPS on loopback (``sgl psc-simulator``).

The TLS certificate and key come from the caller (the CLI makes a test PKI in ``--cert-dir``); the
ID-token signing key is kept as a private JWK in ``signing-key.json`` beside them (mode 0600) so
that tokens stay verifiable across restarts, and is created when missing.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from joserfc.jwk import RSAKey

from facades.psc.simulator.app import create_simulator_app
from facades.psc.simulator.provider import SimulatedProvider
from facades.psc.simulator.users import load_users

log = logging.getLogger(__name__)
SIGNING_KEY_FILE = "signing-key.json"


def signing_key(directory: Path) -> RSAKey:
    path = directory / SIGNING_KEY_FILE
    if path.exists():
        return RSAKey.import_key(json.loads(path.read_text(encoding="utf-8")))
    key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"})
    key.ensure_kid()
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(key.as_dict(private=True), out)
    return key


def run_simulator(port: int, certfile: Path, keyfile: Path, key_dir: Path, *, host: str = "127.0.0.1",
                  users_file: Path | None = None, clients: dict[str, str] | None = None,
                  code_ttl: float = 60.0) -> None:
    """Serve until interrupted; the issuer is ``https://host:port/auth/realms/esante-wallet``."""
    import uvicorn

    provider = SimulatedProvider(f"https://{host}:{port}", load_users(users_file),
                                 clients or {"opensgl-dev": "opensgl-dev-secret"}, signing_key(key_dir),
                                 code_ttl=code_ttl)
    log.info("simulated Pro Santé Connect: discovery %s/.well-known/wallet-openid-configuration", provider.issuer)
    uvicorn.run(create_simulator_app(provider), host=host, port=port, ssl_certfile=str(certfile),
                ssl_keyfile=str(keyfile), log_config=None, access_log=False)
