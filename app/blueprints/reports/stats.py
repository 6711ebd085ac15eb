"""调度大数据: aggregates of approved monthly reports, as SQL GROUP BY queries.

Only approved reports count (``counted``); they are locked, so the figures change only when a
report is approved. The approval adds the report to three small rollup tables (per month, 市州
and 机构类型; per 服务类别; and per institution a year, one bit per month it reported), so the
dashboards GROUP BY a few hundred rows a year instead of every report and every category block,
and count distinct institutions over at most one row per institution a year; the top lists read
the reports through a covering index. ``stats_rebuild`` recomputes the rollups from the reports.

Results are also kept in the app's cache (Flask-Caching: per worker, or shared in Redis) until the
调度大数据 topic moves (app/cache.py ``by_topics``: an approval or a rebuild writes the rollups),
so a busy dashboard does not repeat even those queries: the 首页 and 调度大数据 are rendered for every
signed-in session (only anonymous pages are cached whole).
"""

from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cache, lru_cache
from operator import add

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from app.blueprints.auth.models import Institution
from app.blueprints.reports import snapshots
from app.blueprints.reports.charts import BLUE, ORANGE, bar_chart, column_chart
from app.blueprints.reports.models import (
    MonthlyReport,
    ReportActivity,
    ReportCategoryStat,
    ReportInstitutionStat,
    ReportMonthStat,
)
from app.cache import BIG_DATA, REFERENCE, by_topics, token_memo
from app.extensions import db
from app.filings.models import Filing
from app.reference.services import cities, dict_item, dict_items_all, region_name
from app.utils import local_today

# The dashboards' statements depend only on the filters (a frozen ``Filters``) and plain values, so
# each is built once per process and kept (SQL expressions are immutable): a statement built afresh
# in each request cost SQLAlchemy more to build and key than SQLite took to run it (调度数据统计 has
# nine). At most STATEMENTS_KEPT of each, the least recently used dropped.
STATEMENTS_KEPT = 256
kept = lru_cache(maxsize=STATEMENTS_KEPT)

MIN_PUBLIC_INSTITUTIONS = 3  # money totals of fewer institutions would reveal one institution's finances
REPORTS = MonthlyReport.__table__  # the subclass table alone: no join with filing


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


def filters_named(f):
    """The filters as the page and its export name them: [(统计期, 2025年1-2月), (市州, 全省), (机构类型, 全部)]."""
    chosen_type = dict_item("institution_type", f.institution_type_id)
    type_name = chosen_type.name if chosen_type else "全部"
    return [("统计期", f.label), ("市州", region_name(f.city_code) or "全省"), ("机构类型", type_name)]


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


# ---- keeping the rollups ------------------------------------------------------------------------


def _upsert(model, keys, rows, combine=None):
    """Add each row's measures to the stored row with its ``keys`` (``combine``: {measure:
    callable(stored, new)} for those combined otherwise), all rows in one INSERT ... ON CONFLICT
    DO UPDATE: safe when two approvals of the same month and 市州 run at once. No two ``rows`` may
    share their keys."""
    combine = combine or {}
    if not rows:
        return
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(model).values(rows)
    measures = [name for name in rows[0] if name not in keys]
    statement = statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: combine.get(name, add)(getattr(model, name), statement.excluded[name]) for name in measures},
    )
    db.session.execute(statement)


def _key(report):
    return {
        "year": report.year,
        "month": report.month,
        "city_code": report.stats_city_code or report.city_code or "",
        "institution_type_id": report.institution_type_id or 0,
    }


def month_bit(month):
    """The bit of a month in ``ReportInstitutionStat.months``."""
    return 1 << (month - 1)


def months_mask(months):
    return sum(month_bit(month) for month in months)


