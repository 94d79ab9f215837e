"""The RNIV strict traits of a Patient, compared as one snapshot, and the creation minimum.

Strict traits (RNIV rule 26, SGL.INS.29): matricule INS and its OID, birth name, birth first
names (first one and list), birth date, sex, birthplace. Complementary traits (used name, used
first name, address, telephone...) are everything else and stay editable (SGL.INS.31).
"""

from __future__ import annotations

import unicodedata
from typing import Any

from resources.errors import RuleViolation
from resources.ins import ins_identifier
from resources.patient_traits import (
    BIRTH_LIST_GIVEN_NAME_URL,
    birth_date,
    birth_name,
    birthplace_cog,
    first_birth_given_name,
    sex_code,
)

STRICT_TRAITS: dict[str, str] = {
    "ins": "Patient.identifier.where(type.coding.code.startsWith('INS'))",
    "birth_name": "Patient.name.where(use='official').family",
    "first_names": "Patient.name.where(use='official').given",
    "birth_date": "Patient.birthDate",
    "sex": "Patient.gender",
    "birthplace": "Patient.extension('patient-birthPlace')",
}
"""Each strict trait and the element that holds it, named in errors and in the locked-traits flag."""


def _birth_first_names(patient: dict[str, Any]) -> str:
    """The list of birth first names wherever it is written (on the official name, as INSi maps it,
    or on the Patient, as the PDF facade reads it), else the official given names."""
    for name in patient.get("name", []):
        if name.get("use") == "official":
            for ext in name.get("extension", []):
                if ext.get("url") == BIRTH_LIST_GIVEN_NAME_URL:
                    return str(ext.get("valueString", ""))
            listed = next((str(e.get("valueString", "")) for e in patient.get("extension", [])
                           if e.get("url") == BIRTH_LIST_GIVEN_NAME_URL), "")
            return listed or " ".join(name.get("given", []))
    return ""


def _norm(value: str | None) -> str:
    return " ".join((value or "").upper().split())


def strict_traits(patient: dict[str, Any]) -> dict[str, str]:
    """The strict traits as comparable strings (upper-cased, blanks collapsed)."""
    ins = ins_identifier(patient)
    return {
        "ins": f"{ins.get('system')}|{ins.get('value')}" if ins else "",
        "birth_name": _norm(birth_name(patient)),
        "first_names": _norm(f"{first_birth_given_name(patient) or ''} / {_birth_first_names(patient)}"),
        "birth_date": _norm(birth_date(patient)),
        "sex": _norm(sex_code(patient)),
        "birthplace": _norm(birthplace_cog(patient)),
    }


def changed_traits(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Names of the strict traits that differ between two versions."""
    old, new = strict_traits(before), strict_traits(after)
    return [k for k in STRICT_TRAITS if old[k] != new[k]]


def check_minimum(patient: dict[str, Any]) -> None:
    """SGL.INS.11: birth name, first birth first name, birth date, sex and birthplace are required
    to create an identity; RNIV placeholders (``99999`` unknown birthplace) count as values. Nothing
    else is required (SGL.INS.12)."""
    missing = [
        (label, where) for label, value, where in (
            ("birth name", birth_name(patient), STRICT_TRAITS["birth_name"]),
            ("first birth first name", first_birth_given_name(patient), STRICT_TRAITS["first_names"]),
            ("birth date", birth_date(patient), STRICT_TRAITS["birth_date"]),
            ("sex", sex_code(patient), STRICT_TRAITS["sex"]),
            ("birthplace code (INSEE COG, 99999 if unknown)", birthplace_cog(patient), STRICT_TRAITS["birthplace"]),
        ) if not (value or "").strip()
    ]
    if missing:
        raise RuleViolation("SGL.INS.11", "an identity cannot be created without its "
                            + ", ".join(label for label, _ in missing), expression=[w for _, w in missing])


def _upper_bare(text: str) -> str:
    bare = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return bare.upper()


def normalised_birth_names(patient: dict[str, Any]) -> dict[str, Any]:
    """SGL.INS.01 for a referential: birth name and birth first names held upper case without
    diacritics (hyphens, apostrophes and spaces kept), as INSi holds them."""
    names = []
    for name in patient.get("name", []):
        if name.get("use") == "official":
            name = {**name, "given": [_upper_bare(g) for g in name.get("given", [])]}
            if "family" in name:
                name["family"] = _upper_bare(name["family"])
            if "extension" in name:
                name["extension"] = [{**e, "valueString": _upper_bare(e["valueString"])}
                                     if e.get("url") == BIRTH_LIST_GIVEN_NAME_URL and "valueString" in e else e
                                     for e in name["extension"]]
        names.append(name)
    extension = [{**e, "valueString": _upper_bare(e["valueString"])}
                 if e.get("url") == BIRTH_LIST_GIVEN_NAME_URL and "valueString" in e else e
                 for e in patient.get("extension", [])]
    out = {**patient, "name": names} if names else dict(patient)
    if extension:
        out["extension"] = extension
    return out
