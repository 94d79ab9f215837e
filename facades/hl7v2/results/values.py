"""OBX-5 read by its declared type (OBX-2), so that nothing an analyzer sends is reshaped on the way.

- NM: quantity, the number as written (it must be one).
- SN: ``<^0.5`` a quantity with comparator; ``^10^-^20`` a range; ``^1^:^40`` a ratio (as FHIR maps SN).
- CWE, CE, CNE, CF: coded, every coding (identifier, text, system, then the alternate triplet), the
  system mapped to its FHIR URI (``LN`` -> ``http://loinc.org``, ``SCT`` -> SNOMED CT).
- TM: a FHIR time ``hh:mm:ss``; DT, DTM, TS: a FHIR dateTime with its precision.
- ST, TX, FT: a string, leading zeros and inner spaces kept.
- ED, XTN, XAD and other composites: a string of the whole field (every component, joined with
  the message's separators), not its first component.

A repeated OBX-5 (``5.5~6.1``, two organisms ``ECOLI^E. coli^L~KLEB^Klebsiella^L``) of a type that
carries one value (NM, SN, coded, TM, DT/DTM) is refused: an Observation holds one value, and reading
the first repetition acknowledged the others and dropped them. Text and composite types keep them all.

A value that does not read as its type raises ``Hl7ParseError`` naming OBX-5 (code 102); the caller
decides what to do with that one result (the others are still stored).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import tzinfo

from facades.hl7v2.errors import DATA_TYPE_ERROR, Hl7ParseError
from facades.hl7v2.location import ErrorLocation
from facades.hl7v2.message import Field
from facades.hl7v2.results.dtm import fhir_datetime

NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
COMPARATORS = ("<", "<=", ">", ">=")
_TIME = re.compile(r"^(\d{2})(\d{2})?(\d{2})?(\.\d{1,4})?([+-]\d{4})?$")
CODED = frozenset({"CWE", "CE", "CNE", "CF"})
TEXT = frozenset({"ST", "TX", "FT", "IS", "ID", ""})
SINGLE_VALUED = CODED | {"NM", "SN", "TM", "DT", "DTM", "TS"}

# HL7 table 0396 coding system names -> FHIR system URIs (the others stay local to the analyzer)
CODE_SYSTEMS = {
    "LN": "http://loinc.org",
    "SCT": "http://snomed.info/sct",
    "SNM": "http://snomed.info/sct",
    "UCUM": "http://unitsofmeasure.org",
    "I10": "http://hl7.org/fhir/sid/icd-10",
    "HL70078": "http://terminology.hl7.org/CodeSystem/v2-0078",
}


@dataclass(frozen=True)
class Coding:
    """One coding of a coded value or identifier: ``system`` is a FHIR URI when the HL7 name is known
    (``CODE_SYSTEMS``), else '' and ``local_system`` keeps the name the analyzer used."""

    code: str
    display: str = ""
    system: str = ""
    local_system: str = ""


@dataclass(frozen=True)
class TypedValue:
    """OBX-5 as its type reads it; ``kind`` says which of the other fields carry it."""

    kind: str
    """quantity, range, ratio, coded, time, dateTime, string, or empty (no value sent)."""
    text: str = ""
    """The number (quantity), the string, the FHIR time/dateTime, or the coded value's text."""
    comparator: str = ""
    high: str = ""
    """The second number of a range (low = ``text``) or a ratio (numerator = ``text``)."""
    codings: tuple[Coding, ...] = ()


def codings_of(field: Field, repetition: int = 1) -> tuple[Coding, ...]:
    """The identifier triplet (components 1-3) and the alternate one (4-6) of a CE/CWE, when present."""
    out = []
    for first in (1, 4):
        code = field.value(first, 1, repetition).strip()
        if not code:
            continue
        name = field.value(first + 2, 1, repetition).strip()
        system = CODE_SYSTEMS.get(name.upper(), "")
        out.append(Coding(code, field.value(first + 1, 1, repetition), system, "" if system else name))
    return tuple(out)


def _fhir_time(text: str, where: ErrorLocation) -> str:
    match = _TIME.match(text)
    if match is None or int(match.group(1)) > 23 or int(match.group(2) or 0) > 59 or int(match.group(3) or 0) > 59:
        raise Hl7ParseError(f"OBX-5 {text!r} is not an HL7 time (HHMM[SS])", where, code=DATA_TYPE_ERROR)
    return f"{match.group(1)}:{match.group(2) or '00'}:{match.group(3) or '00'}"


def _structured_numeric(field: Field, where: ErrorLocation) -> TypedValue:
    comparator, first = field.value(1).strip(), field.value(2).strip()
    separator, second = field.value(3).strip(), field.value(4).strip()
    if comparator and comparator not in COMPARATORS and comparator != "=":
        raise Hl7ParseError(f"OBX-5 {str(field)!r}: {comparator!r} is not an SN comparator", where,
                            code=DATA_TYPE_ERROR)
    numbers_ok = NUMBER.match(first) and (not separator or NUMBER.match(second))
    if not numbers_ok or (separator and separator not in ("-", ":", "/", "+", ".")):
        raise Hl7ParseError(f"OBX-5 {str(field)!r} is not a structured numeric value", where, code=DATA_TYPE_ERROR)
    if not separator:
        return TypedValue("quantity", first, "" if comparator == "=" else comparator)
    if separator == "-":
        return TypedValue("range", first, high=second)
    if separator in (":", "/"):
        return TypedValue("ratio", first, high=second)
    return TypedValue("string", field.value(1) + "".join(field.value(n) for n in (2, 3, 4)))


def typed_value(kind: str, field: Field, where: ErrorLocation, *, zone: tzinfo) -> TypedValue:
    """OBX-5 (``field``) read as OBX-2 (``kind``) says; raises ``Hl7ParseError`` at ``where``."""
    if field.is_empty:
        return TypedValue("")
    if len(field) > 1 and kind in SINGLE_VALUED:
        raise Hl7ParseError(f"OBX-5 holds {len(field)} repetitions but an {kind} result carries one value: "
                            "send one OBX per value (OBX-4 sub-id)", where, code=DATA_TYPE_ERROR)
    if kind == "NM":
        text = field.value().strip()
        if not NUMBER.match(text):
            raise Hl7ParseError(f"OBX-5 {text!r} is not a number although OBX-2 is NM", where, code=DATA_TYPE_ERROR)
        return TypedValue("quantity", text)
    if kind == "SN":
        return _structured_numeric(field, where)
    if kind in CODED:
        codings = codings_of(field)
        text = field.value(2) or field.value(9) or field.value(1)
        return TypedValue("coded", text, codings=codings)
    if kind == "TM":
        return TypedValue("time", _fhir_time(field.value().strip(), where))
    if kind in ("DT", "DTM", "TS"):
        return TypedValue("dateTime", fhir_datetime(field.value(1).strip(), where, zone=zone))
    if kind in TEXT and len(field) <= 1 and not any(field.raw(c) for c in range(2, 4)):
        return TypedValue("string", field.value())
    # a composite type (ED, XTN, XAD...) or text cut by a component separator: keep it all
    return TypedValue("string", _whole(field))


def _whole(field: Field) -> str:
    """Every repetition and component, decoded, joined with the message's own separators."""
    enc = field.enc
    return enc.repetition.join(
        enc.component.join(enc.subcomponent.join(field.value(c, s, r) for s in range(1, len(comp) + 1))
                           for c, comp in enumerate(rep, 1))
        for r, rep in enumerate(field.repetitions, 1))
