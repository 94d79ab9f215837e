"""Read the RNIV identity traits of a FHIR Patient (plain JSON dict), the FR Core way.

The PDF, CDA and HL7 writers, the INSi and PAM-FR readers and the identity rules all read and write
the same traits, so the conventions live here, once:

- birth name: ``name`` with ``use = official``, its ``family``; its ``given[0]`` is the first
  birth first name (FR Core);
- the full list of birth first names: the Patient extension ``BIRTH_LIST_GIVEN_NAME_URL``,
  ``valueString`` space-separated as INSi returns ``ListePrenom``; when absent, the ``given`` list
  of the official name;
- used name and used first name: ``name`` with ``use = usual``;
- birth date: ``birthDate`` as stored (``YYYY-MM-DD``; RNIPP ``00`` day/month kept as they are);
- sex: ``gender`` male/female -> ``M``/``F``, other -> ``I``, unknown or absent -> None;
- birthplace: extension ``BIRTHPLACE_URL`` ``valueAddress`` carrying the FR Core extension
  ``INSEE_CODE_URL`` whose ``valueCoding.code`` is the INSEE COG (commune code, or ``99xxx``
  country code for a birth abroad). ``district`` and ``postalCode`` are never read as the COG.
"""

from __future__ import annotations

from typing import Any

BIRTH_LIST_GIVEN_NAME_URL = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-birth-list-given-name"
# Name of the same extension in earlier FR Core releases; read, never written.
BIRTH_LIST_GIVEN_NAME_URL_V1 = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-birth-list-given-name"
BIRTHPLACE_URL = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"
INSEE_CODE_URL = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code"
COMMUNE_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_R13-CommuneOM/FHIR/TRE-R13-CommuneOM"
SEX_BY_GENDER = {"male": "M", "female": "F", "other": "I"}


def _name(patient: dict[str, Any], use: str) -> dict[str, Any] | None:
    for name in patient.get("name", []):
        if name.get("use") == use:
            return dict(name)
    return None


def _extension(holder: dict[str, Any], *urls: str) -> dict[str, Any] | None:
    for ext in holder.get("extension", []):
        if ext.get("url") in urls:
            return dict(ext)
    return None


def birth_name(patient: dict[str, Any]) -> str | None:
    """Nom de naissance: the family of the official name."""
    name = _name(patient, "official")
    return (name or {}).get("family") or None


def birth_given_names(patient: dict[str, Any]) -> list[str]:
    """Prénoms de naissance, in order: the FR Core list extension, else the official given names."""
    ext = _extension(patient, BIRTH_LIST_GIVEN_NAME_URL, BIRTH_LIST_GIVEN_NAME_URL_V1)
    if ext and ext.get("valueString", "").strip():
        return str(ext["valueString"]).split()
    return list((_name(patient, "official") or {}).get("given", []))


def first_birth_given_name(patient: dict[str, Any]) -> str | None:
    """Premier prénom de naissance: ``given[0]`` of the official name, else the list's first."""
    given = (_name(patient, "official") or {}).get("given") or birth_given_names(patient)
    return given[0] if given else None


def used_name(patient: dict[str, Any]) -> str | None:
    """Nom utilisé: the family of the usual name."""
    return (_name(patient, "usual") or {}).get("family") or None


def used_given_name(patient: dict[str, Any]) -> str | None:
    """Prénom utilisé: the first given of the usual name."""
    given = (_name(patient, "usual") or {}).get("given") or []
    return given[0] if given else None


def birth_date(patient: dict[str, Any]) -> str | None:
    """Date de naissance as stored (``YYYY-MM-DD``, possibly with RNIPP ``00`` parts)."""
    return patient.get("birthDate") or None


def sex_code(patient: dict[str, Any]) -> str | None:
    """Sexe ``M``/``F`` (``I`` for other); None when unknown."""
    return SEX_BY_GENDER.get(patient.get("gender", ""))


def birthplace_cog(patient: dict[str, Any]) -> str | None:
    """Code lieu de naissance (INSEE COG) from the birthPlace address's FR Core INSEE extension."""
    place = _extension(patient, BIRTHPLACE_URL)
    address = (place or {}).get("valueAddress") or {}
    insee = _extension(address, INSEE_CODE_URL)
    return ((insee or {}).get("valueCoding") or {}).get("code") or None


def birthplace_extension(cog: str, city: str | None = None) -> dict[str, Any]:
    """The Patient birthPlace extension for a COG code, as ``birthplace_cog`` reads it."""
    address: dict[str, Any] = {
        "extension": [{"url": INSEE_CODE_URL, "valueCoding": {"system": COMMUNE_SYSTEM, "code": cog}}]
    }
    if city:
        address["city"] = city
    return {"url": BIRTHPLACE_URL, "valueAddress": address}


def birth_given_names_extension(names: list[str]) -> dict[str, Any]:
    """The FR Core extension holding the list of birth first names (space-separated)."""
    return {"url": BIRTH_LIST_GIVEN_NAME_URL, "valueString": " ".join(names)}
