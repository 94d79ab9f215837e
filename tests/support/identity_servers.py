"""The ``sgl serve`` process the identity tests run (one API client per role on it), and the settings
that wire it to the INSi simulator. Qualified identities are received through the ``source-identite``
client, the only role whose qualified status is kept (SGL.INS.39)."""

from __future__ import annotations

from dataclasses import dataclass

from tests.support.pki import TestPki
from tests.support.sgl_server import SglProcess


def insi_env(pki: TestPki, url: str) -> dict[str, str]:
    return {"SGL_INSI_URL": url, "SGL_INSI_CERT": str(pki.client.cert), "SGL_INSI_KEY": str(pki.client.key),
            "SGL_INSI_CA": str(pki.ca.cert), "SGL_IDENTITY_REFERENTIAL": "true"}


@dataclass
class Servers:
    server: SglProcess
    env: dict[str, str]
