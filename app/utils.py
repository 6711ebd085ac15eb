"""Small helpers shared by every module: time, display formats, paging."""
from datetime import datetime, timedelta, timezone
from math import ceil

CHINA = timezone(timedelta(hours=8))


def utcnow():
    """Naive UTC now: what the database columns store."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def to_local(value):
    """A naive-UTC datetime as China time, for display."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc).astimezone(CHINA)


def local_today():
    return datetime.now(CHINA).date()


def format_date(value):
    """2024-07-08, as the manual shows dates."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_local(value)
    return value.strftime("%Y-%m-%d")


def format_datetime(value):
    if value is None:
        return ""
    return to_local(value).strftime("%Y-%m-%d %H:%M")


def format_month_day(value):
    """08.15, as the manual's short notice lists show dates."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_local(value)
    return value.strftime("%m.%d")


def format_wan(value):
    """Money in 万元 with two decimals."""
    if value is None:
        return ""
    return f"{value:,.2f}"


class Page:
    """One page of a query, with the manual's pager text."""

    def __init__(self, items, page, per_page, total):
        self.items = items
        self.page = page
        self.per_page = per_page
        self.total = total

    @property
    def pages(self):
        return max(1, ceil(self.total / self.per_page))

    @property
    def first_index(self):
        """序号 of the first row on this page."""
        return (self.page - 1) * self.per_page + 1

    @property
    def has_prev(self):
        return self.page > 1

    @property
    def has_next(self):
        return self.page < self.pages


def paginate(select, page=1, per_page=20):
    """Run a select for one page; page numbers out of range clamp to the last page."""
    from sqlalchemy import func, select as sa_select

    from app.extensions import db

    total = db.session.scalar(sa_select(func.count()).select_from(select.order_by(None).subquery()))
    page = max(1, page)
    pages = max(1, ceil(total / per_page))
    page = min(page, pages)
    items = db.session.scalars(select.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(items, page, per_page, total)
