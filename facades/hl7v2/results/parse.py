"""ORU^R01 (HL7 2.5 chapter 7) and OUL^R22 (IHE LAW, HL7 2.5.1) -> ``ResultMessage``.

Both are read with one walk over the segments, since the groups differ only in order: ORU nests
``ORC OBR {OBX}`` and an optional ``SPM`` after them, OUL^R22 nests ``SPM [SAC] {OBR [ORC] {OBX}}``.
The specimen id of a result is taken from the nearest ``SPM-2`` (placer, then filler identifier),
``SAC-3`` (container id), ``OBR-3`` (filler order number) or ``OBR-2``, the places analyzers put the
tube barcode. OBX under an SPM and before any OBR describe the specimen (volume, aspect), not a
test: they are not results and stay in the journaled raw message only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import tzinfo

from facades.hl7v2.errors import (
    DATA_TYPE_ERROR,
    REQUIRED_FIELD_MISSING,
    SEGMENT_SEQUENCE_ERROR,
    UNSUPPORTED_MESSAGE_TYPE,
    ErrorLocation,
    Hl7ParseError,
)
from facades.hl7v2.message import Hl7Message, Segment
from facades.hl7v2.results.dtm import LAB_ZONE, fhir_datetime
from facades.hl7v2.results.model import LabResult, ResultMessage

RESULT_MESSAGES = (("ORU", "R01"), ("OUL", "R22"))
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_COMPARATORS = ("<", "<=", ">", ">=")


@dataclass
class _Context:
    """The enclosing SPM / SAC / OBR of the OBX being read."""

    spm: Segment | None = None
    sac: Segment | None = None
    obr: Segment | None = None


def _specimen_id(ctx: _Context) -> str:
    candidates = []
    if ctx.spm is not None:
        candidates += [ctx.spm.get("2.1.1"), ctx.spm.get("2.2.1")]
    if ctx.sac is not None:
        candidates.append(ctx.sac.get("3.1"))
    if ctx.obr is not None:
        candidates += [ctx.obr.get("3.1"), ctx.obr.get("2.1")]
    return next((c.strip() for c in candidates if c.strip()), "")


def _value(obx: Segment, where: ErrorLocation) -> tuple[str, str]:
    """(comparator, value) of OBX-5; NM must be a number, SN is ``comparator^number`` (ranges kept as text)."""
    kind = obx.get("2")
    field = obx.field(5)
    if kind == "NM":
        text = field.value().strip()
        if text and not _NUMBER.match(text):
            raise Hl7ParseError(f"OBX-5 {text!r} is not a number although OBX-2 is NM", where, code=DATA_TYPE_ERROR)
        return "", text
    if kind == "SN":
        comparator, number, separator = field.value(1).strip(), field.value(2).strip(), field.value(3)
        if separator or field.value(4) or (comparator and comparator not in _COMPARATORS):
            return "", str(field)
        if not _NUMBER.match(number):
            raise Hl7ParseError(f"OBX-5 {str(field)!r} is not a structured numeric value", where,
                                code=DATA_TYPE_ERROR)
        return comparator, number
    if kind in ("CE", "CWE"):
        return "", field.value(2) or field.value(1)
    return "", field.value()


def _result(message: Hl7Message, obx: Segment, ctx: _Context, zone: tzinfo) -> LabResult:
    loc = message.locate(obx)
    code = obx.get("3.1").strip()
    if not code:
        raise Hl7ParseError("OBX-3 (observation identifier) is empty", replace(loc, field=3),
                            code=REQUIRED_FIELD_MISSING)
    comparator, value = _value(obx, replace(loc, field=5))
    obr_time = ctx.obr.get("7") if ctx.obr is not None else ""
    return LabResult(
        specimen_id=_specimen_id(ctx),
        analyzer=(obx.get("18.1") or message.msh.get("3.1")).strip(),
        test_code=code, test_name=obx.get("3.2"), value_type=obx.get("2"), value=value, comparator=comparator,
        units=obx.get("6.1").strip(), reference_range=obx.get("7"),
        flags=tuple(f for f in (obx.field(8).value(1, 1, r) for r in range(1, len(obx.field(8)) + 1)) if f),
        status=obx.get("11"),
        observed_at=fhir_datetime(obx.get("14") or obr_time, replace(loc, field=14), zone=zone),
        analyzed_at=fhir_datetime(obx.get("19"), replace(loc, field=19), zone=zone),
        location=loc,
    )


def parse_results(message: Hl7Message, *, zone: tzinfo = LAB_ZONE) -> ResultMessage:
    """Every test result of an ORU^R01 or OUL^R22; ``Hl7ParseError`` names the faulty segment and field.

    Times sent without a UTC offset are read in ``zone``.
    """
    kind = (message.message_type, message.trigger_event)
    if kind not in RESULT_MESSAGES:
        raise Hl7ParseError(f"{kind[0]}^{kind[1]} is not a result message (ORU^R01, OUL^R22)",
                            ErrorLocation("MSH", 1, 9), code=UNSUPPORTED_MESSAGE_TYPE)
    ctx = _Context()
    pending: list[tuple[Segment, _Context]] = []  # read at the end: an ORU puts SPM after its OBX
    for seg in message.segments():
        if seg.name == "SPM":
            if kind == ("OUL", "R22") or ctx.obr is None:
                ctx = _Context(spm=seg)
            else:
                ctx.spm = seg
        elif seg.name == "SAC":
            ctx.sac = seg
        elif seg.name == "OBR":
            keep = kind == ("OUL", "R22")
            ctx = _Context(spm=ctx.spm if keep else None, sac=ctx.sac if keep else None, obr=seg)
        elif seg.name == "OBX" and ctx.obr is not None:
            pending.append((seg, ctx))
        elif seg.name == "OBX" and ctx.spm is None:
            raise Hl7ParseError("OBX before any OBR or SPM segment", message.locate(seg),
                                code=SEGMENT_SEQUENCE_ERROR)
    results = [_result(message, obx, group, zone) for obx, group in pending]
    missing = next((r for r in results if not r.specimen_id), None)
    if missing is not None:
        raise Hl7ParseError("no specimen id for this result (SPM-2, SAC-3, OBR-3 and OBR-2 are empty)",
                            missing.location, code=REQUIRED_FIELD_MISSING)
    return ResultMessage(control_id=message.control_id, sending_application=message.msh.get("3.1"),
                         sent_at=fhir_datetime(message.msh.get("7"), ErrorLocation("MSH", 1, 7), zone=zone),
                         results=tuple(results))
