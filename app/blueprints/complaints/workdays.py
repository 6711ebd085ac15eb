"""Working days (工作日) in mainland China: weekends and public holidays are off, and the
调休 weekend days that make up for a long holiday are working days.

The calendar comes from the maintained ``holidays`` package (country CN), which follows the
State Council's yearly notice; no holiday table is kept here.
"""

from datetime import timedelta
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


def working_days_between(start, end):
    """Working days in (start, end]; negative when ``end`` is before ``start``."""
    if end < start:
        return -working_days_between(end, start)
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count
