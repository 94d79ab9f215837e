"""OML^O21 (HL7 2.5 laboratory order, IHE LAB-1 placer order) read into typed orders with FHIR parts.

Structure read (other segments are skipped)::

    MSH  PID [PV1]  { ORC  OBR [SPM] }

- PID: the Patient (patient.py): IPP from PID-3 (type PI), traits; the INS is not read.
- ORC-1 must be ``NW`` (new order); ORC-2 (else OBR-2) is the placer order number; ORC-4 the
  placer group number, i.e. the dossier (``ServiceRequest.requisition``); ORC-12 (else OBR-16)
  the ordering provider.
- OBR-4: the exam (``code^text^system``; system ``LN`` is LOINC, anything else the lab's own
  codes, which the server looks up in its catalogue); OBR-7 the collection time when SPM has none;
  OBR-28: result copies to (correspondents).
- SPM (one per OBR): SPM-2.1 the sender's specimen number, SPM-17.1 the collection time.
- NTE after the ORC or the OBR (before any OBX): the prescriber's comments on the order ("patient sous AVK",
  "à jeun"), kept as ``ServiceRequest.note``; they were acknowledged and dropped.
- OBX after the OBR (and the NTE after each OBX): the clinical information sent with the order (weight,
  pregnancy, treatment), each an Observation the ServiceRequest points at (clinical.py); an OBX that cannot
  be read, or that comes before any OBR, is refused (AE), not acknowledged and dropped.

Pure: no I/O, no catalogue. Every error is an ``Hl7ParseError`` naming segment, occurrence and
field, so the ACK's ERR-2 points at it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from facades.hl7v2.errors import (
    REQUIRED_FIELD_MISSING,
    SEGMENT_SEQUENCE_ERROR,
    TABLE_VALUE_NOT_FOUND,
    UNSUPPORTED_EVENT_CODE,
    ErrorLocation,
    Hl7ContentError,
    Hl7ParseError,
)
from facades.hl7v2.message import Hl7Message, Segment
from facades.hl7v2.orders.clinical import clinical_observation
from facades.hl7v2.orders.patient import ipp_of, patient_of
from facades.hl7v2.orders.values import authority_system, entity_identifier, fhir_datetime, person_reference

LOINC_CODING_SYSTEMS = ("LN",)


@dataclass(frozen=True)
class OmlOrder:
    """One ORC/OBR pair (and its SPM): one exam for the lab."""

    exam_code: str
    exam_coding_system: str
    """OBR-4.3 as sent (``LN`` for LOINC, ``L`` / ``99xxx`` / empty for the lab's local codes)."""
    exam_location: ErrorLocation
    placer_number: dict[str, Any] | None
    placer_location: ErrorLocation
    """ORC-2, or OBR-2 when the ORC has none."""
    placer_group: dict[str, Any] | None
    requester: dict[str, Any] | None
    copies_to: tuple[dict[str, Any], ...]
    specimen_number: dict[str, Any] | None
    collected: str | None
    notes: tuple[str, ...] = ()
    """NTE-3 of the NTE segments of this order (after its ORC or OBR, before any OBX), repetitions as lines."""
    clinical: tuple[dict[str, Any], ...] = ()
    """The OBX after the OBR as Observations (no id, no subject), in message order."""

    @property
    def is_loinc(self) -> bool:
        return self.exam_coding_system in LOINC_CODING_SYSTEMS


@dataclass(frozen=True)
class OmlMessage:
    control_id: str
    sender: str
    """MSH-3 ``@`` MSH-4: who sent the orders (for the trace)."""
    ipp: dict[str, Any]
    patient: dict[str, Any]
    orders: tuple[OmlOrder, ...]


def read_oml_o21(message: Hl7Message) -> OmlMessage:
    """The orders of an OML^O21; ``Hl7ParseError`` with the location of the first problem."""
    msh = message.msh
    if (message.message_type, message.trigger_event) != ("OML", "O21"):
        raise Hl7ParseError(f"expected OML^O21, got {message.message_type}^{message.trigger_event}",
                            message.locate(msh, 9), code=UNSUPPORTED_EVENT_CODE)
    pid = message.segment("PID")
    if pid is None:
        raise Hl7ParseError("an OML^O21 needs a PID segment", ErrorLocation("PID"), code=SEGMENT_SEQUENCE_ERROR)
    orders = _orders(message)
    if not orders:
        raise Hl7ParseError("an OML^O21 needs at least one ORC/OBR order", ErrorLocation("ORC"),
                            code=SEGMENT_SEQUENCE_ERROR)
    return OmlMessage(message.control_id, f"{msh.get('3.1')}@{msh.get('4.1')}", ipp_of(message, pid),
                      patient_of(message, pid), tuple(orders))


def _orders(message: Hl7Message) -> list[OmlOrder]:
    """ORC, OBR, OBX, SPM in message order; each OBR belongs to the ORC before it, each SPM and OBX to its OBR."""
    groups: list[tuple[Segment, Segment | None, Segment | None]] = []
    notes: list[list[str]] = []
    observations: list[list[tuple[Segment, list[str]]]] = []
    for seg in message.segments():
        if seg.name == "ORC":
            groups.append((seg, None, None))
            notes.append([])
            observations.append([])
        elif seg.name == "OBX":
            if not groups or groups[-1][1] is None:
                raise Hl7ContentError("OBX out of place: the clinical information of an order follows its OBR",
                                      message.locate(seg), code=SEGMENT_SEQUENCE_ERROR)
            observations[-1].append((seg, []))
        elif seg.name == "NTE" and groups:
            text = _note_text(seg)
            if text:
                (observations[-1][-1][1] if observations[-1] else notes[-1]).append(text)
        elif seg.name in ("OBR", "SPM"):
            slot = 1 if seg.name == "OBR" else 2
            if not groups or groups[-1][slot] is not None or (slot == 2 and groups[-1][1] is None):
                expected = "ORC" if slot == 1 else "OBR"
                raise Hl7ParseError(f"{seg.name} out of place: one {seg.name} per {expected}, after it",
                                    message.locate(seg), code=SEGMENT_SEQUENCE_ERROR)
            orc, obr, spm = groups[-1]
            groups[-1] = (orc, seg, spm) if slot == 1 else (orc, obr, seg)
    return [_order(message, orc, obr, spm, tuple(texts),
                   tuple(clinical_observation(message, obx, tuple(obx_notes)) for obx, obx_notes in obs))
            for (orc, obr, spm), texts, obs in zip(groups, notes, observations, strict=True)]


def _note_text(nte: Segment) -> str:
    field = nte.field(3)
    return "\n".join(field.value(1, 1, r) for r in range(1, len(field) + 1)).strip()


def _order(message: Hl7Message, orc: Segment, obr: Segment | None, spm: Segment | None,
           notes: tuple[str, ...] = (), clinical: tuple[dict[str, Any], ...] = ()) -> OmlOrder:
    if obr is None:
        raise Hl7ParseError("ORC without its OBR", message.locate(orc), code=SEGMENT_SEQUENCE_ERROR)
    control = orc.get(1)
    if control != "NW":
        raise Hl7ParseError(f"ORC-1 {control!r}: only NW (new order) is supported", message.locate(orc, 1),
                            code=TABLE_VALUE_NOT_FOUND)
    code_location = message.locate(obr, 4, 1)
    if not obr.get("4.1"):
        raise Hl7ParseError("OBR-4 (the exam code) is missing", code_location, code=REQUIRED_FIELD_MISSING)
    collected_field = (spm.get("17.1"), message.locate(spm, 17)) if spm is not None and spm.get("17.1") \
        else (obr.get("7.1"), message.locate(obr, 7))
    copies = obr.field(28)
    placer_segment = orc if orc.get("2.1") or not obr.get("2.1") else obr
    return OmlOrder(
        exam_code=obr.get("4.1"), exam_coding_system=obr.get("4.3"), exam_location=code_location,
        placer_number=entity_identifier(placer_segment.field(2)),
        placer_location=message.locate(placer_segment, 2),
        placer_group=entity_identifier(orc.field(4)),
        requester=person_reference(orc.field(12)) or person_reference(obr.field(16)),
        copies_to=tuple(r for r in (person_reference(copies, n) for n in range(1, len(copies) + 1)) if r),
        specimen_number=_specimen_number(spm), collected=fhir_datetime(*collected_field), notes=notes,
        clinical=clinical)


def _specimen_number(spm: Segment | None) -> dict[str, Any] | None:
    """SPM-2.1 (EIP placer part: ``value&namespace&oid``) as an Identifier."""
    if spm is None or not spm.get("2.1.1"):
        return None
    namespace, oid = spm.get("2.1.2"), spm.get("2.1.3")
    ident: dict[str, Any] = {"value": spm.get("2.1.1")}
    if namespace or oid:
        ident["system"] = authority_system(namespace, oid)
    return ident
