"""The dashboard periods of SGL.TBB.01: the current month, the current year and the previous year, as the lab's
calendar (Europe/Paris) draws them, each a half-open UTC interval ``[start, end)`` for an index range."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from resources.errors import InvalidInput
from resources.search.date import now_utc

LAB_ZONE = ZoneInfo("Europe/Paris")
CODES = ("mois", "annee", "annee-precedente")
"""The periods' codes (``period=`` parameter, CSV column ``période``)."""
LABELS = {"mois": "mois en cours", "annee": "année en cours", "annee-precedente": "année précédente"}


@dataclass(frozen=True)
class Period:
    code: str
    start: datetime
    """Inclusive, UTC."""
    end: datetime
    """Exclusive, UTC."""

    @property
    def label(self) -> str:
        return LABELS[self.code]

    @property
    def first_day(self) -> str:
        return self.start.astimezone(LAB_ZONE).date().isoformat()

    @property
    def last_day(self) -> str:
        """The last calendar day covered (the day before ``end``, lab time)."""
        return datetime.fromtimestamp(self.end.timestamp() - 1, LAB_ZONE).date().isoformat()


def _utc(year: int, month: int) -> datetime:
    return datetime(year, month, 1, tzinfo=LAB_ZONE).astimezone(UTC)


def periods(now: datetime, codes: tuple[str, ...] = CODES) -> list[Period]:
    """The periods named by ``codes`` around ``now`` (an aware datetime)."""
    local = now.astimezone(LAB_ZONE)
    year, month = local.year, local.month
    spans = {
        "mois": (_utc(year, month), _utc(year + month // 12, month % 12 + 1)),
        "annee": (_utc(year, 1), _utc(year + 1, 1)),
        "annee-precedente": (_utc(year - 1, 1), _utc(year, 1)),
    }
    return [Period(code, *spans[code]) for code in codes]


def chosen_periods(values: list[str], day: str | None) -> list[Period]:
    """The periods asked (``period=`` values), drawn around ``day`` (lab calendar) or now."""
    codes = [c.strip() for v in values for c in v.split(",") if c.strip()] or list(CODES)
    unknown = [c for c in codes if c not in CODES]
    if unknown:
        raise InvalidInput(f"period: {', '.join(unknown)} unknown; periods: {', '.join(CODES)}", expression="period")
    now = now_utc()
    if day:
        try:
            now = datetime.combine(datetime.strptime(day, "%Y-%m-%d").date(), time(12), LAB_ZONE).astimezone(UTC)
        except ValueError as exc:
            raise InvalidInput(f"date: {day!r} is not a date (YYYY-MM-DD)", expression="date") from exc
    return periods(now, tuple(dict.fromkeys(codes)))
