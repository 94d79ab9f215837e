"""INS (Identifiant National de Santé) on a FHIR Patient, the FR Core way.

Every layer reads identity through these helpers so that one rule holds everywhere: the INS
matricule and its OID leave the system only for a qualified identity (SGL.INS.37).
"""

from __future__ import annotations

import re
from typing import Any

from resources.errors import InvalidInput

OID_INS_NIR = "1.2.250.1.213.1.4.8"
OID_INS_NIA = "1.2.250.1.213.1.4.9"
OID_INS_NIR_TEST = "1.2.250.1.213.1.4.10"
OID_INS_NIR_DEMO = "1.2.250.1.213.1.4.11"
PRODUCTION_OIDS = frozenset({OID_INS_NIR, OID_INS_NIA})
TEST_OIDS = frozenset({OID_INS_NIR_TEST, OID_INS_NIR_DEMO})
INS_TYPE_BY_OID = {
    OID_INS_NIR: "INS-NIR",
    OID_INS_NIA: "INS-NIA",
    OID_INS_NIR_TEST: "INS-NIR-TEST",
    OID_INS_NIR_DEMO: "INS-NIR-DEMO",
}

IDENTIFIER_TYPE_SYSTEM = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
IDENTITY_RELIABILITY_URL = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-identity-reliability"
IDENTITY_STATUS_SYSTEM = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-identity-status"
VALIDATION_MODE_SYSTEM = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-mode-validation-identity"
"""The justificatif checked (FR Core ``validationMode``: CN, PA, LE...)."""
STATUSES = ("PROV", "RECUP", "VALI", "QUAL")

_MATRICULE = re.compile(r"^\d{6}[AB0-9]\d{6}$")


def matricule_key(matricule13: str) -> int:
    """The 2-digit control key: 97 - (N mod 97), Corsica's 2A/2B read as 19/18."""
    digits = matricule13.upper()
    digits = digits[:5] + {"2A": "19", "2B": "18"}.get(digits[5:7], digits[5:7]) + digits[7:]
    return 97 - (int(digits) % 97)


def check_matricule(value: str, *, expression: str = "Patient.identifier.value") -> str:
    """Validate a 15-character matricule INS (13 characters + key) and return it upper-cased."""
    v = (value or "").strip().upper()
    if len(v) != 15 or not _MATRICULE.match(v[:13]) or not v[13:].isdigit():
        raise InvalidInput(
            f"matricule INS {value!r} must be 13 characters (digits, 2A/2B for Corsica) followed by a 2-digit key",
            expression=expression,
        )
    expected = matricule_key(v[:13])
    if int(v[13:]) != expected:
        raise InvalidInput(f"matricule INS {v[:13]} has key {v[13:]}, expected {expected:02d}",
                           expression=expression)
    return v


def identity_status(patient: dict[str, Any]) -> str:
    """The RNIV status (PROV, RECUP, VALI, QUAL); an identity without one is provisional."""
    for ext in patient.get("extension", []):
        if ext.get("url") != IDENTITY_RELIABILITY_URL:
            continue
        for sub in ext.get("extension", []):
            if sub.get("url") == "identityStatus":
                code = (sub.get("valueCoding") or {}).get("code")
                if code in STATUSES:
                    return str(code)
    return "PROV"


def ins_identifier(patient: dict[str, Any]) -> dict[str, Any] | None:
    """The current (non-``old``) INS identifier stored on the Patient, whatever the status."""
    oids = {f"urn:oid:{o}" for o in INS_TYPE_BY_OID}
    for ident in patient.get("identifier", []):
        if ident.get("system") in oids and ident.get("use") != "old":
            return dict(ident)
    return None


def emittable_ins(patient: dict[str, Any]) -> dict[str, Any] | None:
    """The INS identifier that may leave the system: only for a QUAL identity (SGL.INS.37)."""
    if identity_status(patient) != "QUAL":
        return None
    return ins_identifier(patient)


def ins_identifier_for(matricule: str, oid: str) -> dict[str, Any]:
    """Build an FR Core INS identifier (NIR or NIA, production or test OID)."""
    if oid not in INS_TYPE_BY_OID:
        raise InvalidInput(f"{oid} is not an INS assigning authority OID", expression="Patient.identifier.system")
    return {
        "use": "official",
        "type": {"coding": [{"system": IDENTIFIER_TYPE_SYSTEM, "code": INS_TYPE_BY_OID[oid]}]},
        "system": f"urn:oid:{oid}",
        "value": check_matricule(matricule),
    }