def stats_add(report):
    """Count an approved report in the rollups (in the approval's transaction)."""
    key = _key(report)
    who = {
        "year": key["year"],
        "city_code": key["city_code"],
        "institution_type_id": key["institution_type_id"],
        "institution_id": report.stats_institution_id or report.institution_id,
    }
    _upsert(
        ReportInstitutionStat,
        who,
        [
            {
                **who,
                "months": month_bit(report.month),
                "served": report.served_total or 0,
                "activities": report.activities_total or 0,
            }
        ],
        combine={"months": lambda stored, new: stored.bitwise_or(new)},
    )
    _upsert(
        ReportMonthStat,
        key,
        [
            {
                **key,
                "reports": 1,
                "activities": report.activities_total or 0,
                "participants": report.participants_total or 0,
                "served": report.served_total or 0,
                "revenue": report.revenue or 0,
                "expense": report.service_expense or 0,
                "profit": report.profit or 0,
            }
        ],
    )
    # one row per 服务类别 block (unique on the report), in one statement; in category order, so
    # two approvals at once lock the rows they share in the same order (PostgreSQL: no deadlock)
    _upsert(
        ReportCategoryStat,
        [*key, "category_id"],
        [
            {
                **key,
                "category_id": row.category_id,
                "activities": row.activities or 0,
                "participants": row.participants or 0,
                "served": row.served or 0,
            }
            for row in sorted(report.activities, key=lambda row: row.category_id)
        ],
    )


def stats_rebuild():
    """Recompute both rollups (and the reports' copied 市州/机构) from the approved reports. Commits."""
    filing = Filing.__table__
    for column, source in (
        (REPORTS.c.stats_city_code, filing.c.city_code),
        (REPORTS.c.stats_institution_id, filing.c.institution_id),
    ):
        db.session.execute(
            sa.update(REPORTS)
            .where(column.is_(None))
            .values({column.name: sa.select(source).where(filing.c.id == REPORTS.c.id).scalar_subquery()})
        )
    db.session.execute(sa.delete(ReportMonthStat))
    db.session.execute(sa.delete(ReportCategoryStat))
    db.session.execute(sa.delete(ReportInstitutionStat))
    keys = (
        REPORTS.c.year,
        REPORTS.c.month,
        sa.func.coalesce(REPORTS.c.stats_city_code, ""),
        sa.func.coalesce(REPORTS.c.institution_type_id, 0),
    )
    db.session.execute(
        sa.insert(ReportMonthStat).from_select(
            [
                "year",
                "month",
                "city_code",
                "institution_type_id",
                "reports",
                "activities",
                "participants",
                "served",
                "revenue",
                "expense",
                "profit",
            ],
            sa.select(
                *keys,
                sa.func.count(),
                sa.func.sum(REPORTS.c.activities_total),
                sa.func.sum(REPORTS.c.participants_total),
                sa.func.sum(REPORTS.c.served_total),
                sa.func.coalesce(sa.func.sum(REPORTS.c.revenue), 0),
                sa.func.coalesce(sa.func.sum(REPORTS.c.service_expense), 0),
                sa.func.coalesce(sa.func.sum(REPORTS.c.profit), 0),
            )
            .where(REPORTS.c.counted.is_(True))
            .group_by(*keys),
        )
    )
    # one report per institution and month, so the sum of the distinct bits is their OR
    bit = sa.literal(1).bitwise_lshift(REPORTS.c.month - 1)
    db.session.execute(
        sa.insert(ReportInstitutionStat).from_select(
            ["year", "city_code", "institution_type_id", "institution_id", "months", "served", "activities"],
            sa.select(
                REPORTS.c.year,
                keys[2],
                keys[3],
                REPORTS.c.stats_institution_id,
                sa.func.sum(sa.distinct(bit)),
                sa.func.coalesce(sa.func.sum(REPORTS.c.served_total), 0),
                sa.func.coalesce(sa.func.sum(REPORTS.c.activities_total), 0),
            )
            .where(REPORTS.c.counted.is_(True), REPORTS.c.stats_institution_id.is_not(None))
            .group_by(REPORTS.c.year, keys[2], keys[3], REPORTS.c.stats_institution_id),
        )
    )
    activity = ReportActivity.__table__
    db.session.execute(
        sa.insert(ReportCategoryStat).from_select(
            [
                "year",
                "month",
                "city_code",
                "institution_type_id",
                "category_id",
                "activities",
                "participants",
                "served",
            ],
            sa.select(
                *keys,
                activity.c.category_id,
                sa.func.coalesce(sa.func.sum(activity.c.activities), 0),
                sa.func.coalesce(sa.func.sum(activity.c.participants), 0),
                sa.func.coalesce(sa.func.sum(activity.c.served), 0),
            )
            .select_from(activity.join(REPORTS, REPORTS.c.id == activity.c.report_id))
            .where(REPORTS.c.counted.is_(True))
            .group_by(*keys, activity.c.category_id),
        )
    )
    db.session.commit()


