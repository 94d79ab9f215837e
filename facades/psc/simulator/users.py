"""The simulator's test professionals and the userinfo claims PSC would give for them.

Built here (not copied) in the shape of the PSC userinfo (claim names of ``kits/psc``). National
ids use the test range ``8997...`` (RPPS) and one ADELI professional (``0`` + ADELI). A site can
replace the list with ``--users FILE``: a JSON array of userinfo objects (``SubjectNameID``,
``family_name``, ``given_name``, ``SubjectRefPro``...); ``sub`` is derived when missing.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LAB = {"id": "R10000001", "name": "LABORATOIRE OPENSGL DE TEST", "finess": "990000001"}
PROFESSIONS = {"10": "Médecin", "21": "Pharmacien", "60": "Infirmier", "40": "Chirurgien-dentiste"}


@dataclass(frozen=True)
class TestUser:
    __test__ = False  # not a pytest class

    national_id: str
    claims: dict[str, Any]

    @property
    def label(self) -> str:
        professions = {e.get("codeProfession", "") for e in self.claims.get("SubjectRefPro", {}).get("exercices", [])}
        titles = ", ".join(PROFESSIONS.get(p, p) for p in sorted(professions) if p)
        return f"{self.claims.get('family_name', '')} {self.claims.get('given_name', '')} ({titles}) - " \
               f"{self.national_id}"


def _activity(mode: str, sector: str, structure: dict[str, str]) -> dict[str, str]:
    return {"codeModeExercice": mode, "codeSecteurDactivite": sector, "codeSectionPharmacien": "",
            "codeRole": "", "numeroSiretSite": "", "numeroSirenSite": "", "numeroFinessSite": structure["finess"],
            "numeroFinessetablissementJuridique": "", "identifiantTechniqueDeLaStructure": structure["id"],
            "raisonSocialeSite": structure["name"], "codePostal": "75013", "bureauCedex": "75013 PARIS",
            "codePays": "99000", "autoriteDenregistrement": "ARS"}


def professional(national_id: str, family: str, given: str, profession: str, *, category: str = "C",
                 civility: str = "DR", skill: str = "", modes: tuple[str, ...] = ("S",), origin: str = "RPPS",
                 sector: str = "SA25") -> dict[str, Any]:
    """Userinfo claims of one professional with one exercice and one activity per exercise mode."""
    activities = [_activity(mode, sector, LAB) for mode in modes]
    exercise = {"codeProfession": profession, "codeCategorieProfessionnelle": category,
                "codeCiviliteDexercice": civility, "nomDexercice": family, "prenomDexercice": given,
                "codeTypeSavoirFaire": "S" if skill else "", "codeSavoirFaire": skill, "activities": activities}
    return {
        "sub": f"f:{uuid.uuid5(uuid.NAMESPACE_URL, 'psc-sim:' + national_id)}:{national_id}",
        "SubjectNameID": national_id, "preferred_username": national_id, "family_name": family, "given_name": given,
        "email_verified": False, "Secteur_Activite": f"{sector}^1.2.250.1.71.4.2.4",
        "SubjectOrganization": LAB["name"], "SubjectOrganizationID": LAB["id"],
        "SubjectRole": [f"{profession}^1.2.250.1.213.1.1.5.5"], "PSI_Locale": "1.2.250.1.213.1.3.1.1",
        "Palier_Authentification": "APPPRIP3^1.2.250.1.213.1.5.1.1.1", "Mode_Acces_Raison": "",
        "Acces_Regulation_Medicale": "FAUX", "UITVersion": "1.0",
        "otherIds": [{"identifiant": national_id, "origine": origin, "qualite": 1}],
        "SubjectRefPro": {"codeCivilite": "M" if civility == "M" else "MME", "exercices": [exercise]},
    }


DEFAULT_USERS = (
    professional("899700200001", "BIOLAB", "CLAIRE", "21", civility="DR", modes=("S",)),
    professional("899700200002", "MEDIC", "PAUL", "10", skill="SM26", modes=("L", "S"), sector="SA07"),
    professional("899700200003", "SANSCOMPTE", "LUCIE", "21", modes=("S",)),
    professional("0699700204", "SOIGNANT", "JEANNE", "60", civility="MME", origin="ADELI", modes=("L",)),
)
"""A pharmacist biologist, a doctor (two exercise modes), a pharmacist with no account in the lab,
and a nurse known by ADELI."""


def load_users(path: Path | None) -> dict[str, TestUser]:
    raw: list[Any] = json.loads(path.read_text(encoding="utf-8")) if path else list(DEFAULT_USERS)
    users: dict[str, TestUser] = {}
    for claims in raw:
        national_id = str(claims.get("SubjectNameID") or claims.get("preferred_username") or "")
        if not national_id:
            raise ValueError(f"{path}: a test user has no SubjectNameID")
        claims = {**claims}
        claims.setdefault("sub", f"f:{uuid.uuid5(uuid.NAMESPACE_URL, 'psc-sim:' + national_id)}:{national_id}")
        users[national_id] = TestUser(national_id, claims)
    return users
