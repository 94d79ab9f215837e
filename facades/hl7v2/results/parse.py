"""ORU^R01/R30/R32 (HL7 2.5 chapter 7) and OUL^R22/R23/R24 (HL7 2.5.1, IHE LAW) -> ``ResultMessage``.

All are read with one walk over the segments, since the groups differ only in order: ORU and
OUL^R24 nest ``ORC OBR {OBX}`` with an optional ``SPM`` after them (order first), OUL^R22 nests
``SPM [SAC] {OBR [ORC] {OBX}}`` and OUL^R23 ``SPM {SAC {OBR {OBX}}}`` (specimen first).
The specimen id of a result is taken from the nearest ``SPM-2`` (placer, then filler identifier),
``SAC-3`` (container id), ``OBR-3`` (filler order number) or ``OBR-2``, the places analyzers put the
tube barcode. OBX under an SPM and before any OBR describe the specimen (volume, aspect), not a
test: they are not results and stay in the journaled raw message only.

Only the message as a whole can fail (``Hl7ParseError``: not a result message, MSH-7 unreadable);
an OBX that cannot be read (OBX-5 not of its OBX-2 type, no test code, no specimen id, a bad time)
is returned in ``refused`` with its reason and location, and the others are read on.

The test code is OBX-3.1, or OBX-3.4 (the alternate identifier) when 3.1 is empty, as many
instruments send it (``test_code="primary"`` or ``"alternate"`` pins one). OBX-4 tells apart repeated
OBX-3; when it is empty, the n-th repeat (n >= 2) of a test code on one tube is told apart as ``#n``.
OBX-11 ``F`` / ``C`` with an empty OBX-5 (a final result without a value) is refused at OBX-5.
OBX-11 ``W`` (post the original as wrong: sent for the wrong patient) and ``D`` (delete the result) are refused
with their reason, never applied silently: a W carrying the same value as the stored result used to be taken for a
resend and ACKed AA, the wrong result left in place; on the worklist a person decides.
Units (OBX-6) written ``10^3/uL`` with an unescaped component separator are read back whole (a first
component that is a bare power of ten followed by a component starting with a digit).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import tzinfo
from typing import Literal

from facades.hl7v2.errors import (
    REQUIRED_FIELD_MISSING,
    SEGMENT_SEQUENCE_ERROR,
    TABLE_VALUE_NOT_FOUND,
    UNSUPPORTED_MESSAGE_TYPE,
    Hl7ParseError,
)
from facades.hl7v2.location import ErrorLocation
from facades.hl7v2.message import Hl7Message, Segment
from facades.hl7v2.results.dtm import LAB_ZONE, fhir_datetime
from facades.hl7v2.results.model import LabResult, PatientIds, RefusedResult, ResultMessage
from facades.hl7v2.results.values import codings_of, typed_value

RESULT_MESSAGES = (("ORU", "R01"), ("ORU", "R30"), ("ORU", "R32"), ("OUL", "R22"), ("OUL", "R23"), ("OUL", "R24"))
SPECIMEN_FIRST = (("OUL", "R22"), ("OUL", "R23"))
TestCodeComponent = Literal["auto", "primary", "alternate"]
_POWER_OF_TEN_UNIT = re.compile(r"^\d+$")
WITHDRAWING_STATUSES = {"W": "post the original result as wrong", "D": "delete the result"}
"""OBX-11 values (HL7 table 0085) that take a result back rather than give one."""
FINAL_STATUSES = {"F": "final", "C": "corrected"}
"""OBX-11 values that say the result is complete: one without an OBX-5 is refused, since storing it would make
a result with no value look awaited (a flag or an NTE remark is not a value; X says no result can be had)."""


@dataclass
class _Context:
    """The enclosing PID / SPM / SAC / OBR of the OBX being read."""

    pid: Segment | None = None
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


def _patient(pid: Segment | None) -> PatientIds | None:
    if pid is None:
        return None
    ids = pid.field(3)
    identifiers = tuple((ids.value(1, 1, r).strip(), ids.value(4, 1, r) or ids.value(4, 2, r), ids.value(5, 1, r))
                        for r in range(1, len(ids) + 1) if ids.value(1, 1, r).strip())
    return PatientIds(identifiers, pid.get("5.1"), pid.get("5.2"), pid.get("7"))


def _units(obx: Segment) -> str:
    first, second = obx.get("6.1").strip(), obx.get("6.2").strip()
    if _POWER_OF_TEN_UNIT.match(first) and second[:1].isdigit() and not obx.get("6.3"):
        return f"{first}^{second}"  # 10^3/uL sent with the component separator unescaped
    return first


def _code_position(obx: Segment, choice: TestCodeComponent) -> int:
    if choice == "alternate" or (choice == "auto" and not obx.get("3.1").strip()):
        return 4
    return 1


def _notes(message: Hl7Message) -> dict[int, tuple[str, ...]]:
    """NTE-3 of the NTE segments following each OBX (keyed by the OBX's identity), repetitions as lines:
    an analyzer's "hemolysed sample" or "clot detected" belongs to the result it follows."""
    out: dict[int, list[str]] = {}
    owner: Segment | None = None
    for seg in message.segments():
        if seg.name == "OBX":
            owner = seg
        elif seg.name == "NTE" and owner is not None:
            field = seg.field(3)
            text = "\n".join(field.value(1, 1, r) for r in range(1, len(field) + 1)).strip()
            if text:
                out.setdefault(id(owner), []).append(text)
        else:
            owner = None
    return {key: tuple(texts) for key, texts in out.items()}


def _result(message: Hl7Message, obx: Segment, ctx: _Context, zone: tzinfo, choice: TestCodeComponent,
            sub_id: str, notes: tuple[str, ...] = ()) -> LabResult:
    loc = message.locate(obx)
    first = _code_position(obx, choice)
    code = obx.field(3).value(first).strip()
    if not code:
        raise Hl7ParseError("OBX-3 (observation identifier) is empty in components 1 and 4", replace(loc, field=3),
                            code=REQUIRED_FIELD_MISSING)
    specimen = _specimen_id(ctx)
    if not specimen:
        raise Hl7ParseError("no specimen id for this result (SPM-2, SAC-3, OBR-3 and OBR-2 are empty)", loc,
                            code=REQUIRED_FIELD_MISSING)
    status = obx.get("11").strip().upper()
    if status in WITHDRAWING_STATUSES:
        raise Hl7ParseError(f"OBX-11 {status} ({WITHDRAWING_STATUSES[status]}) is not applied automatically: the "
                            "stored result stays as it is until a biologist acts on this worklist entry",
                            replace(loc, field=11), code=TABLE_VALUE_NOT_FOUND)
    field5 = obx.field(5)
    typed = typed_value(obx.get("2").strip().upper(), field5, replace(loc, field=5), zone=zone)
    if field5.is_empty and status in FINAL_STATUSES:
        raise Hl7ParseError(f"OBX-5 is empty while OBX-11 {status} says the result is {FINAL_STATUSES[status]}: "
                            "a result without a value is not stored (send X when no result can be obtained)",
                            replace(loc, field=5), code=REQUIRED_FIELD_MISSING)
    obr_time = ctx.obr.get("7") if ctx.obr is not None else ""
    coding = next((c for c in codings_of(obx.field(3)) if c.code == code), None)
    return LabResult(
        specimen_id=specimen,
        analyzer=(obx.get("18.1") or message.msh.get("3.1")).strip(),
        test_code=code, test_name=obx.field(3).value(first + 1), test_coding=coding, sub_id=sub_id,
        value_type=obx.get("2").strip().upper(),
        value=typed.text,
        typed=typed, comparator=typed.comparator, units=_units(obx), reference_range=obx.get("7"),
        flags=tuple(f for f in (obx.field(8).value(1, 1, r) for r in range(1, len(obx.field(8)) + 1)) if f),
        status=obx.get("11").strip().upper(),
        observed_at=fhir_datetime(obx.get("14") or obr_time, replace(loc, field=14), zone=zone),
        analyzed_at=fhir_datetime(obx.get("19"), replace(loc, field=19), zone=zone),
        location=loc, patient=_patient(ctx.pid), comments=notes,
    )


def _refused(message: Hl7Message, obx: Segment, ctx: _Context, exc: Hl7ParseError, sub_id: str) -> RefusedResult:
    code = obx.get("3.1").strip() or obx.get("3.4").strip()
    return RefusedResult(exc.diagnostics, exc.code, exc.location, _specimen_id(ctx),
                         (obx.get("18.1") or message.msh.get("3.1")).strip(), code, sub_id, obx.to_er7(),
                         _patient(ctx.pid))


def _groups(message: Hl7Message, kind: tuple[str, str]) -> list[tuple[Segment, _Context]]:
    """Each result OBX with its enclosing segments (read at the end: an ORU puts SPM after its OBX)."""
    ctx = _Context()
    pending: list[tuple[Segment, _Context]] = []
    specimen_first = kind in SPECIMEN_FIRST
    for seg in message.segments():
        if seg.name == "PID":
            ctx = _Context(pid=seg)
        elif seg.name == "SPM":
            if specimen_first or ctx.obr is None:
                ctx = _Context(pid=ctx.pid, spm=seg)
            else:
                ctx.spm = seg
        elif seg.name == "SAC":
            ctx.sac = seg
        elif seg.name == "OBR":
            keep = specimen_first
            ctx = _Context(pid=ctx.pid, spm=ctx.spm if keep else None, sac=ctx.sac if keep else None, obr=seg)
        elif seg.name == "OBX" and ctx.obr is not None:
            pending.append((seg, ctx))
        elif seg.name == "OBX" and ctx.spm is None:
            pending.append((seg, ctx))  # refused below: no OBR, no specimen
    return pending


def _sub_ids(message: Hl7Message, pending: list[tuple[Segment, _Context]]) -> list[str]:
    """OBX-4, else ``#n`` for the n-th OBX of the same test code on the same tube (n >= 2)."""
    seen: dict[tuple[str, str, str], int] = {}
    out = []
    for obx, ctx in pending:
        own = obx.get("4").strip()
        key = (_specimen_id(ctx), obx.get("3.1").strip(), obx.get("3.4").strip())
        seen[key] = seen.get(key, 0) + 1
        out.append(own or ("" if seen[key] == 1 else f"#{seen[key]}"))
    return out


def parse_results(message: Hl7Message, *, zone: tzinfo = LAB_ZONE,
                  test_code: TestCodeComponent = "auto") -> ResultMessage:
    """Every test result of a result message, and the OBX that cannot be read, each with its reason.

    Times sent without a UTC offset are read in ``zone``. Raises ``Hl7ParseError`` only when the
    message itself is not a result message or its header time is unreadable.
    """
    kind = (message.message_type, message.trigger_event)
    if kind not in RESULT_MESSAGES:
        names = ", ".join(f"{t}^{e}" for t, e in RESULT_MESSAGES)
        raise Hl7ParseError(f"{kind[0]}^{kind[1]} is not a result message ({names})",
                            ErrorLocation("MSH", 1, 9), code=UNSUPPORTED_MESSAGE_TYPE)
    sent_at = fhir_datetime(message.msh.get("7"), ErrorLocation("MSH", 1, 7), zone=zone)
    pending = _groups(message, kind)
    notes = _notes(message)
    results: list[LabResult] = []
    refused: list[RefusedResult] = []
    for (obx, ctx), sub_id in zip(pending, _sub_ids(message, pending), strict=True):
        try:
            if ctx.obr is None:
                raise Hl7ParseError("OBX before any OBR or SPM segment", message.locate(obx),
                                    code=SEGMENT_SEQUENCE_ERROR)
            results.append(_result(message, obx, ctx, zone, test_code, sub_id, notes.get(id(obx), ())))
        except Hl7ParseError as exc:
            refused.append(_refused(message, obx, ctx, exc, sub_id))
    return ResultMessage(control_id=message.control_id, sending_application=message.msh.get("3.1"),
                         sent_at=sent_at, results=tuple(results), refused=tuple(refused))
