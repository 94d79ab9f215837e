"""The ``sgl serve`` processes the identity tests run, one per profile, and the settings that wire
them to the INSi simulator. The ``feed`` server acts as the identity source (role ``source-identite``),
the only caller whose qualified identities stay qualified (SGL.INS.39)."""

from __future__ import annotations

from dataclasses import dataclass

from tests.support.pki import TestPki
from tests.support.sgl_server import SglProcess


def insi_env(pki: TestPki, url: str) -> dict[str, str]:
    return {"SGL_INSI_URL": url, "SGL_INSI_CERT": str(pki.client.cert), "SGL_INSI_KEY": str(pki.client.key),
            "SGL_INSI_CA": str(pki.ca.cert), "SGL_IDENTITY_REFERENTIAL": "true"}


@dataclass
class Servers:
    desk: SglProcess
    tech: SglProcess
    superuser: SglProcess
    feed: SglProcess
    env: dict[str, str]
