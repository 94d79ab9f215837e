"""An ``IdentityChange`` written onto a FHIR Patient (plain JSON dict), the FR Core way.

The conventions are those every other writer and reader of the project uses (``resources.ins``,
``facades.hl7v2.pid``, ``resources.patient_traits``, ``facades.insi.patient_mapping``):

- IPP: ``identifier`` with type v2-0203 ``PI``, ``system`` = the assigning authority
  (``urn:oid:<CX-4.2>``), so the outbound PID (``build_pid``) finds it again;
- INS: ``resources.ins.ins_identifier_for`` (type INS-NIR/NIA/..., ``urn:oid:`` system), CX-7 in
  ``period.start``; stored only when the message vouches for it, removed otherwise;
- birth identity: ``name`` use ``official`` (family, ``given[0]`` = first birth first name, the list in
  the FR Core ``birth-list-given-name`` extension on that name); used identity: ``name`` use ``usual``;
- birthplace: extension ``patient-birthPlace`` whose address carries the FR Core INSEE code extension;
- status: the FR Core ``identity-reliability`` extension (identityStatus, methodCollection and
  dateCollection from ZFD-5/6, validationMode from ZFD-7, one ``comment`` per PID-32 attribute);
- ZFD-4: ``_birthDate`` extension ``BIRTH_DATE_CORRECTED_URL`` (FR Core has no element for it).

Updating keeps what the message does not own: other identifiers, names, extensions, telecom, links.
"""

from __future__ import annotations

import copy
from typing import Any

from facades.hl7v2.pam.model import IdentityChange, Ins, Ipp, Place, Traits
from resources.ins import (
    IDENTITY_RELIABILITY_URL,
    IDENTITY_STATUS_SYSTEM,
    INS_TYPE_BY_OID,
    VALIDATION_MODE_SYSTEM,
    ins_identifier_for,
)
from resources.patient_traits import BIRTH_LIST_GIVEN_NAME_URL, COMMUNE_SYSTEM, INSEE_CODE_URL
from resources.patient_traits import BIRTHPLACE_URL as BIRTH_PLACE_URL

V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
COUNTRY_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_R20-Pays/FHIR/TRE-R20-Pays"
METHOD_COLLECTION_SYSTEM = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-identity-method-collection"
RELIABILITY_CODE_SYSTEM = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0445"
BIRTH_DATE_CORRECTED_URL = "https://opensgl.org/fhir/StructureDefinition/birth-date-corrected"
_INS_SYSTEMS = frozenset(f"urn:oid:{oid}" for oid in INS_TYPE_BY_OID)
_ADDRESS_FIELDS = ("city", "state", "postalCode", "country")


def ipp_identifier(ipp: Ipp) -> dict[str, Any]:
    return {"use": "usual", "type": {"coding": [{"system": V2_0203, "code": "PI"}]}, "system": ipp.system,
            "value": ipp.value}


def _ins_identifier(ins: Ins) -> dict[str, Any]:
    identifier = ins_identifier_for(ins.matricule, ins.oid)
    if ins.effective:
        identifier["period"] = {"start": ins.effective}
    return identifier


def _identifiers(current: list[dict[str, Any]], change: IdentityChange) -> list[dict[str, Any]]:
    """Ours first (IPP, trusted INS), then every identifier the message does not own, as stored."""
    def owned(ident: dict[str, Any]) -> bool:
        current_use = ident.get("use") != "old"
        return current_use and (ident.get("system") == change.ipp.system or ident.get("system") in _INS_SYSTEMS)

    ours = [ipp_identifier(change.ipp)] + ([_ins_identifier(change.ins)] if change.ins else [])
    return ours + [i for i in current if not owned(i)]


def _names(current: list[dict[str, Any]], traits: Traits) -> list[dict[str, Any]]:
    official: dict[str, Any] = {"use": "official", "family": traits.birth_name}
    if traits.first_name:
        official["given"] = [traits.first_name]
    if traits.first_names:
        official["extension"] = [{"url": BIRTH_LIST_GIVEN_NAME_URL, "valueString": " ".join(traits.first_names)}]
    names = [official]
    if traits.used_name or traits.used_first_name:
        usual: dict[str, Any] = {"use": "usual", "family": traits.used_name or traits.birth_name}
        if traits.used_first_name:
            usual["given"] = [traits.used_first_name]
        names.append(usual)
    return names + [n for n in current if n.get("use") not in ("official", "usual")]


def _address(place: Place, use: str | None = None) -> dict[str, Any]:
    address: dict[str, Any] = {"use": use} if use else {}
    if place.lines:
        address["line"] = list(place.lines)
    for key, value in zip(_ADDRESS_FIELDS, (place.city, place.state, place.postal_code, place.country), strict=True):
        if value:
            address[key] = value
    return address


