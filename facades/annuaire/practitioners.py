"""One line of ``PS_LibreAcces_Personne_activite`` as FHIR: the Practitioner (keyed by the national PS id,
RPPS or ADELI), the PractitionerRole of that activity and the Organization of its site (keyed by FINESS
or SIRET). Ids are derived from those keys, so a reload finds the same resources again.

A line with an unusable identifier is refused with the reason; a line without a site gives a role
without an organization (liberal practice without a registered site).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from facades.annuaire.reader import Row
from facades.annuaire.systems import (
    EMAIL_TYPE_SYSTEM,
    EMAIL_TYPE_URL,
    FINESS_SYSTEM,
    G15_PROFESSION,
    ID_TYPE_SYSTEM,
    IDNPS_SYSTEM,
    IDNST_SYSTEM,
    META,
    R09_CATEGORY,
    R23_MODE,
    R38_SPECIALTY,
    R85_ROLE,
    RPPS_SYSTEM,
    SIRET_SYSTEM,
    STRUCTURE_TECH_SYSTEM,
)

_IDNAT = re.compile(r"^(?:8\d{11}|0[0-9A-Z]{9}|[1-9]\d{8,11})$")
_SAFE = re.compile(r"[^A-Za-z0-9\-.]")


class LineRefused(ValueError):
    """A line that cannot become resources; the message is the reason shown in the report."""


@dataclass(frozen=True)
class Activity:
    """What one line gives: the person, the activity, and the site when there is one."""

    practitioner: dict[str, Any]
    role: dict[str, Any]
    organization: dict[str, Any] | None


def practitioner_id(idnat: str) -> str:
    return f"as-{idnat}"


def organization_id(structure: str) -> str:
    return "as-" + _SAFE.sub("-", structure)[:60]


def _coding(system: str, code: str, display: str) -> dict[str, Any]:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return coding


def national_id(row: Row) -> str:
    """The "Identification nationale PP", checked (``8`` + 11-digit RPPS, ``0`` + ADELI)."""
    idnat = row.get("Identification nationale PP")
    if not idnat:
        raise LineRefused("'Identification nationale PP' is empty")
    if not _IDNAT.match(idnat):
        raise LineRefused(f"'Identification nationale PP' {idnat!r} is neither 8 + RPPS nor 0 + ADELI")
    return idnat


def _identifiers(row: Row, idnat: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"use": "official", "system": IDNPS_SYSTEM, "value": idnat,
                                  "type": {"coding": [{"system": ID_TYPE_SYSTEM, "code": "IDNPS"}]}}]
    if row.get("Type d'identifiant PP") == "8" or idnat.startswith("8"):
        out.append({"use": "official", "system": RPPS_SYSTEM, "value": idnat[1:],
                    "type": {"coding": [{"system": ID_TYPE_SYSTEM, "code": "RPPS"}]}})
    return out


def _name(row: Row) -> dict[str, Any]:
    family = row.get("Nom d'exercice")
    if not family:
        raise LineRefused("'Nom d'exercice' is empty")
    name: dict[str, Any] = {"use": "usual", "family": family}
    given = row.get("Prénom d'exercice")
    if given:
        name["given"] = [given]
    prefix = row.get("Libellé civilité d'exercice") or row.get("Code civilité d'exercice")
    if prefix:
        name["prefix"] = [prefix]
    return name


def _profession(row: Row) -> dict[str, Any] | None:
    code = row.get("Code profession")
    return {"coding": [_coding(G15_PROFESSION, code, row.get("Libellé profession"))]} if code else None


def _specialty(row: Row) -> dict[str, Any] | None:
    """TRE_R38 when the savoir-faire is an ordinal specialty (type ``S``)."""
    code = row.get("Code savoir-faire")
    if not code or row.get("Code type savoir-faire") != "S":
        return None
    return {"coding": [_coding(R38_SPECIALTY, code, row.get("Libellé savoir-faire"))]}


def practitioner(row: Row, idnat: str, mssante: list[str]) -> dict[str, Any]:
    qualifications = [{"code": c} for c in (_profession(row), _specialty(row)) if c]
    resource: dict[str, Any] = {"resourceType": "Practitioner", "id": practitioner_id(idnat), "meta": META,
                                "active": True, "identifier": _identifiers(row, idnat), "name": [_name(row)]}
    if mssante:
        resource["telecom"] = [mssante_telecom(a) for a in sorted(set(mssante))]
    if qualifications:
        resource["qualification"] = qualifications
    return resource


def mssante_telecom(address: str) -> dict[str, Any]:
    return {"system": "email", "value": address, "extension": [
        {"url": EMAIL_TYPE_URL, "valueCoding": {"system": EMAIL_TYPE_SYSTEM, "code": "MSSANTE"}}]}


def merge_qualifications(first: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """The Practitioner of a person seen on several lines: the union of their qualifications."""
    known = list(first.get("qualification", []))
    for qualification in other.get("qualification", []):
        if qualification not in known:
            known.append(qualification)
    return {**first, "qualification": known} if known else first


def structure_key(row: Row) -> str | None:
    return row.get("Identifiant technique de la structure") or None


def _org_identifiers(row: Row, structure: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"system": STRUCTURE_TECH_SYSTEM, "value": structure}]
    finess, siret = row.get("Numéro FINESS site"), row.get("Numéro SIRET site")
    if finess:
        out.append({"system": IDNST_SYSTEM, "value": "1" + finess})
        out.append({"system": FINESS_SYSTEM, "value": finess})
    if siret:
        if not finess:
            out.append({"system": IDNST_SYSTEM, "value": "3" + siret})
        out.append({"system": SIRET_SYSTEM, "value": siret})
    return out


def _address(row: Row) -> dict[str, Any] | None:
    street = " ".join(p for p in (row.get("Numéro Voie (coord. structure)"),
                                  row.get("Indice répétition voie (coord. structure)"),
                                  row.get("Libellé type de voie (coord. structure)")
                                  or row.get("Code type de voie (coord. structure)"),
                                  row.get("Libellé Voie (coord. structure)")) if p)
    lines = [p for p in (row.get("Complément destinataire (coord. structure)"),
                         row.get("Complément point géographique (coord. structure)"), street,
                         row.get("Mention distribution (coord. structure)")) if p]
    address: dict[str, Any] = {}
    if lines:
        address["line"] = lines
    postal = row.get("Code postal (coord. structure)")
    city = row.get("Libellé commune (coord. structure)") or row.get("Bureau cedex (coord. structure)")
    if postal:
        address["postalCode"] = postal
    if city:
        address["city"] = city
    country = row.get("Libellé pays (coord. structure)")
    if country:
        address["country"] = country
    return address or None


def _telecom(row: Row) -> list[dict[str, Any]]:
    out = [{"system": "phone", "value": v} for v in (row.get("Téléphone (coord. structure)"),
                                                    row.get("Téléphone 2 (coord. structure)")) if v]
    if row.get("Télécopie (coord. structure)"):
        out.append({"system": "fax", "value": row.get("Télécopie (coord. structure)")})
    if row.get("Adresse e-mail (coord. structure)"):
        out.append({"system": "email", "value": row.get("Adresse e-mail (coord. structure)")})
    return out


def organization(row: Row, structure: str) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Organization", "id": organization_id(structure), "meta": META,
                                "active": True, "identifier": _org_identifiers(row, structure)}
    name = row.get("Raison sociale site") or row.get("Enseigne commerciale site")
    if name:
        resource["name"] = name
    if row.get("Enseigne commerciale site") and row.get("Raison sociale site"):
        resource["alias"] = [row.get("Enseigne commerciale site")]
    telecom, address = _telecom(row), _address(row)
    if telecom:
        resource["telecom"] = telecom
    if address:
        resource["address"] = [address]
    return resource


def _role_codes(row: Row) -> list[dict[str, Any]]:
    codes = [c for c in (_profession(row),) if c]
    mode = row.get("Code mode exercice")
    if mode:
        codes.append({"coding": [_coding(R23_MODE, mode, row.get("Libellé mode exercice"))]})
    role = row.get("Code rôle")
    if role:
        codes.append({"coding": [_coding(R85_ROLE, role, row.get("Libellé rôle"))]})
    category = row.get("Code catégorie professionnelle")
    if category:
        codes.append({"coding": [_coding(R09_CATEGORY, category, row.get("Libellé catégorie professionnelle"))]})
    return codes


def role(row: Row, idnat: str, structure: str | None) -> dict[str, Any]:
    """The activity; its id hashes what makes it one activity (person, site, profession, skill, mode)."""
    key = "|".join((idnat, structure or "", row.get("Code profession"), row.get("Code type savoir-faire"),
                    row.get("Code savoir-faire"), row.get("Code mode exercice"), row.get("Code rôle")))
    resource: dict[str, Any] = {"resourceType": "PractitionerRole",
                                "id": "as-" + hashlib.sha1(key.encode()).hexdigest()[:24], "meta": META,
                                "active": True,
                                "practitioner": {"reference": f"Practitioner/{practitioner_id(idnat)}"}}
    if structure:
        resource["organization"] = {"reference": f"Organization/{organization_id(structure)}"}
    codes, specialty = _role_codes(row), _specialty(row)
    if codes:
        resource["code"] = codes
    if specialty:
        resource["specialty"] = [specialty]
    return resource


def activity(row: Row, mssante: list[str]) -> Activity:
    """The resources of one line, or ``LineRefused`` naming what is wrong."""
    idnat = national_id(row)
    structure = structure_key(row)
    return Activity(practitioner(row, idnat, mssante), role(row, idnat, structure),
                    organization(row, structure) if structure else None)
