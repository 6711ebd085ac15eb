"""调度大数据: aggregates of approved monthly reports, as SQL GROUP BY queries.

Only approved reports count (``counted``); they are locked, so the figures change only when a
report is approved. Results are cached per process and keyed by a cheap version (how many
reports count and the latest approval), so a busy dashboard does not repeat the GROUP BYs.
"""
import time
from dataclasses import dataclass, field, replace
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app

from app.blueprints.auth.models import Institution
from app.blueprints.reports.models import MonthlyReport, ReportActivity
from app.extensions import db
from app.filings.models import Filing
from app.reference.models import DictItem
from app.reference.services import cities, region_name
from app.utils import local_today

MIN_PUBLIC_INSTITUTIONS = 3  # money totals of fewer institutions would reveal one institution's finances


@dataclass(frozen=True)
class Filters:
    year: int
    month_from: int = 1
    month_to: int = 12
    city_code: str | None = None
    institution_type_id: int | None = None

    @property
    def months(self):
        return range(self.month_from, self.month_to + 1)

    @property
    def label(self):
        if self.month_from == 1 and self.month_to == 12:
            return f"{self.year}年"
        if self.month_from == self.month_to:
            return f"{self.year}年{self.month_from}月"
        return f"{self.year}年{self.month_from}-{self.month_to}月"


@dataclass
class Totals:
    institutions: int = 0
    reports: int = 0
    activities: int = 0
    participants: int = 0
    served: int = 0
    revenue: Decimal = Decimal("0")
    expense: Decimal = Decimal("0")
    profit: Decimal = Decimal("0")

    MEASURES = ("activities", "participants", "served", "revenue", "expense", "profit")


@dataclass
class Row:
    """One line of a breakdown (a month, a 市州, a 服务类别, an institution)."""

    key: object
    label: str
    institutions: int = 0
    activities: int = 0
    participants: int = 0
    served: int = 0
    revenue: Decimal = Decimal("0")
    extra: dict = field(default_factory=dict)


# ---- cache --------------------------------------------------------------------------------------

_CACHE = {}
_CACHE_SIZE = 256


def _version():
    table = MonthlyReport.__table__
    count, latest = db.session.execute(
        sa.select(sa.func.count(), sa.func.max(table.c.approved_at)).where(table.c.counted.is_(True))
    ).one()
    return (str(db.engine.url), count, latest)


def cached(key, compute):
    """``compute()``, reused while no report was approved since (and for at most the TTL)."""
    ttl = current_app.config.get("REPORT_STATS_CACHE_SECONDS", 300)
    if not ttl:
        return compute()
    version = _version()
    now = time.monotonic()
    entry = _CACHE.get(key)
    if entry and entry[0] == version and now - entry[1] < ttl:
        return entry[2]
    value = compute()
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.clear()
    _CACHE[key] = (version, now, value)
    return value


# ---- the queries ----------------------------------------------------------------------------------

def _report_filters(select, f):
    select = select.where(
        MonthlyReport.counted.is_(True), MonthlyReport.year == f.year, MonthlyReport.month.between(f.month_from, f.month_to)
    )
    if f.city_code:
        select = select.where(Filing.city_code == f.city_code)
    if f.institution_type_id:
        select = select.where(MonthlyReport.institution_type_id == f.institution_type_id)
    return select


def _measures():
    return (
        sa.func.count(sa.distinct(Filing.institution_id)),
        sa.func.count(MonthlyReport.id),
        sa.func.coalesce(sa.func.sum(MonthlyReport.activities_total), 0),
        sa.func.coalesce(sa.func.sum(MonthlyReport.participants_total), 0),
        sa.func.coalesce(sa.func.sum(MonthlyReport.served_total), 0),
        sa.func.coalesce(sa.func.sum(MonthlyReport.revenue), 0),
        sa.func.coalesce(sa.func.sum(MonthlyReport.service_expense), 0),
        sa.func.coalesce(sa.func.sum(MonthlyReport.profit), 0),
    )


def _money(value):
    return Decimal(value or 0).quantize(Decimal("0.01"))


def totals(f):
    """Totals of the approved reports matching ``f``."""
    row = db.session.execute(_report_filters(sa.select(*_measures()).select_from(MonthlyReport), f)).one()
    institutions, reports, activities, participants, served, revenue, expense, profit = row
    return Totals(
        int(institutions), int(reports), int(activities), int(participants), int(served),
        _money(revenue), _money(expense), _money(profit),
    )


