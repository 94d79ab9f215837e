"""The site's identitovigilance settings, read once: test OIDs, referential mode and the list of
justificatifs with their trust level (SGL.INS.18-19). Trusted identity emitters (SGL.INS.39) are not a
setting: they are the socket partners registered as ``source-identite`` (server/partners)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from resources.errors import InvalidInput
from server.settings import Settings

Trust = Literal["high", "low"]

JUSTIFICATIFS: dict[str, tuple[str, Trust]] = {
    "CN": ("Carte nationale d'identité", "high"),
    "PA": ("Passeport", "high"),
    "CS": ("Titre de séjour", "high"),
    "CE": ("Carte d'identité européenne", "high"),
    "IE": ("Identification électronique eIDAS (substantiel ou élevé)", "high"),
    "AN": ("Extrait d'acte de naissance", "low"),
    "LE": ("Livret de famille", "low"),
    "PC": ("Permis de conduire", "low"),
    "CM": ("Carte militaire", "low"),
    "CC": ("Carnet de circulation", "low"),
    "DC": ("Document de circulation pour mineur étranger", "low"),
    "AC": ("Acte de naissance et carte Vitale avec photo", "low"),
    "TC": ("Tiers de confiance", "low"),
}
"""Default list (FR Core validation modes, PAM-FR ZFD-7). The RNIV counts only official identity
documents with a photo and eIDAS substantial/high as high trust; a driving licence is not one."""


@dataclass(frozen=True)
class Justificatif:
    code: str
    label: str
    trust: Trust


@dataclass(frozen=True)
class IdentityPolicy:
    test_mode: bool
    referential: bool
    justificatifs: dict[str, Justificatif]

    @classmethod
    def from_settings(cls, settings: Settings) -> IdentityPolicy:
        table = {code: Justificatif(code, label, trust) for code, (label, trust) in JUSTIFICATIFS.items()}
        for code, trust in settings.identity_justificatifs.items():
            if trust not in ("high", "low"):
                raise InvalidInput(f"justificatif {code}: trust must be high or low, not {trust!r}",
                                   expression="SGL_IDENTITY_JUSTIFICATIFS")
            label = table[code].label if code in table else code
            table[code] = Justificatif(code, label, "high" if trust == "high" else "low")
        return cls(settings.test_mode, settings.identity_referential, table)

    def justificatif(self, code: str) -> Justificatif:
        found = self.justificatifs.get(code.upper())
        if found is None:
            known = ", ".join(sorted(self.justificatifs))
            raise InvalidInput(f"unknown justificatif {code!r}; the site list has {known}",
                               expression="Parameters.parameter('justificatif')")
        return found