# ---- cache --------------------------------------------------------------------------------------


def cached(key, compute):
    """``compute()``, reused until a report is approved or the rollups are rebuilt (both write the
    rollup tables, so the 调度大数据 topic moves: app/cache.py), and for at most the TTL."""
    ttl = current_app.config.get("REPORT_STATS_CACHE_SECONDS", 300)
    if not ttl:
        return compute()
    # the day too: whether a month is still open for reporting turns on the date
    return by_topics((BIG_DATA, REFERENCE), ("report-stats", key, local_today()), compute, timeout=ttl)


# ---- the queries ----------------------------------------------------------------------------------


def _where(model, f):
    """Filters on a rollup table (a model class) or on the reports table (``REPORTS``)."""
    reports = model is REPORTS
    columns = model.c if reports else model
    criteria = [columns.year == f.year, columns.month.between(f.month_from, f.month_to)]
    if reports:
        criteria.append(columns.counted.is_(True))
    if f.city_code:
        criteria.append((columns.stats_city_code if reports else columns.city_code) == f.city_code)
    if f.institution_type_id:
        criteria.append(columns.institution_type_id == f.institution_type_id)
    return criteria


def _money(value):
    return Decimal(value or 0).quantize(Decimal("0.01"))


def _sums(model=ReportMonthStat):
    return (
        sa.func.coalesce(sa.func.sum(model.reports), 0),
        sa.func.coalesce(sa.func.sum(model.activities), 0),
        sa.func.coalesce(sa.func.sum(model.participants), 0),
        sa.func.coalesce(sa.func.sum(model.served), 0),
        sa.func.coalesce(sa.func.sum(model.revenue), 0),
        sa.func.coalesce(sa.func.sum(model.expense), 0),
        sa.func.coalesce(sa.func.sum(model.profit), 0),
    )


def _institution_rows(f):
    """Criteria on the institution rollup: the rows of ``f``'s year, 市州 and 机构类型 with a bit of
    the range's months set (an institution that moved 市州 or 机构类型 has a row for each)."""
    table = ReportInstitutionStat
    criteria = [table.year == f.year, table.months.bitwise_and(months_mask(f.months)) != 0]
    if f.city_code:
        criteria.append(table.city_code == f.city_code)
    if f.institution_type_id:
        criteria.append(table.institution_type_id == f.institution_type_id)
    return criteria


def _institutions(f, by_city=False):
    """Distinct reporting institutions (in the range; per 市州 when ``by_city``)."""
    if by_city:
        return dict(db.session.execute(_institutions_select(f, True)).all())
    return db.session.scalar(_institutions_select(f, False)) or 0


@kept
def _institutions_select(f, by_city):
    table = ReportInstitutionStat
    count = sa.func.count(sa.distinct(table.institution_id))
    if by_city:
        return sa.select(table.city_code, count).where(*_institution_rows(f)).group_by(table.city_code)
    return sa.select(count).where(*_institution_rows(f))


