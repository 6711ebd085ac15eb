"""办理期限 in working days: weekends and public holidays off, 调休 weekend days on."""

import random
from datetime import date, timedelta
from types import SimpleNamespace

from app.blueprints.complaints.handling import deadline
from app.blueprints.complaints.workdays import add_working_days, is_working_day, working_days_between


def test_holidays_and_make_up_days():
    assert not is_working_day(date(2024, 10, 1))  # 国庆节
    assert not is_working_day(date(2024, 10, 7))  # 国庆 holiday moved from 10-12
    assert is_working_day(date(2024, 9, 29))  # Sunday, a 调休 working day
    assert is_working_day(date(2024, 10, 12))  # Saturday, a 调休 working day
    assert not is_working_day(date(2025, 1, 29))  # 春节
    assert is_working_day(date(2025, 2, 8))  # Saturday after 春节, a 调休 working day
    assert not is_working_day(date(2024, 11, 30))  # an ordinary Saturday


def test_add_working_days_across_national_day():
    assert add_working_days(date(2024, 9, 27), 1) == date(2024, 9, 29)
    assert add_working_days(date(2024, 9, 30), 1) == date(2024, 10, 8)
    # 15 working days from 2024-09-26: counting weekdays alone would give 2024-10-17.
    assert add_working_days(date(2024, 9, 26), 15) == date(2024, 10, 22)
    assert add_working_days(date(2024, 11, 26), 15) == date(2024, 12, 17)


def test_working_days_between():
    assert working_days_between(date(2024, 9, 30), date(2024, 10, 8)) == 1
    assert working_days_between(date(2024, 10, 22), date(2024, 10, 26)) == 3
    assert working_days_between(date(2024, 10, 8), date(2024, 9, 30)) == -1
    assert working_days_between(date(2024, 10, 8), date(2024, 10, 8)) == 0


def test_working_days_between_matches_walking_the_calendar():
    """The year tables give what walking day by day gives, across year ends and leap days."""

    def walked(start, end):
        sign, (start, end) = (1, (start, end)) if start <= end else (-1, (end, start))
        days = (start + timedelta(days=n) for n in range(1, (end - start).days + 1))
        return sign * sum(is_working_day(day) for day in days)

    pick = random.Random(17)
    pairs = [
        (date(2023, 12, 31), date(2024, 1, 1)),
        (date(2024, 2, 28), date(2024, 3, 1)),
        (date(2022, 1, 1), date(2026, 12, 31)),
    ]
    for _ in range(200):
        start = date(2022, 1, 1) + timedelta(days=pick.randrange(1800))
        pairs.append((start, start + timedelta(days=pick.randrange(-800, 800))))
    for start, end in pairs:
        assert working_days_between(start, end) == walked(start, end), (start, end)


def _complaint(status="processing", due_on=date(2024, 10, 22), closed_on_time=None):
    return SimpleNamespace(status=status, due_on=due_on, closed_on_time=closed_on_time)


def test_deadline_clock_counts_working_days():
    assert deadline(_complaint(), today=date(2024, 10, 21)).label == "剩余 1 个工作日"
    assert deadline(_complaint(), today=date(2024, 10, 22)).label == "今日到期"
    late = deadline(_complaint(), today=date(2024, 10, 25))
    assert late.overdue and late.label == "已超期 3 个工作日"
    assert deadline(_complaint(), today=date(2024, 10, 26)).label == "已超期 3 个工作日"  # Saturday adds none
    # Eight calendar days but one working day before the due date.
    assert deadline(_complaint(due_on=date(2024, 10, 8)), today=date(2024, 9, 30)).label == "剩余 1 个工作日"
    assert not deadline(_complaint(due_on=date(2024, 10, 8)), today=date(2024, 9, 30)).overdue


def test_deadline_of_finished_complaints():
    assert deadline(_complaint("closed", closed_on_time=True), today=date(2025, 1, 1)).label == "按期办结"
    assert deadline(_complaint("closed", closed_on_time=False), today=date(2025, 1, 1)).label == "超期办结"
    assert not deadline(_complaint("rejected"), today=date(2025, 1, 1)).overdue