def by_month(f):
    """One row per month of the range (months without data are zero rows)."""
    rows = db.session.execute(
        _report_filters(sa.select(MonthlyReport.month, *_measures()).select_from(MonthlyReport), f).group_by(MonthlyReport.month)
    ).all()
    found = {row[0]: row for row in rows}
    result = []
    for month in f.months:
        row = found.get(month)
        if row is None:
            result.append(Row(month, f"{month}月"))
            continue
        _, institutions, _reports, activities, participants, served, revenue, _e, _p = row
        result.append(Row(month, f"{month}月", int(institutions), int(activities), int(participants), int(served), _money(revenue)))
    return result


def by_city(f):
    """One row per 市州 (every 市州, in the official order; zero rows included)."""
    rows = db.session.execute(
        _report_filters(sa.select(Filing.city_code, *_measures()).select_from(MonthlyReport), f).group_by(Filing.city_code)
    ).all()
    found = {row[0]: row for row in rows}
    result = []
    for city in cities():
        if f.city_code and city.code != f.city_code:
            continue
        row = found.get(city.code)
        if row is None:
            result.append(Row(city.code, city.name))
            continue
        _, institutions, _reports, activities, participants, served, revenue, _e, _p = row
        result.append(Row(city.code, city.name, int(institutions), int(activities), int(participants), int(served), _money(revenue)))
    return result


def by_category(f):
    """One row per 服务类别 that has figures in the range, in the dictionary's order."""
    select = (
        sa.select(
            ReportActivity.category_id,
            sa.func.coalesce(sa.func.sum(ReportActivity.activities), 0),
            sa.func.coalesce(sa.func.sum(ReportActivity.participants), 0),
            sa.func.coalesce(sa.func.sum(ReportActivity.served), 0),
        )
        .where(ReportActivity.counted.is_(True), ReportActivity.year == f.year, ReportActivity.month.between(f.month_from, f.month_to))
        .group_by(ReportActivity.category_id)
    )
    if f.city_code or f.institution_type_id:
        reports = _report_filters(sa.select(MonthlyReport.id).select_from(MonthlyReport), f)
        select = select.where(ReportActivity.report_id.in_(reports))
    sums = {row[0]: row[1:] for row in db.session.execute(select)}
    if not sums:
        return []
    names = db.session.execute(
        sa.select(DictItem.id, DictItem.name).where(DictItem.id.in_(sums)).order_by(DictItem.sort_order, DictItem.id)
    ).all()
    return [Row(cid, name, activities=int(sums[cid][0]), participants=int(sums[cid][1]), served=int(sums[cid][2])) for cid, name in names]


def top_institutions(f, measure="served", limit=10):
    """The institutions with the most 服务企业数 (``served``) or 服务活动数 (``activities``)."""
    column = {"served": MonthlyReport.served_total, "activities": MonthlyReport.activities_total}[measure]
    total = sa.func.sum(column).label("total")
    inner = (
        _report_filters(
            sa.select(Filing.institution_id.label("institution_id"), total, sa.func.sum(MonthlyReport.activities_total).label("a"),
                      sa.func.sum(MonthlyReport.served_total).label("s")).select_from(MonthlyReport),
            f,
        )
        .group_by(Filing.institution_id)
        .order_by(total.desc(), Filing.institution_id)
        .limit(limit)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(Institution.id, Institution.name, Institution.city_code, inner.c.a, inner.c.s)
        .join(inner, inner.c.institution_id == Institution.id)
        .order_by(inner.c.total.desc(), Institution.id)
    ).all()
    return [Row(i, name, activities=int(a or 0), served=int(s or 0), extra={"city": region_name(city)}) for i, name, city, a, s in rows]


def years_with_data():
    table = MonthlyReport.__table__
    return [y for (y,) in db.session.execute(sa.select(table.c.year).where(table.c.counted.is_(True)).distinct().order_by(table.c.year.desc()))]


def last_month_with_data(year):
    table = MonthlyReport.__table__
    return db.session.scalar(sa.select(sa.func.max(table.c.month)).where(table.c.counted.is_(True), table.c.year == year))


# ---- comparisons ------------------------------------------------------------------------------------

def change(current, previous):
    """Percentage change, or None when there is nothing to compare with."""
    if not previous:
        return None
    return round(float((Decimal(current) - Decimal(previous)) / Decimal(previous) * 100), 1)


