"""Read the PAM-FR PID (IHE PAM national extension, CI-SIS INS annex) into typed identity parts.

- PID-3: the IPP is the repetition with CX-5 = ``PI`` (the sending facility's own, MSH-4, when
  several); the INS is the repetition whose CX-4.2 is an INS OID (NIR, NIA, test, demo), whatever the
  namespace; its CX-1 ``""`` deletes the stored INS. Other repetitions (NH, INS-C, ...) are not ours.
- PID-5: type ``L`` = birth name, first birth first name (XPN-2) and the list of birth first names
  (XPN-3, space-separated); type ``D`` = used name and used first name.
- PID-7 (``YYYY[MM[DD]]``), PID-8 (table 0001), PID-11 (``H`` home, ``BDL`` birthplace with the
  INSEE COG in XAD-9), PID-23 (birthplace when PID-11 has no BDL), PID-32 (reliability codes).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

from facades.hl7v2 import AckError, AssigningAuthority, ErrorLocation, Field, Segment
from facades.hl7v2.pam.errors import REQUIRED_FIELD_MISSING, TABLE_VALUE_NOT_FOUND, PamRuleViolation, field_error
from facades.hl7v2.pam.model import Ins, Ipp, Place
from resources.errors import InvalidInput
from resources.ins import INS_TYPE_BY_OID, check_matricule

GENDERS = {"M": "male", "F": "female", "U": "unknown", "O": "other", "A": "other", "N": "unknown"}
STATUS_CODES = frozenset({"VIDE", "PROV", "VALI", "RECUP", "QUAL"})
ATTRIBUTE_CODES = frozenset({"DOUB", "DESA", "DPOT", "DOUA", "COLP", "COLV", "FILI", "CACH", "ANOM", "IDVER",
                             "RECD", "IDRA", "USUR", "HOMD", "INVA", "HOMA", "FICT", "DOUT"})
_ALIASES = {"FICTI": "FICT", "DOUTE": "DOUT"}
_COG = re.compile(r"^[0-9][0-9AB][0-9]{3}$")


def _where(pid: Segment, field: int, repetition: int | None = None, component: int | None = None) -> ErrorLocation:
    return ErrorLocation(pid.name, 1, field, repetition, component)


def _repetitions(field: Field) -> list[tuple[int, Field]]:
    return [(n, field.repetition(n)) for n in range(1, len(field) + 1)]


def read_ipp(segment: Segment, field_no: int, sending_facility: str,
             identifier_types: Mapping[str, str] | None = None) -> Ipp:
    """The IPP in a CX list (PID-3, MRG-1): CX-5 = PI, the sending facility's namespace preferred.

    ``identifier_types`` maps a sender's own CX-5 types onto table 0203 (``{"MR": "PI"}``: a system that
    types its patient number MR), as configured for that sender; unmapped types are read as sent."""
    types = identifier_types or {}
    candidates = [(n, cx) for n, cx in _repetitions(segment.field(field_no))
                  if types.get(cx.value(5), cx.value(5)) == "PI" and cx.value(1)]
    if not candidates:
        raise field_error(f"{segment.name}-{field_no} has no patient identifier of type PI (the IPP)",
                          _where(segment, field_no), REQUIRED_FIELD_MISSING)
    n, cx = next(((n, cx) for n, cx in candidates if cx.value(4, 1) == sending_facility), candidates[0])
    if not cx.value(4, 2):
        raise field_error(f"the IPP {cx.value(1)!r} has no assigning authority universal id (CX-4.2)",
                          _where(segment, field_no, n, 4), REQUIRED_FIELD_MISSING)
    authority = AssigningAuthority(cx.value(4, 1), cx.value(4, 2), cx.value(4, 3) or "ISO")
    return Ipp(cx.value(1), authority, _where(segment, field_no, n, 1))


def read_ins(pid: Segment, *, trusted: bool) -> tuple[Ins | None, bool, tuple[AckError, ...]]:
    """(the INS to store, whether the sender deleted it, warnings); an untrusted INS is never stored."""
    for n, cx in _repetitions(pid.field(3)):
        oid = cx.value(4, 2)
        if oid not in INS_TYPE_BY_OID:
            continue
        where = _where(pid, 3, n, 1)
        if cx.raw(1) == '""':
            return None, True, ()
        if not trusted:
            return None, False, (AckError(f"INS {cx.value(1)} not stored: PID-32 does not say VALI, traits only",
                                          0, "W", where),)
        try:
            matricule = check_matricule(cx.value(1), expression=where.expression())
        except InvalidInput as exc:
            raise PamRuleViolation("SGL.INS.08", exc.diagnostics, where) from exc
        return Ins(matricule, oid, read_date(pid, 3, cx.value(7), repetition=n, component=7)), False, ()
    return None, False, ()


def read_date(segment: Segment, field_no: int, text: str, *, repetition: int | None = None,
              component: int | None = None) -> str | None:
    """An HL7 DT/TS (``YYYY[MM[DD[...]]]``) as a FHIR date, partial when the sender sent a partial one."""
    if not text:
        return None
    where = ErrorLocation(segment.name, 1, field_no, repetition, component)
    digits = text[:8]
    if not digits.isdigit() or len(digits) not in (4, 6, 8):
        raise field_error(f"{segment.name}-{field_no} {text!r} is not a date YYYY[MM[DD]]", where)
    year, month, day = int(digits[:4]), int(digits[4:6] or 1), int(digits[6:8] or 1)
    try:
        date(year, month, day)
    except ValueError:
        raise field_error(f"{segment.name}-{field_no} {text!r} is not a calendar date", where) from None
    return "-".join(p for p in (digits[:4], digits[4:6], digits[6:8]) if p)


def read_names(pid: Segment) -> tuple[str, str | None, tuple[str, ...], str | None, str | None]:
    """(birth name, first birth first name, birth first names, used name, used first name) from PID-5."""
    reps = _repetitions(pid.field(5))
    birth = next((xpn for _, xpn in reps if xpn.value(7) == "L"), None)
    birth = birth or next((xpn for _, xpn in reps if not xpn.value(7)), None)
    if birth is None or not birth.value(1):
        raise field_error("PID-5 has no birth name (a repetition of type L with XPN-1)", _where(pid, 5),
                          REQUIRED_FIELD_MISSING)
    first = birth.value(2) or None
    names = tuple(birth.value(3).split()) or ((first,) if first else ())
    used = next((xpn for _, xpn in reps if xpn.value(7) == "D"), Field([[[""]]]))
    return birth.value(1), first or (names[0] if names else None), names, used.value(1) or None, used.value(2) or None


def read_gender(pid: Segment) -> str | None:
    code = pid.get(8)
    if not code:
        return None
    if code not in GENDERS:
        raise field_error(f"PID-8 {code!r} is not a sex of HL7 table 0001 ({', '.join(GENDERS)})",
                          _where(pid, 8), TABLE_VALUE_NOT_FOUND)
    return GENDERS[code]


def _place(xad: Field) -> Place:
    lines = tuple(v for v in (xad.value(1), xad.value(2)) if v)
    return Place(lines, xad.value(3) or None, xad.value(4) or None, xad.value(5) or None, xad.value(6) or None,
                 xad.value(9) or None)


def read_places(pid: Segment) -> tuple[Place | None, Place | None]:
    """(birthplace, home address) from PID-11, PID-23 standing in for a missing BDL repetition."""
    reps = _repetitions(pid.field(11))
    home = next((_place(xad) for _, xad in reps if xad.value(7) == "H"), None)
    birthplace = None
    for n, xad in reps:
        if xad.value(7) == "BDL":
            birthplace = _place(xad)
            if birthplace.cog and not _COG.match(birthplace.cog):
                raise field_error(f"birthplace code {birthplace.cog!r} is not an INSEE COG (5 characters)",
                                  _where(pid, 11, n, 9))
    text = pid.get(23)
    if birthplace is None and text:
        birthplace = Place(cog=text) if _COG.match(text) else Place(city=text)
    return birthplace, home


def read_reliability(pid: Segment) -> tuple[tuple[str, ...], tuple[AckError, ...]]:
    """The PID-32 codes (normalised: FICTI -> FICT, DOUTE -> DOUT), with a warning for each code we do not know."""
    codes: list[str] = []
    warnings: list[AckError] = []
    for n, rep in _repetitions(pid.field(32)):
        code = _ALIASES.get(rep.value(1), rep.value(1))
        if code in STATUS_CODES or code in ATTRIBUTE_CODES:
            codes.append(code)
        elif code:
            warnings.append(AckError(f"PID-32 code {code!r} is unknown (FR Core v2-0445) and ignored", 0, "W",
                                     _where(pid, 32, n)))
    return tuple(codes), tuple(warnings)