class MonthSums:
    """The month rollup's sums per (year, month) within the filters' 市州 and 机构类型, for all
    months of ``years``, in one GROUP BY. The totals, the months, 环比 and 同比 are all read from
    one of these: the admin 调度大数据 reads it once for the four."""

    ZERO = (0, 0, 0, 0, 0, 0, 0)

    def __init__(self, f, years):
        self.rows = {
            (year, month): tuple(sums)
            for year, month, *sums in db.session.execute(
                self.select(tuple(sorted(set(years))), f.city_code, f.institution_type_id)
            )
        }

    @staticmethod
    @kept
    def select(years, city_code, institution_type_id):
        scope = [ReportMonthStat.year.in_(years)]
        if city_code:
            scope.append(ReportMonthStat.city_code == city_code)
        if institution_type_id:
            scope.append(ReportMonthStat.institution_type_id == institution_type_id)
        return (
            sa.select(ReportMonthStat.year, ReportMonthStat.month, *_sums())
            .where(*scope)
            .group_by(ReportMonthStat.year, ReportMonthStat.month)
        )

    def month(self, year, month):
        return self.rows.get((year, month), self.ZERO)

    def over(self, year, months):
        """(reports, activities, participants, served, revenue, expense, profit) over ``months``."""
        found = [self.rows[(year, m)] for m in months if (year, m) in self.rows]
        return tuple(sum(values) for values in zip(*found)) if found else self.ZERO


def totals(f, institutions=True, sums=None):
    """Totals of the approved reports matching ``f`` (without the distinct institutions when not
    needed; in a single month they are the reports: one per institution and month). ``sums``: a
    MonthSums holding ``f``'s year, when the caller has read one."""
    sums = sums or MonthSums(f, (f.year,))
    reports, activities, participants, served, revenue, expense, profit = sums.over(f.year, f.months)
    if not reports or not institutions:
        count = 0
    elif f.month_from == f.month_to:
        count = reports
    else:
        count = _institutions(f)
    return Totals(
        int(count),
        int(reports),
        int(activities),
        int(participants),
        int(served),
        _money(revenue),
        _money(expense),
        _money(profit),
    )


def by_month(f, sums=None):
    """One row per month of the range (months without data are zero rows); one report per
    institution and month, so a month's institutions are its reports."""
    sums = sums or MonthSums(f, (f.year,))
    result = []
    for month in f.months:
        reports, activities, participants, served, revenue, _e, _p = sums.month(f.year, month)
        result.append(
            Row(month, f"{month}月", int(reports), int(activities), int(participants), int(served), _money(revenue))
        )
    return result


def by_city(f):
    """One row per 市州 (every 市州, in the official order; zero rows included)."""
    found = {row[0]: row[1:] for row in db.session.execute(_by_city_select(f))}
    institutions = _institutions(f, by_city=True) if found else {}
    result = []
    for city in cities():
        if f.city_code and city.code != f.city_code:
            continue
        _r, activities, participants, served, revenue, _e, _p = found.get(city.code, (0, 0, 0, 0, 0, 0, 0))
        result.append(
            Row(
                city.code,
                city.name,
                int(institutions.get(city.code, 0)),
                int(activities),
                int(participants),
                int(served),
                _money(revenue),
            )
        )
    return result


@kept
def _by_city_select(f):
    return (
        sa.select(ReportMonthStat.city_code, *_sums())
        .where(*_where(ReportMonthStat, f))
        .group_by(ReportMonthStat.city_code)
    )


def by_category(f):
    """One row per 服务类别 with figures in the range, in the dictionary's order (zeros kept)."""
    sums = {row[0]: row[1:] for row in db.session.execute(_by_category_select(f))}
    if not sums:
        return []
    # in the list's order, retired entries too (an old report may use one): from the reference copy
    names = [(item.id, item.name) for item in dict_items_all("service_category") if item.id in sums]
    return [
        Row(
            cid,
            name,
            activities=int(sums[cid][0] or 0),
            participants=int(sums[cid][1] or 0),
            served=int(sums[cid][2] or 0),
        )
        for cid, name in names
    ]


@kept
def _by_category_select(f):
    return (
        sa.select(
            ReportCategoryStat.category_id,
            sa.func.sum(ReportCategoryStat.activities),
            sa.func.sum(ReportCategoryStat.participants),
            sa.func.sum(ReportCategoryStat.served),
        )
        .where(*_where(ReportCategoryStat, f))
        .group_by(ReportCategoryStat.category_id)
    )


