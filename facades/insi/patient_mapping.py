"""INSi identity <-> FR Core Patient strict traits (SGL.INS.13), as pure functions on JSON dicts.

:func:`patient_traits` gives the fields the server writes onto the Patient once an answer has
passed :func:`facades.insi.import_rules.check_importable`: the INS identifier (and the INSi
history as ``old`` identifiers), the official name (birth name, first birth first name, the
whole list in the FR Core ``birth-list-given-name`` extension), gender, birth date and birthplace.
:func:`stored_identity` reads them back, for a verification call.
"""

from __future__ import annotations

from typing import Any

from facades.insi.model import Identity, Ins, Traits, TraitsQuery
from resources.errors import InvalidInput
from resources.ins import ins_identifier, ins_identifier_for

BIRTH_LIST_GIVEN_NAME_URL = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-birth-list-given-name"
BIRTH_PLACE_URL = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"
INSEE_CODE_URL = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code"
COMMUNE_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_R13-CommuneOM/FHIR/TRE-R13-CommuneOM"
COUNTRY_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_R20-Pays/FHIR/TRE-R20-Pays"
_GENDER = {"M": "male", "F": "female"}
_SEX = {v: k for k, v in _GENDER.items()}


def _birthplace(cog: str) -> dict[str, Any]:
    """COG code of the birth commune, or ``99xxx`` country code for a birth abroad."""
    system = COUNTRY_SYSTEM if cog.startswith("99") else COMMUNE_SYSTEM
    return {
        "url": BIRTH_PLACE_URL,
        "valueAddress": {"extension": [{"url": INSEE_CODE_URL, "valueCoding": {"system": system, "code": cog}}]},
    }


def patient_traits(identity: Identity) -> dict[str, Any]:
    """The Patient fields filled from the INSi answer (identifier, name, gender, birthDate, birthPlace)."""
    t = identity.traits
    official: dict[str, Any] = {"use": "official", "family": t.birth_name, "given": [t.first_first_name]}
    if t.first_names:
        official["extension"] = [{"url": BIRTH_LIST_GIVEN_NAME_URL, "valueString": t.first_names}]
    identifiers = [ins_identifier_for(identity.active.matricule, identity.active.oid)]
    for old in identity.history:
        if old.matricule != identity.active.matricule:
            identifiers.append({**ins_identifier_for(old.matricule, old.oid), "use": "old"})
    out: dict[str, Any] = {
        "identifier": identifiers,
        "name": [official],
        "gender": _GENDER.get(t.sex, "unknown"),
        "birthDate": t.birth_date,
    }
    if t.birthplace:
        out["extension"] = [_birthplace(t.birthplace)]
    return out


def _official_name(patient: dict[str, Any]) -> dict[str, Any]:
    for name in patient.get("name", []):
        if name.get("use") == "official":
            return dict(name)
    raise InvalidInput("the Patient has no official (birth) name", expression="Patient.name.where(use='official')")


def _stored_birthplace(patient: dict[str, Any]) -> str:
    for ext in patient.get("extension", []):
        if ext.get("url") == BIRTH_PLACE_URL:
            for sub in (ext.get("valueAddress") or {}).get("extension", []):
                if sub.get("url") == INSEE_CODE_URL:
                    return str((sub.get("valueCoding") or {}).get("code", ""))
    return ""


def stored_identity(patient: dict[str, Any]) -> Identity:
    """The INS and strict traits stored on a Patient, in INSi terms, to verify them."""
    ident = ins_identifier(patient)
    if ident is None:
        raise InvalidInput("the Patient has no INS to verify", expression="Patient.identifier")
    system = str(ident.get("system", ""))
    value = str(ident.get("value", ""))
    name = _official_name(patient)
    first_names = next(
        (str(e.get("valueString", "")) for e in name.get("extension", []) if e.get("url") == BIRTH_LIST_GIVEN_NAME_URL),
        " ".join(name.get("given", [])),
    )
    traits = Traits(
        birth_name=str(name.get("family", "")),
        first_name=(name.get("given") or [""])[0],
        first_names=first_names,
        sex=_SEX.get(str(patient.get("gender", "")), ""),
        birth_date=str(patient.get("birthDate", "")),
        birthplace=_stored_birthplace(patient),
    )
    active = Ins(number=value[:13], key=value[13:], oid=system.removeprefix("urn:oid:"))
    return Identity(active=active, traits=traits)


def verification_query(identity: Identity) -> TraitsQuery:
    """The traits search a verification sends: birth name, first birth first name, sex, date, place."""
    t = identity.traits
    return TraitsQuery(
        birth_name=t.birth_name,
        first_names=(t.first_first_name,),
        sex=t.sex,
        birth_date=t.birth_date,
        birthplace=t.birthplace or None,
    )