def _birthplace(place: Place) -> dict[str, Any]:
    address = _address(place)
    if place.cog:
        system = COUNTRY_SYSTEM if place.cog.startswith("99") else COMMUNE_SYSTEM
        address["extension"] = [{"url": INSEE_CODE_URL, "valueCoding": {"system": system, "code": place.cog}}]
    return {"url": BIRTH_PLACE_URL, "valueAddress": address}


def _coding_sub(url: str, system: str, code: str | None) -> list[dict[str, Any]]:
    return [{"url": url, "valueCoding": {"system": system, "code": code}}] if code else []


def reliability_extension(change: IdentityChange) -> dict[str, Any]:
    """FR Core identity-reliability: the status after the message and how the sender established it."""
    c = change.collection
    subs = _coding_sub("identityStatus", IDENTITY_STATUS_SYSTEM, change.status)
    subs += _coding_sub("methodCollection", METHOD_COLLECTION_SYSTEM, c.method)
    subs += [{"url": "dateCollection", "valueDate": c.insi_date}] if c.insi_date else []
    subs += _coding_sub("validationMode", VALIDATION_MODE_SYSTEM, c.proof)
    for code in change.attributes:
        subs += _coding_sub("comment", RELIABILITY_CODE_SYSTEM, code)
    return {"url": IDENTITY_RELIABILITY_URL, "extension": subs}


def _extensions(current: list[dict[str, Any]], change: IdentityChange) -> list[dict[str, Any]]:
    birthplace = change.traits.birthplace
    replaced = {IDENTITY_RELIABILITY_URL} | ({BIRTH_PLACE_URL} if birthplace else set())
    ours = [reliability_extension(change)] + ([_birthplace(birthplace)] if birthplace else [])
    return ours + [e for e in current if e.get("url") not in replaced]


def _birth_date(patient: dict[str, Any], traits: Traits) -> None:
    if traits.birth_date:
        patient["birthDate"] = traits.birth_date
    if traits.birth_date_corrected is not None:
        others = [e for e in (patient.get("_birthDate") or {}).get("extension", [])
                  if e.get("url") != BIRTH_DATE_CORRECTED_URL]
        flag = {"url": BIRTH_DATE_CORRECTED_URL, "valueBoolean": traits.birth_date_corrected}
        patient["_birthDate"] = {"extension": [flag, *others]}


def apply_change(change: IdentityChange, current: dict[str, Any] | None = None) -> dict[str, Any]:
    """The Patient after ``change``: ``current`` (the stored one, untouched) updated, or a new one."""
    patient: dict[str, Any] = copy.deepcopy(current) if current else {"resourceType": "Patient"}
    traits = change.traits
    patient["identifier"] = _identifiers(patient.get("identifier", []), change)
    patient.setdefault("active", True)
    patient["name"] = _names(patient.get("name", []), traits)
    if traits.gender:
        patient["gender"] = traits.gender
    _birth_date(patient, traits)
    if traits.home:
        others = [a for a in patient.get("address", []) if a.get("use") != "home"]
        patient["address"] = [_address(traits.home, "home"), *others]
    patient["extension"] = _extensions(patient.get("extension", []), change)
    return patient


def merged_into(merged: dict[str, Any], survivor_id: str) -> dict[str, Any]:
    """The merged (absorbed) Patient: inactive, ``replaced-by`` the survivor (A40)."""
    patient = copy.deepcopy(merged)
    patient["active"] = False
    links = [link for link in patient.get("link", []) if link.get("type") != "replaced-by"]
    patient["link"] = [{"other": {"reference": f"Patient/{survivor_id}"}, "type": "replaced-by"}, *links]
    return patient


def replacing(survivor: dict[str, Any], merged_id: str) -> dict[str, Any]:
    """The surviving Patient with a ``replaces`` link to the merged one (A40)."""
    patient = copy.deepcopy(survivor)
    reference = f"Patient/{merged_id}"
    links = [link for link in patient.get("link", []) if (link.get("other") or {}).get("reference") != reference]
    patient["link"] = [*links, {"other": {"reference": reference}, "type": "replaces"}]
    return patient


def with_ipp(patient: dict[str, Any], old: Ipp, new: Ipp) -> dict[str, Any]:
    """The Patient whose IPP ``old`` is replaced by ``new`` (A47), the old one kept as ``use: old``."""
    out = copy.deepcopy(patient)
    kept = [i for i in out.get("identifier", [])
            if not (i.get("system") == old.system and i.get("value") == old.value)]
    out["identifier"] = [ipp_identifier(new), {**ipp_identifier(old), "use": "old"}, *kept]
    return out