@dataclass
class Comparison:
    label: str  # 环比 / 同比
    period: str
    base_period: str
    current: Totals
    base: Totals

    def pct(self, measure):
        return change(getattr(self.current, measure), getattr(self.base, measure))


def month_on_month(f):
    """The last month of the range against the month before it."""
    month = f.month_to
    year, prev = (f.year - 1, 12) if month == 1 else (f.year, month - 1)
    current_f = replace(f, month_from=month, month_to=month)
    base_f = replace(f, year=year, month_from=prev, month_to=prev)
    return Comparison("环比", current_f.label, base_f.label, totals(current_f), totals(base_f))


def year_on_year(f):
    """The range against the same months of the year before."""
    base_f = replace(f, year=f.year - 1)
    return Comparison("同比", f.label, base_f.label, totals(f), totals(base_f))


# ---- what the pages show ----------------------------------------------------------------------------

class Charts:
    """Server-side SVG of the breakdowns (``months``, ``cities``, ``categories`` on the object)."""

    def chart_months(self, chart_id="chart-months"):
        from app.blueprints.reports.charts import BLUE, ORANGE, column_chart

        return column_chart(
            chart_id, "各月服务活动数和服务企业数", [r.label for r in self.months],
            [("服务活动数(场次)", [r.activities for r in self.months], BLUE), ("服务企业数(家次)", [r.served for r in self.months], ORANGE)],
            unit="场次、家次",
        )

    def chart_cities(self, chart_id="chart-cities"):
        from app.blueprints.reports.charts import ORANGE, bar_chart

        return bar_chart(chart_id, "各市州服务企业数", [(r.label, r.served) for r in self.cities], unit="家次", colour=ORANGE)

    def chart_categories(self, chart_id="chart-categories"):
        from app.blueprints.reports.charts import bar_chart

        return bar_chart(chart_id, "各服务类别服务活动数", [(r.label, r.activities) for r in self.categories], unit="场次")


@dataclass
class Dashboard(Charts):
    filters: Filters
    totals: Totals
    months: list
    cities: list
    categories: list
    top_served: list = field(default_factory=list)
    top_activities: list = field(default_factory=list)
    mom: Comparison | None = None
    yoy: Comparison | None = None

    @property
    def empty(self):
        return self.totals.reports == 0


def dashboard(f):
    """The admin 调度大数据 for filters ``f``."""

    def compute():
        return Dashboard(
            f, totals(f), by_month(f), by_city(f), by_category(f),
            top_institutions(f, "served"), top_institutions(f, "activities"), month_on_month(f), year_on_year(f),
        )

    return cached(("dashboard", f), compute)


@dataclass
class PublicSummary(Charts):
    """The portal's 调度大数据: year-to-date aggregates only (no single institution's finances)."""

    year: int
    years: list
    totals: Totals | None = None
    months: list = field(default_factory=list)
    cities: list = field(default_factory=list)
    categories: list = field(default_factory=list)
    last_month: int | None = None
    template: str = "reports/_partials/_public_big_data.html"  # what the portal page includes

    @property
    def period(self):
        return f"{self.year}年1-{self.last_month}月" if self.last_month else None

    @property
    def revenue_public(self):
        return self.totals is not None and self.totals.institutions >= MIN_PUBLIC_INSTITUTIONS

    @property
    def stats(self):
        """(label, value, unit) tiles; empty when no report of the year is approved yet."""
        if not self.totals or not self.totals.reports:
            return []
        tiles = [
            ("报送机构数", f"{self.totals.institutions:,}", "家"),
            ("服务活动数", f"{self.totals.activities:,}", "场次"),
            ("参与企业数", f"{self.totals.participants:,}", "家"),
            ("服务企业数", f"{self.totals.served:,}", "家次"),
        ]
        if self.revenue_public:
            tiles.append(("营业收入", f"{self.totals.revenue:,.2f}", "万元"))
        return tiles


def public_summary(year=None):
    """Year-to-date figures for the portal; the latest year with data when ``year`` has none."""

    def compute():
        years = years_with_data()
        chosen = year if year in years else (years[0] if years and year is None else (year or local_today().year))
        summary = PublicSummary(year=chosen, years=years)
        last = last_month_with_data(chosen)
        if last is None:
            return summary
        f = Filters(chosen, 1, last)
        summary.last_month = last
        summary.totals = totals(f)
        summary.months = by_month(f)
        summary.cities = by_city(f)
        summary.categories = by_category(f)
        return summary

    return cached(("public", year), compute)
