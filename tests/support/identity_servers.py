"""The ``sgl serve`` process the identity tests run (one API client per role on it), and the settings
that wire it to the INSi simulator and trust a partner identity domain (``TRUSTED``)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from tests.support.pki import TestPki
from tests.support.sgl_server import SglProcess

TRUSTED = "urn:oid:1.2.250.1.71.4.2.2.999"


def insi_env(pki: TestPki, url: str) -> dict[str, str]:
    return {"SGL_INSI_URL": url, "SGL_INSI_CERT": str(pki.client.cert), "SGL_INSI_KEY": str(pki.client.key),
            "SGL_INSI_CA": str(pki.ca.cert), "SGL_IDENTITY_REFERENTIAL": "true",
            "SGL_IDENTITY_TRUSTED_PARTNERS": json.dumps([TRUSTED])}


@dataclass
class Servers:
    server: SglProcess
    env: dict[str, str]
