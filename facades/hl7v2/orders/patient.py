"""The Patient of an order message, from its PID: the IPP and the traits, never the INS.

An order message is not an identity feed: a Patient unknown to the lab is created with its traits
only (status provisional for identitovigilance), and the INS is left to the identity workflow
(PAM-FR feed or INSi), which alone may qualify an identity. FR Core conventions as in
``facades/hl7v2/pid.py``: birth name = ``name`` official (PID-5 type L), used name = ``name`` usual
(type D), the list of birth first names (PID-5.3) in the FR Core extension, the birthplace COG
(PID-11 repetition of type BDL, XAD-9) in ``patient-birthPlace``.
"""

from __future__ import annotations

from typing import Any

from facades.hl7v2.errors import REQUIRED_FIELD_MISSING, TABLE_VALUE_NOT_FOUND, Hl7ParseError
from facades.hl7v2.message import Hl7Message, Segment
from facades.hl7v2.orders.values import authority_system, fhir_datetime
from resources.patient_traits import BIRTH_LIST_GIVEN_NAME_URL, COMMUNE_SYSTEM, INSEE_CODE_URL
from resources.patient_traits import BIRTHPLACE_URL as BIRTH_PLACE_URL

GENDERS = {"M": "male", "F": "female", "O": "other", "U": "unknown", "A": "other", "N": "unknown"}
IPP_TYPE = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "PI"}]}


def ipp_of(message: Hl7Message, pid: Segment) -> dict[str, Any]:
    """The PID-3 repetition of type PI as an Identifier (system from its assigning authority)."""
    field = pid.field(3)
    for rep in range(1, len(field) + 1):
        if field.value(5, repetition=rep) == "PI" and field.value(1, repetition=rep):
            system = authority_system(field.value(4, 1, rep), field.value(4, 2, rep))
            return {"use": "usual", "type": IPP_TYPE, "system": system, "value": field.value(1, repetition=rep)}
    raise Hl7ParseError("PID-3 has no patient identifier of type PI (IPP)", message.locate(pid, 3),
                        code=REQUIRED_FIELD_MISSING)


def patient_of(message: Hl7Message, pid: Segment) -> dict[str, Any]:
    """A FHIR Patient (no id) with the IPP and the traits of ``pid``."""
    patient: dict[str, Any] = {"resourceType": "Patient", "identifier": [ipp_of(message, pid)],
                               "name": _names(message, pid)}
    birth = fhir_datetime(pid.get("7.1"), message.locate(pid, 7))
    if birth:
        patient["birthDate"] = birth[:10]
    sex = pid.get(8)
    if sex:
        if sex not in GENDERS:
            raise Hl7ParseError(f"PID-8 {sex!r} is not an HL7 administrative sex", message.locate(pid, 8),
                                code=TABLE_VALUE_NOT_FOUND)
        patient["gender"] = GENDERS[sex]
    extensions = _extensions(pid)
    if extensions:
        patient["extension"] = extensions
    return patient


def _names(message: Hl7Message, pid: Segment) -> list[dict[str, Any]]:
    field, names = pid.field(5), []
    for rep in range(1, len(field) + 1):
        family, given, kind = field.value(1, repetition=rep), field.value(2, repetition=rep), field.value(7, 1, rep)
        if not family:
            continue
        use = {"L": "official", "D": "usual"}.get(kind)
        if use:
            names.append({"use": use, "family": family, **({"given": [given]} if given else {})})
    if not any(n["use"] == "official" for n in names):
        raise Hl7ParseError("PID-5 has no birth name (name type L)", message.locate(pid, 5),
                            code=REQUIRED_FIELD_MISSING)
    return names


def _extensions(pid: Segment) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    names = pid.field(5)
    for rep in range(1, len(names) + 1):
        if names.value(7, repetition=rep) == "L" and names.value(3, repetition=rep):
            out.append({"url": BIRTH_LIST_GIVEN_NAME_URL, "valueString": names.value(3, repetition=rep)})
    address = pid.field(11)
    for rep in range(1, len(address) + 1):
        cog = address.value(9, repetition=rep)
        if address.value(7, repetition=rep) == "BDL" and cog:
            place: dict[str, Any] = {"extension": [{"url": INSEE_CODE_URL,
                                                     "valueCoding": {"system": COMMUNE_SYSTEM, "code": cog}}]}
            if address.value(3, repetition=rep):
                place["city"] = address.value(3, repetition=rep)
            out.append({"url": BIRTH_PLACE_URL, "valueAddress": place})
    return out