def _institution_sums(f, rollup):
    """(institution_id, served, activities) per institution within ``f``, as a subquery: from the
    institution rollup when ``rollup`` (``_whole_year``), else from the range's reports."""
    if rollup:
        table = ReportInstitutionStat
        criteria = _institution_rows(f)
        who, served, activities = table.institution_id, table.served, table.activities
    else:
        criteria = _where(REPORTS, f)
        who, served, activities = REPORTS.c.stats_institution_id, REPORTS.c.served_total, REPORTS.c.activities_total
    return (
        sa.select(
            who.label("institution_id"),
            sa.func.coalesce(sa.func.sum(served), 0).label("served"),
            sa.func.coalesce(sa.func.sum(activities), 0).label("activities"),
        )
        .where(*criteria, who.is_not(None))
        .group_by(who)
        .subquery("sums")
    )


def _whole_year(f):
    """Whether ``f``'s range holds every month of its year with data (the page's default; an
    institution's months in the rollup are among those), so the institution rollup's sums serve."""
    last = last_month_with_data(f.year)
    return f.month_from == 1 and (last is None or f.month_to >= last)


TOP_FIGURES = {"served": ("served", "activities"), "activities": ("activities", "served")}  # the figure, then ties


@kept
def _top_lists_select(f, limit, rollup):
    sums = _institution_sums(f, rollup)
    parts = []
    for measure, (first, second) in TOP_FIGURES.items():
        order = (sums.c[first].desc(), sums.c[second].desc(), sums.c.institution_id)
        top = sa.select(sums).order_by(*order).limit(limit).subquery(f"top_{measure}")
        parts.append(
            sa.select(sa.literal(measure).label("measure"), top, Institution.name, Institution.city_code).join(
                Institution, Institution.id == top.c.institution_id
            )
        )
    return sa.union_all(*parts)


def top_lists(f, limit=10):
    """{"served": [...], "activities": [...]}: the institutions with the most 服务企业数 and with the
    most 服务活动数 (ties by the other figure, then the institution). One statement: for each
    order, the figures summed per institution, sorted and cut at ``limit`` (a sort that keeps
    only the first ten, not a place for all 2,000), with the names, the two as one UNION ALL."""
    figures = TOP_FIGURES
    rows = db.session.execute(_top_lists_select(f, limit, _whole_year(f))).all()
    return {
        measure: [
            Row(
                r.institution_id,
                r.name,
                activities=int(r.activities),
                served=int(r.served),
                extra={"city": region_name(r.city_code)},
            )
            for r in sorted(
                (r for r in rows if r.measure == measure),
                key=lambda r: (-getattr(r, first), -getattr(r, second), r.institution_id),
            )
        ]
        for measure, (first, second) in figures.items()
    }


def top_institutions(f, measure="served", limit=10):
    """The institutions with the most 服务企业数 (``served``) or 服务活动数 (``activities``)."""
    return top_lists(f, limit)[measure]


def months_with_data():
    """{year: the last month with approved data}, the latest year first: one statement, kept in the
    request's memo (app/cache.py ``token_memo``, emptied by a commit) for the 调度数据统计 filters
    and the portal's summary, which ask for both."""
    memo = token_memo()
    if memo is not None and "months_with_data" in memo:
        return memo["months_with_data"]
    found = dict(db.session.execute(_months_with_data_select()).all())
    if memo is not None:
        memo["months_with_data"] = found
    return found


@cache
def _months_with_data_select():
    return (
        sa.select(ReportMonthStat.year, sa.func.max(ReportMonthStat.month))
        .group_by(ReportMonthStat.year)
        .order_by(ReportMonthStat.year.desc())
    )


def years_with_data():
    return list(months_with_data())


def last_month_with_data(year):
    return months_with_data().get(year)


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
    pending: str | None = None  # why there is no comparison yet (a month still open for reporting)

    def pct(self, measure):
        if self.pending:
            return None
        return change(getattr(self.current, measure), getattr(self.base, measure))


def open_months(year, months, today=None):
    """Those of ``months`` of ``year`` whose reporting has not closed (``snapshots.open_months``: the
    one close rule). Their figures can still grow, so they are not compared (an open month against a
    closed one would show a fall that is only missing reports)."""
    return [month for month, _why in snapshots.open_months(year, months, today)]


