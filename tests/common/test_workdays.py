from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from common.workdays import is_working_day, working_days_after

BEIJING = ZoneInfo("Asia/Shanghai")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=BEIJING)


def test_the_national_day_holiday_and_its_makeup_saturday():
    # 2026-09-30 is a Wednesday; 10-01..07 are off, Saturday 10-10 is worked.
    due = working_days_after(local(2026, 9, 30, 15, 0), 5)
    assert due.astimezone(BEIJING) == local(2026, 10, 13, 15, 0)


def test_a_makeup_saturday_is_a_working_day_and_a_holiday_weekday_is_not():
    assert is_working_day(date(2026, 2, 14))  # Saturday before the Spring Festival
    assert not is_working_day(date(2026, 2, 16))  # Monday of the Spring Festival
    assert not is_working_day(date(2026, 11, 28))  # an ordinary Saturday
    assert is_working_day(date(2026, 11, 30))  # an ordinary Monday


def test_a_year_the_calendar_does_not_list_counts_monday_to_friday():
    assert working_days_after(local(2027, 10, 1, 9, 0), 1) == local(2027, 10, 4, 9, 0)


def test_a_broken_calendar_names_its_row(tmp_path, settings):
    broken = tmp_path / "holidays.csv"
    broken.write_text("date,kind,name\n2026-10-01,off,国庆节\n2026-13-01,off,坏日期\n")
    settings.HOLIDAY_CALENDAR = broken
    with pytest.raises(ValueError, match="row 3"):
        is_working_day(date(2026, 10, 1))
