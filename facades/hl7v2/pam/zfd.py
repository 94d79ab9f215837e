"""ZFD, the PAM-FR complementary demographics segment, as far as identity goes.

- ZFD-1 lunar birth date ``day^month^year`` (NA): an RNIPP date whose day and/or month is ``00``,
  sent when PID-7 cannot hold it; it becomes a partial FHIR date (``1979-03``, ``1979``).
- ZFD-4 corrected birth date indicator (Y/N): PID-7 is a corrected date, not the RNIPP one.
- ZFD-5 identity collection method (SM, CV, INSI, CB, RFID, AV), ZFD-6 date of the INSi call,
  ZFD-7 type of identity document checked (FR Core mode-validation codes).
ZFD-2 (gestational age), ZFD-3 (SMS consent) and ZFD-8 (proof expiry) are not identity traits here.
"""

from __future__ import annotations

from facades.hl7v2 import ErrorLocation, Hl7Message, Segment
from facades.hl7v2.pam.errors import field_error
from facades.hl7v2.pam.model import Collection
from facades.hl7v2.pam.pid_reader import read_date

_FLAGS = {"Y": True, "N": False}


def _zfd(message: Hl7Message) -> Segment | None:
    return message.segment("ZFD")


def lunar_birth_date(message: Hl7Message) -> str | None:
    """ZFD-1 as a (partial) FHIR date: the known leading parts of year, month, day."""
    zfd = _zfd(message)
    if zfd is None or zfd.field(1).is_empty:
        return None
    day, month, year = zfd.get("1.1"), zfd.get("1.2"), zfd.get("1.3")
    where = ErrorLocation("ZFD", 1, 1)
    if not (len(year) == 4 and year.isdigit() and month.isdigit() and day.isdigit()):
        raise field_error(f"ZFD-1 {str(zfd.field(1))!r} is not a lunar date day^month^year", where)
    if int(month) > 12 or int(day) > 31:
        raise field_error(f"ZFD-1 {str(zfd.field(1))!r} has a month above 12 or a day above 31", where)
    if int(month) == 0:
        return year
    if int(day) == 0:
        return f"{year}-{int(month):02d}"
    return read_date(zfd, 1, f"{year}{int(month):02d}{int(day):02d}")


def birth_date_corrected(message: Hl7Message) -> bool | None:
    zfd = _zfd(message)
    return _FLAGS.get(zfd.get(4)) if zfd is not None else None


def collection(message: Hl7Message) -> Collection:
    zfd = _zfd(message)
    if zfd is None:
        return Collection()
    return Collection(zfd.get(5) or None, read_date(zfd, 6, zfd.get(6)), zfd.get(7) or None)