def month_on_month(f, sums=None, open_this_year=None):
    """The last month of the range against the month before it; none while either is still open.
    ``sums``: a MonthSums of ``f``'s year and the one before; ``open_this_year``: the months of
    ``f``'s year still open (``open_months``); both read here unless the caller has them."""
    month = f.month_to
    year, prev = (f.year - 1, 12) if month == 1 else (f.year, month - 1)
    current_f = replace(f, month_from=month, month_to=month)
    base_f = replace(f, year=year, month_from=prev, month_to=prev)
    sums = sums or MonthSums(f, (f.year, year))
    if open_this_year is None:
        open_this_year = set(open_months(f.year, range(1, 13)))
    pending = None
    if month in open_this_year:
        pending = f"{f.year}年{month}月尚未截止"
    elif (prev in open_this_year) if year == f.year else open_months(year, [prev]):  # January: last December
        pending = f"{year}年{prev}月尚未截止"
    return Comparison(
        "环比",
        current_f.label,
        base_f.label,
        totals(current_f, False, sums),
        totals(base_f, False, sums),
        pending=pending,
    )


def year_on_year(f, sums=None, open_this_year=None):
    """The range against the same months of the year before; none while a month of it is open
    (``sums`` and ``open_this_year`` as for ``month_on_month``)."""
    base_f = replace(f, year=f.year - 1)
    sums = sums or MonthSums(f, (f.year, f.year - 1))
    if open_this_year is None:
        open_this_year = set(open_months(f.year, range(1, 13)))
    still_open = [m for m in f.months if m in open_this_year]
    pending = f"{f.year}年{'、'.join(f'{m}月' for m in still_open)}尚未截止" if still_open else None
    return Comparison(
        "同比", f.label, base_f.label, totals(f, False, sums), totals(base_f, False, sums), pending=pending
    )


# ---- what the pages show ----------------------------------------------------------------------------


class Charts:
    """Server-side SVG of the breakdowns (``months``, ``cities``, ``categories`` on the object)."""

    def chart_months(self, chart_id="chart-months"):
        return column_chart(
            chart_id,
            "各月服务活动数和服务企业数",
            [r.label for r in self.months],
            [
                ("服务活动数(场次)", [r.activities for r in self.months], BLUE),
                ("服务企业数(家次)", [r.served for r in self.months], ORANGE),
            ],
            unit="场次、家次",
        )

    def chart_cities(self, chart_id="chart-cities"):
        return bar_chart(
            chart_id, "各市州服务企业数", [(r.label, r.served) for r in self.cities], unit="家次", colour=ORANGE
        )

    def chart_categories(self, chart_id="chart-categories"):
        return bar_chart(
            chart_id, "各服务类别服务活动数", [(r.label, r.activities) for r in self.categories], unit="场次"
        )


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
        # the rollup's months of this year and the last once, for the totals, the months, 环比
        # and 同比; which months are still open, once
        sums = MonthSums(f, (f.year, f.year - 1))
        open_this_year = set(open_months(f.year, range(1, 13)))
        tops = top_lists(f)
        return Dashboard(
            f,
            totals(f, sums=sums),
            by_month(f, sums),
            by_city(f),
            by_category(f),
            tops["served"],
            tops["activities"],
            month_on_month(f, sums, open_this_year),
            year_on_year(f, sums, open_this_year),
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


def public_summary(year=None, headline=False):
    """Year-to-date figures for the portal; the latest year with data when ``year`` has none.
    ``headline``: the totals and the period only (the 首页's tiles), without the breakdowns by
    month, 市州 and 服务类别 that only the 调度大数据 page shows (three statements fewer)."""

    def compute():
        years = years_with_data()
        chosen = year if year in years else (years[0] if years and year is None else (year or local_today().year))
        summary = PublicSummary(year=chosen, years=years)
        last = last_month_with_data(chosen)
        if last is None:
            return summary
        f = Filters(chosen, 1, last)
        sums = MonthSums(f, (chosen,))  # one read for the totals and the months
        summary.last_month = last
        summary.totals = totals(f, sums=sums)
        if not headline:
            summary.months = by_month(f, sums=sums)
            summary.cities = by_city(f)
            summary.categories = by_category(f)
        return summary

    return cached(("public-headline" if headline else "public", year), compute)
