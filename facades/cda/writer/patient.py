"""``recordTarget``: the patient's identity, with the INS only for a qualified identity (SGL.INS.37).

Traits follow the FR Core conventions also used by the PDF view (official name = birth name, usual
name = used name, FR Core list of birth first names, birthPlace INSEE code). When the identity is
not *qualifiée*, ``resources.ins.emittable_ins`` gives nothing and the document carries the traits
and the lab's local identifier only: no matricule, no INS OID, no patient MSSanté address.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from facades.cda.writer.cdaxml import addr_el, is_oid, sub, telecom_els
from resources.errors import InvalidInput
from resources.ins import INS_TYPE_BY_OID, emittable_ins
from resources.patient_traits import (
    BIRTH_LIST_GIVEN_NAME_URL,
    BIRTH_LIST_GIVEN_NAME_URL_V1,
    BIRTHPLACE_URL,
    birthplace_cog,
)

BIRTH_LIST_URLS = (BIRTH_LIST_GIVEN_NAME_URL, BIRTH_LIST_GIVEN_NAME_URL_V1)
GENDER = {"male": ("M", "Masculin"), "female": ("F", "Féminin"), "other": ("U", "Inconnu")}
PATIENT_MSS_DOMAIN = "patient.mssante.fr"


def _name(patient: dict[str, Any], use: str) -> dict[str, Any]:
    return next((dict(n) for n in patient.get("name", []) if n.get("use") == use), {})


def _ext(holder: dict[str, Any], *urls: str) -> dict[str, Any]:
    return next((dict(e) for e in holder.get("extension", []) if e.get("url") in urls), {})


def _birth_time(value: str) -> str:
    """``YYYY-MM-DD``; RNIPP unknown parts (``00``) shorten the TS instead of writing an invalid date."""
    year, _, rest = value.partition("-")
    month, _, day = rest.partition("-")
    if not month or month == "00":
        return year
    return year + month if not day or day == "00" else year + month + day


def domain_oid(system: str, identifier_oids: dict[str, str]) -> str | None:
    """The OID to write for an identifier of ``system``: the lab's mapping for that domain first (by system
    or bare authority id), else the system itself when it is an ``urn:oid:`` ISO OID, else None."""
    bare = system.removeprefix("urn:oid:")
    mapped = identifier_oids.get(system) or identifier_oids.get(bare)
    if mapped:
        return mapped
    return bare if system.startswith("urn:oid:") and is_oid(bare) else None


def _patient_ids(role: etree._Element, patient: dict[str, Any], local_root: str,
                 identifier_oids: dict[str, str]) -> str | None:
    """INS first (when emittable), then the local identifiers; returns the emitted matricule.

    A local identifier whose domain has no ISO OID (a PAM-FR IPP from ``CHU-X&000897406&N``) and no
    mapping in the lab profile is left out: an invalid root would make the whole document unreadable.
    """
    ins = emittable_ins(patient)
    matricule = None
    if ins:
        matricule = str(ins["value"])
        sub(role, "id", root=str(ins["system"]).removeprefix("urn:oid:"), extension=matricule)
    ins_systems = {f"urn:oid:{oid}" for oid in INS_TYPE_BY_OID}
    locals_written = 0
    for ident in patient.get("identifier", []):
        system = str(ident.get("system", ""))
        if system in ins_systems or not ident.get("value") or ident.get("use") == "old":
            continue
        root = domain_oid(system, identifier_oids)
        if root:
            sub(role, "id", root=root, extension=str(ident["value"]))
            locals_written += 1
    if not locals_written:
        sub(role, "id", root=local_root, extension=str(patient.get("id") or "inconnu"))
    return matricule


def _ins_traits(patient: dict[str, Any]) -> None:
    """A document carrying the INS must carry every INS trait (CI-SIS header rule): name what the Patient lacks."""
    official = _name(patient, "official")
    required = (("Patient.name.where(use='official').family", official.get("family")),
                ("Patient.name.where(use='official').given", official.get("given")),
                ("Patient.birthDate", patient.get("birthDate")),
                ("Patient.gender", GENDER.get(patient.get("gender", ""))),
                ("Patient.extension:birthPlace (FR Core INSEE code)", birthplace_cog(patient)))
    missing = [path for path, value in required if not value]
    if missing:
        raise InvalidInput("the identity is qualified, so its INS is written, and the INS traits must all be there: "
                           f"the Patient lacks {', '.join(missing)}", expression=missing)


def record_target(doc: etree._Element, patient: dict[str, Any], local_root: str,
                  identifier_oids: dict[str, str] | None = None) -> None:
    """Append ``recordTarget/patientRole`` for the patient."""
    role = sub(sub(doc, "recordTarget"), "patientRole")
    matricule = _patient_ids(role, patient, local_root, identifier_oids or {})
    if matricule:
        _ins_traits(patient)
    addresses = patient.get("address") or []
    addr_el(role, addresses[0] if addresses else None)
    telecom = list(patient.get("telecom", []))
    if matricule:
        telecom.append({"system": "email", "value": f"{matricule}@{PATIENT_MSS_DOMAIN}"})
    telecom_els(role, telecom)
    person = sub(role, "patient", classCode="PSN")
    _names(person, patient)
    gender = GENDER.get(patient.get("gender", ""))
    if gender:
        sub(person, "administrativeGenderCode", code=gender[0], displayName=gender[1],
            codeSystem="2.16.840.1.113883.5.1")
    else:
        sub(person, "administrativeGenderCode", nullFlavor="UNK")
    if patient.get("birthDate"):
        sub(person, "birthTime", value=_birth_time(str(patient["birthDate"])))
    else:
        sub(person, "birthTime", nullFlavor="UNK")
    cog = birthplace_cog(patient)
    if cog:
        address = _ext(patient, BIRTHPLACE_URL).get("valueAddress") or {}
        place_addr = sub(sub(sub(person, "birthplace"), "place"), "addr")
        sub(place_addr, "county", cog)
        if address.get("city"):
            sub(place_addr, "city", address["city"])


def _names(person: etree._Element, patient: dict[str, Any]) -> None:
    """Birth name (BR) with all birth first names and the first one; used name (CL) when known."""
    official, usual = _name(patient, "official"), _name(patient, "usual")
    name = sub(person, "name")
    birth_list = str(_ext(patient, *BIRTH_LIST_URLS).get("valueString", "")).split()
    given = list(official.get("given", [])) or birth_list
    sub(name, "family", official.get("family") or usual.get("family") or "INCONNU", qualifier="BR")
    if birth_list or given:
        sub(name, "given", " ".join(birth_list or given))
    if given:
        sub(name, "given", given[0], qualifier="BR")
    if usual.get("family"):
        sub(name, "family", usual["family"], qualifier="CL")
    if usual.get("given"):
        sub(name, "given", usual["given"][0], qualifier="CL")
