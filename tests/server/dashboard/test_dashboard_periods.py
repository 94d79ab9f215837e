"""The dashboard periods follow the lab's calendar (Europe/Paris), across a year end and summer time, and the
channels get their dashboard names (no database)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from resources.errors import InvalidInput
from server.dashboard.periods import chosen_periods, periods
from server.delivery.facts import route_of


@pytest.mark.req("SGL.TBB.01")
def test_december_the_year_and_the_previous_one_in_lab_time_SGL_TBB_01() -> None:
    # 31 December 23:30 UTC is already 1 January in Paris: the periods are January's
    month, year, last_year = periods(datetime(2026, 12, 31, 23, 30, tzinfo=UTC))
    assert (month.first_day, month.last_day) == ("2027-01-01", "2027-01-31")
    assert month.start == datetime(2026, 12, 31, 23, tzinfo=UTC)  # midnight in Paris, winter time
    assert (year.first_day, year.last_day, last_year.first_day, last_year.last_day) == (
        "2027-01-01", "2027-12-31", "2026-01-01", "2026-12-31")
    [december] = periods(datetime(2026, 12, 10, tzinfo=UTC), ("mois",))
    assert (december.first_day, december.last_day) == ("2026-12-01", "2026-12-31")
    [july] = periods(datetime(2026, 7, 14, tzinfo=UTC), ("mois",))
    assert july.start == datetime(2026, 6, 30, 22, tzinfo=UTC)  # summer time: UTC+2
    assert [p.code for p in chosen_periods(["annee,mois", "annee"], "2026-03-29")] == ["annee", "mois"]
    with pytest.raises(InvalidInput):
        chosen_periods(["trimestre"], None)


def test_channels_by_their_dashboard_names() -> None:
    assert route_of("mssante", "patient:Patient/p1") == "mss-patient"
    assert route_of("mssante", "dr.x@test.mssante.fr") == "mss-pro"
    assert (route_of("hl7v2", "DXCARE"), route_of("dmp", "dmp"), route_of("fax", "x")) == ("dpi", "dmp", "fax")
