"""Outbound ORU^R01 (HL7 2.5, CI-SIS "transmission de documents CDA en HL7v2", IHE LTW) carrying a CR-Bio to a
hospital EHR (DPI): the document, its distribution flags, and the structured results.

    MSH  (MSH-21 2.1^CISIS_CDA_HL7_V2)
    PID  (pid.py: the INS in PID-3 for a qualified identity, SGL.INS.56)
    ORC  OBR  OBX ED (the CDA, base64)  OBX CE ×n (MetaDMPMSS flags, fixed order)   -- the document
    ORC  OBR  OBX NM/ST ×n (each result)                                            -- the structured results

The event decides ORC-1 and OBX-11 together, as the PFI checks: first version ``NW``/``F``, replacement
``RO``/``C``, withdrawal ``CA``/``D``. MSH-10 is the caller's stable control id (derived from the delivery's
idempotency key), so a resend after a crash carries the same id and the receiver can tell it has it.
Pure: FHIR dicts and bytes in, an ``Hl7Message`` out.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

from facades.hl7v2.message import Field, Hl7Message, Segment
from facades.hl7v2.outbound import OruParties, outbound_msh
from facades.hl7v2.pid import build_pid
from facades.hl7v2.timestamps import from_fhir

EVENTS = {"publish": ("NW", "F"), "replace": ("RO", "C"), "delete": ("CA", "D")}
CRBIO_TYPE = ("11502-2", "CR d'examens biologiques", "LN")
META_FLAGS = ("MASQUE_PS", "INVISIBLE_PATIENT", "INVISIBLE_REP_LEGAUX", "CONNEXION_SECRETE", "MODIF_CONF_CODE",
              "DESTDMP", "DESTMSSANTEPS", "DESTMSSANTEPAT")
"""The MetaDMPMSS codes, in the order the volet fixes."""
ORU_TYPE = ("ORU", "R01", "ORU_R01")
ORU_PROFILE = ("2.1", "CISIS_CDA_HL7_V2")
"""MSH-21: the CI-SIS volet "transmission de documents CDA en HL7v2"."""
UCUM_SYSTEM = "http://unitsofmeasure.org"
LOINC_SYSTEM = "http://loinc.org"


def _order(set_id: int, control: str, report: Mapping[str, Any], code: tuple[str, str, str], status: str
           ) -> tuple[Segment, Segment]:
    orc, obr = Segment("ORC"), Segment("OBR")
    filler = str(report.get("id", ""))
    placer = next((str(i.get("value")) for i in report.get("identifier", ()) if i.get("value")), "")
    orc.set(1, control)
    orc.set(2, placer or None)
    orc.set(3, filler)
    obr.set(1, str(set_id))
    obr.set(2, placer or None)
    obr.set(3, filler)
    obr.set(4, Field.of(*code))
    when = report.get("effectiveDateTime") or report.get("issued")
    if when:
        obr.set(7, from_fhir(str(when), expression="DiagnosticReport.effectiveDateTime"))
    obr.set(25, status)
    return orc, obr


def _flag(set_id: int, code: str, value: bool) -> Segment:
    obx = Segment("OBX")
    obx.set(1, str(set_id))
    obx.set(2, "CE")
    obx.set(3, Field.of(code, code, "MetaDMPMSS"))
    obx.set(5, Field.of("Y" if value else "N", None, "expandedYes-NoIndicator"))
    obx.set(11, "F")
    return obx


def _coding(observation: Mapping[str, Any]) -> tuple[str, str, str]:
    codings = (observation.get("code") or {}).get("coding") or [{}]
    loinc = next((c for c in codings if c.get("system") == LOINC_SYSTEM), codings[0])
    return (str(loinc.get("code", "")), str(loinc.get("display") or (observation.get("code") or {}).get("text") or ""),
            "LN" if loinc.get("system") == LOINC_SYSTEM else "L")


def _result(set_id: int, observation: Mapping[str, Any], status: str) -> Segment:
    obx = Segment("OBX")
    obx.set(1, str(set_id))
    quantity = observation.get("valueQuantity")
    obx.set(3, Field.of(*_coding(observation)))
    if quantity is not None:
        obx.set(2, "NM")
        obx.set(5, str(quantity.get("value", "")))  # an ExactDecimal prints its digits as sent
        unit = str(quantity.get("code") or quantity.get("unit") or "")
        obx.set(6, Field.of(unit, unit, "UCUM" if quantity.get("system") == UCUM_SYSTEM else "L"))
    else:
        concept = observation.get("valueCodeableConcept") or {}
        text = observation.get("valueString") or concept.get("text") or next(
            (c.get("display") or c.get("code") for c in concept.get("coding", ())), "")
        obx.set(2, "ST")
        obx.set(5, str(text))
    ranges = observation.get("referenceRange") or []
    if ranges:
        low, high = (ranges[0].get("low") or {}).get("value"), (ranges[0].get("high") or {}).get("value")
        obx.set(7, ranges[0].get("text") or "-".join(str(v) for v in (low, high) if v is not None))
    flags = [c.get("code") for i in observation.get("interpretation", ()) for c in i.get("coding", ())]
    if flags and flags[0]:
        obx.set(8, str(flags[0]))
    obx.set(11, "C" if observation.get("status") == "corrected" else status)
    return obx


def build_crbio_oru(*, parties: OruParties, control_id: str, event: str, patient: dict[str, Any],
                    report: Mapping[str, Any], document: bytes, flags: Mapping[str, bool],
                    results: Sequence[Mapping[str, Any]]) -> Hl7Message:
    """The ORU^R01 of one CR-Bio version (``event``: ``publish`` / ``replace`` / ``delete``)."""
    control, status = EVENTS[event]
    segments = [outbound_msh(parties, control_id, ORU_TYPE, "2.5", ORU_PROFILE),
                build_pid(patient, ipp_authority=parties.ipp_authority)]
    orc, obr = _order(1, control, report, CRBIO_TYPE, status)
    document_obx = Segment("OBX")
    document_obx.set(1, "1")
    document_obx.set(2, "ED")
    document_obx.set(3, Field.of(*CRBIO_TYPE))
    document_obx.set(5, Field.of(None, "TEXT", "XML", "Base64", base64.b64encode(document).decode("ascii")))
    document_obx.set(11, status)
    segments += [orc, obr, document_obx]
    segments += [_flag(n, code, bool(flags.get(code))) for n, code in enumerate(META_FLAGS, start=2)]
    if results and event != "delete":
        orc2, obr2 = _order(2, control, report, _coding(report), status)
        segments += [orc2, obr2, *(_result(n, o, status) for n, o in enumerate(results, start=1))]
    return Hl7Message(segments)
