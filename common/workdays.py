"""Working days in mainland China: Monday to Friday, less the public holidays, plus the weekend
days worked instead (调休), as the State Council publishes them each year. The calendar is
``settings.HOLIDAY_CALENDAR``, a CSV file of ``date,kind,name`` rows (``kind``: ``off`` or
``work``); a year it does not list counts Monday to Friday only."""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.utils import timezone

KINDS = {"off": False, "work": True}


@lru_cache(maxsize=4)
def _calendar(path: str) -> dict[date, bool]:
    """Each listed day and whether it is worked; a broken file says which row to fix."""
    days: dict[date, bool] = {}
    with Path(path).open(encoding="utf-8", newline="") as f:
        for number, row in enumerate(csv.DictReader(f), start=2):
            try:
                days[date.fromisoformat(row["date"].strip())] = KINDS[row["kind"].strip()]
            except (KeyError, AttributeError, ValueError) as exc:
                raise ValueError(
                    f"{path}, row {number}: expected date,kind,name with an ISO date and kind "
                    f"'off' or 'work', got {row!r}"
                ) from exc
    return days


def is_working_day(day: date) -> bool:
    listed = _calendar(str(settings.HOLIDAY_CALENDAR)).get(day)
    return listed if listed is not None else day.weekday() < 5


def working_days_after(start: datetime, days: int) -> datetime:
    """``start`` plus ``days`` working days, counted in local (Beijing) dates: the same time of
    day on the ``days``-th working day after ``start``'s date."""
    moment = start
    left = days
    while left > 0:
        moment += timedelta(days=1)
        if is_working_day(timezone.localtime(moment).date()):
            left -= 1
    return moment


def is_public_holiday(day: date) -> bool:
    """A day the calendar lists as off (a public holiday or its bridge days), not a plain
    weekend: what closes a venue that opens at weekends."""
    return _calendar(str(settings.HOLIDAY_CALENDAR)).get(day) is False
