"""Working days (工作日) in mainland China: weekends and public holidays are off, and the
调休 weekend days that make up for a long holiday are working days.

The calendar comes from the maintained ``holidays`` package (country CN), which follows the
State Council's yearly notice; no holiday table is kept here.
"""

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=1)
def _calendar():
    return holidays.country_holidays("CN")


def is_working_day(day):
    return _calendar().is_working_day(day)


def add_working_days(start, count):
    """The date ``count`` working days after ``start`` (``start`` itself is not counted)."""
    day = start
    remaining = count
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


@lru_cache(maxsize=64)
def _running_count(year):
    """For each day of ``year`` (index 0 = 1 January), the working days from 1 January to it,
    that day included: a list the deadline clocks read instead of walking the calendar day by day
    (a complaint two years overdue would otherwise ask the calendar ~700 times per row)."""
    counts, total, day = [], 0, date(year, 1, 1)
    while day.year == year:
        total += is_working_day(day)
        counts.append(total)
        day += timedelta(days=1)
    return counts


def _working_days_through(day):
    """Working days from 1 January of ``day``'s year to ``day``, ``day`` included."""
    return _running_count(day.year)[day.timetuple().tm_yday - 1]


def working_days_between(start, end):
    """Working days in (start, end]; negative when ``end`` is before ``start``."""
    if end < start:
        return -working_days_between(end, start)
    count = _working_days_through(end) - _working_days_through(start)
    for year in range(start.year, end.year):
        count += _running_count(year)[-1]
    return count
