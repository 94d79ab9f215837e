"""Who the professional is, read from the PSC userinfo claims (ANS claim names, see kits/psc).

``SubjectNameID`` is the national PS identifier ("idNat_PS"): ``8`` + the 11-digit RPPS for a
professional registered in the RPPS, ``0`` + the 9-character ADELI number otherwise; ``otherIds``
repeats it with its origin. Each *exercice* (profession + professional category, e.g. ``10`` + ``C``
for a civilian doctor) carries the *activities* with their exercise mode (``L`` liberal, ``S``
salaried, ``B`` voluntary) and the structure where the PS works.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from facades.psc.errors import PscLoginRefused


@dataclass(frozen=True)
class Activity:
    mode: str
    """codeModeExercice: L liberal, S salaried, B voluntary (TRE_R23)."""
    sector: str
    role: str
    structure_id: str
    structure_name: str
    finess_site: str
    siret_site: str


@dataclass(frozen=True)
class Exercise:
    profession: str
    """codeProfession (TRE_G15): 10 doctor, 21 pharmacist, ..."""
    category: str
    civility: str
    family_name: str
    given_name: str
    skill_type: str
    skill: str
    """codeSavoirFaire, e.g. SM26 (TRE_R38 specialty) when ``skill_type`` is S."""
    activities: tuple[Activity, ...]

    @property
    def situation(self) -> str:
        """The work situation key PSC tools use: profession + category (``10C``)."""
        return self.profession + self.category


@dataclass(frozen=True)
class PscUser:
    subject: str
    national_id: str
    rpps: str | None
    adeli: str | None
    family_name: str
    given_name: str
    exercises: tuple[Exercise, ...]
    roles: tuple[str, ...]
    sector: str
    claims: dict[str, Any]

    @property
    def professions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(e.profession for e in self.exercises))

    @property
    def exercise_modes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a.mode for e in self.exercises for a in e.activities if a.mode))


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _sequence(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _activity(raw: Any) -> Activity:
    raw = _mapping(raw)
    return Activity(_text(raw.get("codeModeExercice")), _text(raw.get("codeSecteurDactivite")),
                    _text(raw.get("codeRole")), _text(raw.get("identifiantTechniqueDeLaStructure")),
                    _text(raw.get("raisonSocialeSite")), _text(raw.get("numeroFinessSite")),
                    _text(raw.get("numeroSiretSite")))


def _exercise(raw: Any) -> Exercise:
    raw = _mapping(raw)
    activities = _sequence(raw.get("activities"))
    return Exercise(_text(raw.get("codeProfession")), _text(raw.get("codeCategorieProfessionnelle")),
                    _text(raw.get("codeCiviliteDexercice")), _text(raw.get("nomDexercice")),
                    _text(raw.get("prenomDexercice")), _text(raw.get("codeTypeSavoirFaire")),
                    _text(raw.get("codeSavoirFaire")), tuple(_activity(a) for a in activities))


def _other_id(claims: dict[str, Any], origin: str) -> str | None:
    for other in claims.get("otherIds") or ():
        if isinstance(other, dict) and _text(other.get("origine")).upper() == origin:
            value = _text(other.get("identifiant"))
            if value:
                return value
    return None


def _rpps_of(national_id: str, claims: dict[str, Any]) -> str | None:
    listed = _other_id(claims, "RPPS")
    if listed:
        return listed[1:] if len(listed) == 12 and listed.startswith("8") else listed
    if len(national_id) == 12 and national_id.startswith("8") and national_id.isdigit():
        return national_id[1:]
    return None


def _adeli_of(national_id: str, claims: dict[str, Any]) -> str | None:
    listed = _other_id(claims, "ADELI")
    if listed:
        return listed[1:] if len(listed) == 10 and listed.startswith("0") else listed
    if len(national_id) == 10 and national_id.startswith("0"):
        return national_id[1:]
    return None


def read_user(claims: dict[str, Any], *, id_token_subject: str) -> PscUser:
    """The professional of a userinfo answer; refused if it is about someone else than the ID token."""
    subject = _text(claims.get("sub"))
    if subject != id_token_subject:
        raise PscLoginRefused("the userinfo answer is about another subject than the ID token",
                              expression="userinfo.sub")
    national_id = _text(claims.get("SubjectNameID")) or _text(claims.get("preferred_username"))
    if not national_id:
        raise PscLoginRefused("the userinfo answer has no SubjectNameID (national PS identifier)",
                              expression="userinfo.SubjectNameID")
    ref_pro = _mapping(claims.get("SubjectRefPro"))
    exercises = _sequence(ref_pro.get("exercices"))
    roles = _sequence(claims.get("SubjectRole"))
    return PscUser(subject, national_id, _rpps_of(national_id, claims), _adeli_of(national_id, claims),
                   _text(claims.get("family_name")), _text(claims.get("given_name")),
                   tuple(_exercise(e) for e in exercises), tuple(_text(r) for r in roles if _text(r)),
                   _text(claims.get("Secteur_Activite")), dict(claims))
