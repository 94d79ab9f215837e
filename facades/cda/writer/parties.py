"""People and organizations in the header: RPPS and FINESS ids, specialty, address, telecom, name.

One builder per CDA shape (assignedEntity, representedOrganization, associatedEntity,
intendedRecipient), so that author, legal authenticator, performer, responsible party, prescriber
and recipients all say the same thing about the same person.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from facades.cda.writer.cdaxml import (
    OID_RPPS,
    OID_STRUCTURE,
    addr_el,
    code_el,
    identifier_el,
    name_el,
    sub,
    telecom_els,
)
from facades.cda.writer.model import Party
from resources.errors import InvalidInput

FINESS_SYSTEM = "http://finess.sante.gouv.fr"
SPECIALTY_OID = "1.2.250.1.213.1.1.4.5"
PRACTICE_SETTING = {"code": "AMBULATOIRE", "display": "Ambulatoire", "system": "urn:oid:1.2.250.1.213.1.1.4.9"}


def person_id(parent: etree._Element, practitioner: dict[str, Any], local_root: str) -> None:
    """The RPPS (IDNPS, OID 1.2.250.1.71.4.2.1), else the lab's local id for the practitioner."""
    if identifier_el(parent, practitioner.get("identifier"), OID_RPPS) is None:
        sub(parent, "id", root=local_root, extension=str(practitioner.get("id") or "inconnu"))


def organization_id(parent: etree._Element, organization: dict[str, Any], local_root: str) -> None:
    """The structure id (IDNST): the FR Core ``urn:oid`` one, else ``1`` + FINESS, else local."""
    if identifier_el(parent, organization.get("identifier"), OID_STRUCTURE) is not None:
        return
    for ident in organization.get("identifier", []):
        if ident.get("system") == FINESS_SYSTEM and ident.get("value"):
            sub(parent, "id", root=OID_STRUCTURE, extension="1" + str(ident["value"]))
            return
    sub(parent, "id", root=local_root, extension=str(organization.get("id") or "inconnu"))


# FR Core codes a practitioner's profession (TRE_G15) and specialty (TRE_R38) with the NOS canonical URLs
# (or their OIDs); the CDA wants one JDV_J01 code in 1.2.250.1.213.1.1.4.5: ``G15_<profession>[/<specialty>]``.
PROFESSION_SYSTEMS = ("https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante",
                      "urn:oid:1.2.250.1.71.1.2.7")
SPECIALTY_SYSTEMS = ("https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale",
                     "urn:oid:1.2.250.1.71.4.2.5")
PROFESSIONS = {"10": "Médecin", "21": "Pharmacien"}


def _codings(party: Party) -> list[dict[str, Any]]:
    role = party.role or {}
    concepts = [*role.get("specialty", []), *role.get("code", []),
                *(q.get("code") for q in party.practitioner.get("qualification", []))]
    return [dict(c) for concept in concepts for c in (concept or {}).get("coding", []) if c.get("code")]


def specialty(party: Party) -> dict[str, Any] | None:
    """Profession/specialty as a JDV_J01 code (OID 1.2.250.1.213.1.1.4.5), from the role or the qualifications.

    Either already in that system (the CDA form), or built from FR Core's TRE_G15 profession and TRE_R38
    specialty codings (``10`` + ``SM03`` -> ``G15_10/SM03``; a profession alone -> ``G15_10``).
    """
    codings = _codings(party)
    system = f"urn:oid:{SPECIALTY_OID}"
    found = next((c for c in codings if c.get("system") == system), None)
    if found:
        return found
    profession = next((c for c in codings if c.get("system") in PROFESSION_SYSTEMS), None)
    if profession is None:
        return None
    speciality = next((c for c in codings if c.get("system") in SPECIALTY_SYSTEMS), None)
    code = f"G15_{profession['code']}" + (f"/{speciality['code']}" if speciality else "")
    label = str(profession.get("display") or PROFESSIONS.get(str(profession["code"]), "")).strip()
    if speciality and speciality.get("display"):
        label = f"{label} - {speciality['display']}".strip(" -")
    return {"system": system, "code": code, "display": label or None}


def required_specialty(party: Party) -> dict[str, Any]:
    """The author's JDV_J01 code; its absence is named on the FHIR element to fill, not on the CDA path."""
    found = specialty(party)
    if found is None:
        who = f"Practitioner/{party.practitioner.get('id')}" if party.practitioner.get("id") else "the Practitioner"
        raise InvalidInput(f"{who} has no profession/specialty: give Practitioner.qualification a TRE_G15 "
                           "profession (and a TRE_R38 specialty), or PractitionerRole.specialty a JDV_J01 code "
                           f"({SPECIALTY_OID})",
                           expression=["Practitioner.qualification", "PractitionerRole.specialty"])
    return found


def _first(items: list[dict[str, Any]] | None) -> dict[str, Any] | None:
    return items[0] if items else None


def organization(parent: etree._Element, tag: str, org: dict[str, Any], local_root: str, *,
                 industry: bool = False, extra_ids: bool = False) -> etree._Element:
    """``representedOrganization`` (or another tag) with id, name, telecom, addr."""
    node = sub(parent, tag)
    organization_id(node, org, local_root)
    if extra_ids:
        for ident in org.get("identifier", []):
            if ident.get("system") == "urn:oid:1.2.250.1.213.6.3.1":
                sub(node, "id", root="1.2.250.1.213.6.3.1", extension=str(ident["value"]),
                    assigningAuthorityName="COFRAC")
    sub(node, "name", str(org.get("name") or "Laboratoire"))
    telecom_els(node, org.get("telecom"))
    addr_el(node, _first(org.get("address")))
    if industry:
        code_el(node, "standardIndustryClassCode", PRACTICE_SETTING)
    return node


def assigned_entity(parent: etree._Element, party: Party, local_root: str, *, tag: str = "assignedEntity",
                    industry: bool = False, extra_ids: bool = False) -> etree._Element:
    """An assignedEntity/assignedAuthor: id, specialty code, addr, telecom, name, organization."""
    node = sub(parent, tag)
    person_id(node, party.practitioner, local_root)
    code_el(node, "code", required_specialty(party))
    address = _first((party.role or {}).get("address")) if party.role else None
    addr_el(node, address or _first(party.practitioner.get("address"))
            or _first((party.organization or {}).get("address")))
    telecom_els(node, party.telecom or (party.organization or {}).get("telecom"))
    name_el(sub(node, "assignedPerson"), _first(party.practitioner.get("name")))
    if party.organization:
        organization(node, "representedOrganization", party.organization, local_root, industry=industry,
                     extra_ids=extra_ids)
    return node


def intended_recipient(doc: etree._Element, party: Party, local_root: str) -> None:
    """One ``informationRecipient`` (SGL.DOC.07): person and/or organization, with its MSSanté address."""
    recipient = sub(sub(doc, "informationRecipient", typeCode="PRCP"), "intendedRecipient")
    if party.practitioner:
        person_id(recipient, party.practitioner, local_root)
    elif party.organization:
        organization_id(recipient, party.organization, local_root)
    addr_el(recipient, _first((party.role or {}).get("address"))
            or _first(party.practitioner.get("address")) or _first((party.organization or {}).get("address")))
    telecom_els(recipient, party.telecom or (party.organization or {}).get("telecom"))
    if party.practitioner:
        name_el(sub(recipient, "informationRecipient"), _first(party.practitioner.get("name")))
    if party.organization:
        org = sub(recipient, "receivedOrganization")
        organization_id(org, party.organization, local_root)
        sub(org, "name", str(party.organization.get("name") or ""))
