"""报送情况: for one 调度期, expected vs received reports by 市州, who has not reported, reminders.

"Expected" (应报) are the institutions recognised during the period's month and with an account by
its end (applications.services ``institution_expected``: a recognition made later never reaches
back); "received" are their reports that are not drafts (submitted at least once and not
withdrawn); on time means first submitted by the deadline. A city admin sees its own 市州 only.

A closed period (snapshots.py) reads its frozen snapshot, so its figures and its missing list never
move; an open one is counted live. The missing list shows each institution's last reminder (催报
itself: ``reminders``), can be filtered (市州, 机构类型, 填报状态) and exported with the same filters
(导出未报送名单).
"""

import tempfile
from collections import namedtuple
from dataclasses import dataclass
from functools import lru_cache

import sqlalchemy as sa
from flask import send_file

from app.blueprints.applications.services import institution_expected
from app.blueprints.auth.models import Institution
from app.blueprints.reports import snapshots
from app.blueprints.reports.models import (
    REOPEN_GRANTED,
    REOPEN_PENDING,
    MonthlyReport,
    PeriodSnapshotRow,
    ReportReminder,
    ReportReopenRequest,
)
from app.extensions import db
from app.filings import workflow
from app.filings.export import XLSX
from app.filings.models import Filing
from app.filings.services import reviewer_of
from app.reference.services import cities, dict_items, region_name
from app.spreadsheets import xlsx_workbook, xlsxwriter_row
from app.utils import format_date, format_datetime, local_today, paginate


@dataclass
class CityRow:
    code: str | None
    name: str
    expected: int = 0
    received: int = 0
    late: int = 0

    @property
    def on_time(self):
        return self.received - self.late

    @property
    def missing(self):
        return max(0, self.expected - self.received)

    @property
    def received_rate(self):
        return round(100 * self.received / self.expected, 1) if self.expected else None

    @property
    def on_time_rate(self):
        return round(100 * self.on_time / self.expected, 1) if self.expected else None


REPORT_KIND = sa.inspect(MonthlyReport).polymorphic_identity  # the filing table's kind of a report
LOOKUP = object()  # "find the period's snapshot yourself" (callers that have it pass it, or None)

STATES = {"none": "未填报", "draft": "草稿未提交"}  # the 填报状态 filter of the missing list

# What the page's statements read of a Round (and of the user: the engine's ``Reviewer``): plain
# values, so a statement built for them can be kept per process and shared (SQL expressions are
# immutable) instead of built afresh in each request (~0.2 ms for the missing list's, which the
# page builds twice).
Period = namedtuple("Period", "id year month")
STATEMENTS_KEPT = 256


def period_key(round):
    return Period(round.id, round.year, round.month)


@dataclass(frozen=True)
class MissingFilters:
    """The missing list's filters as on screen; the export reads the same ones."""

    city_code: str | None = None
    institution_type_id: int | None = None
    state: str | None = None

    def label(self, user):
        """For the file name: 全省 / the 市州, then the other filters."""
        place = user.city.name if user.role == "city_admin" and user.city else region_name(self.city_code) or "全省"
        parts = [place]
        if self.institution_type_id:
            parts.append(next((t.name for t in dict_items("institution_type") if t.id == self.institution_type_id), ""))
        if self.state in STATES:
            parts.append(STATES[self.state])
        return "_".join(p for p in parts if p)


def _filters(filters, city_code):
    if filters is None:
        return MissingFilters(city_code=city_code)
    return filters


def period_snapshot(round, closure=None):
    """The snapshot this period is read from (None while open): snapshots.snapshot_for."""
    return snapshots.snapshot_for(round, closure=closure)


def period_closure(round):
    """Whether the period has closed, or why it is open (snapshots.period_closure)."""
    return snapshots.period_closure(round)


def remindable_count(round, user, filters, shown, snapshot):
    """How many 发送提醒 would reach: every institution missing now in the admin's 市州 (reminders
    ignore the 机构类型 and 填报状态 filters, and go by who is missing now, not by a frozen list);
    ``shown`` (the list's total) when that is the same list."""
    if snapshot is None and not filters.institution_type_id and not filters.state:
        return shown
    select = missing_select(round, user, filters.city_code).with_only_columns(sa.func.count(Institution.id))
    return db.session.scalar(select.order_by(None))


def _frozen(round, snapshot):
    return period_snapshot(round) if snapshot is LOOKUP else snapshot


def _expected(round):
    return institution_expected(round.year, round.month)


def in_scope(select, user):
    if user.role == "city_admin":
        return select.where(Institution.city_code == user.city_code)
    if user.role == "province_admin":
        return select
    return select.where(sa.false())


def _row_scope(select, user):
    """``in_scope`` for a snapshot's rows: the 市州 they had when the period froze."""
    if user.role == "city_admin":
        return select.where(PeriodSnapshotRow.city_code == user.city_code)
    if user.role == "province_admin":
        return select
    return select.where(sa.false())


def _received(round):
    """The period's reports that reached the reviewers (not drafts), on the filing table's columns."""
    return sa.and_(Filing.round_id == round.id, Filing.status != workflow.DRAFT)


def _institutions_with_report(round, status=None):
    """SQL: the ids of the institutions with a report in the period (``status``: a condition on
    ``Filing.status`` such as ``_received``'s). Read from the filing table alone: the same subquery
    over the report's two tables made PostgreSQL scan all 72,000 monthly_report rows each time."""
    return sa.select(Filing.institution_id).where(
        Filing.kind == REPORT_KIND,
        Filing.round_id == round.id,
        sa.true() if status is None else status,
        Filing.institution_id.is_not(None),
    )


def _by_city(user, expected, received):
    rows = []
    for city in cities():
        if user.role == "city_admin" and city.code != user.city_code:
            continue
        count, late = received.get(city.code, (0, 0))
        rows.append(CityRow(city.code, city.name, int(expected.get(city.code, 0)), int(count), int(late)))
    overall = CityRow(
        None, "合计", sum(r.expected for r in rows), sum(r.received for r in rows), sum(r.late for r in rows)
    )
    return rows, overall


def completeness(*, round, user, snapshot=LOOKUP):
    """(rows by 市州, overall row) for the period, within the user's scope: from its snapshot once
    it has closed, else counted now."""
    snapshot = _frozen(round, snapshot)
    if snapshot is not None:
        return _by_city(user, *snapshot_counts([snapshot.id], user))
    found = db.session.execute(_counts_select(period_key(round), reviewer_of(user))).all()
    expected = {code: count for code, count, _received_count, _late in found}
    received = {code: (count, late) for code, _expected_count, count, late in found}
    return _by_city(user, expected, received)


@lru_cache(maxsize=STATEMENTS_KEPT)
def _counts_select(round, user):
    """应报 and 已报 by 市州 in one query: each expected institution with its received report, if any
    (one report per institution and month), the period's received reports read once as a derived
    table. Kept per period and scope (``Period``, ``Reviewer``)."""
    reports = (
        sa.select(MonthlyReport.institution_id, MonthlyReport.late)
        .where(_received(round), MonthlyReport.institution_id.is_not(None))
        .subquery()
    )
    return in_scope(
        sa.select(
            Institution.city_code,
            sa.func.count(Institution.id),
            sa.func.count(reports.c.institution_id),
            sa.func.coalesce(sa.func.sum(sa.case((reports.c.late.is_(True), 1), else_=0)), 0),
        )
        .outerjoin(reports, reports.c.institution_id == Institution.id)
        .where(_expected(round)),
        user,
    ).group_by(Institution.city_code)


def snapshot_counts(snapshot_ids, user):
    """({市州: 应报}, {市州: (已报, 逾期)}) summed over snapshots, within the user's scope (one query)."""
    row = PeriodSnapshotRow
    found = db.session.execute(
        _row_scope(
            sa.select(
                row.city_code,
                sa.func.count(),
                sa.func.coalesce(sa.func.sum(sa.case((row.received.is_(True), 1), else_=0)), 0),
                sa.func.coalesce(sa.func.sum(sa.case((row.late.is_(True), 1), else_=0)), 0),
            ).where(row.snapshot_id.in_(snapshot_ids), row.expected.is_(True)),
            user,
        ).group_by(row.city_code)
    ).all()
    return {c: n for c, n, _r, _l in found}, {c: (r, late) for c, _n, r, late in found}


def missing_select(round, user, city_code=None, *, filters=None):
    """Institutions 应报 now for the period that have not reported (live; a closed period's list is
    ``frozen_missing_select``)."""
    return _missing_select(period_key(round), reviewer_of(user), _filters(filters, city_code))


@lru_cache(maxsize=STATEMENTS_KEPT)
def _missing_select(round, user, filters):
    # NOT IN over the period's reports (computed once), not a correlated NOT EXISTS: with 2,000
    # institutions the correlated form scanned the period's 2,000 filings per institution (1.2 s).
    reported = _institutions_with_report(round, _received(round))
    select = in_scope(sa.select(Institution).where(_expected(round), Institution.id.not_in(reported)), user)
    if filters.city_code and user.role == "province_admin":
        select = select.where(Institution.city_code == filters.city_code)
    if filters.institution_type_id:
        select = select.where(Institution.institution_type_id == filters.institution_type_id)
    if filters.state in STATES:
        has_draft = Institution.id.in_(_institutions_with_report(round, Filing.status == workflow.DRAFT))
        select = select.where(has_draft if filters.state == "draft" else ~has_draft)
    return select


def frozen_missing_select(snapshot, user, filters):
    """Institutions that had not reported when the period froze (joined to their snapshot row)."""
    row = PeriodSnapshotRow
    select = _row_scope(
        sa.select(Institution)
        .join(row, row.institution_id == Institution.id)
        .where(row.snapshot_id == snapshot.id, row.expected.is_(True), row.received.is_(False)),
        user,
    )
    if filters.city_code and user.role == "province_admin":
        select = select.where(row.city_code == filters.city_code)
    if filters.institution_type_id:
        select = select.where(row.institution_type_id == filters.institution_type_id)
    if filters.state in STATES:
        select = select.where(row.has_draft.is_(filters.state == "draft"))
    return select.order_by(row.city_code, row.name, Institution.id)


@dataclass
class MissingRow:
    """One institution that has not reported: its draft, its 补报 request and its last reminder."""

    institution: Institution
    has_draft: bool
    reopen: ReportReopenRequest | None
    reminder: ReportReminder | None

    @property
    def state_label(self):
        return "草稿未提交" if self.has_draft else "未填报"

    @property
    def reminder_label(self):
        return reminder_label(self.reminder)


def reminder_label(reminder):
    """上次提醒 as shown: "2026-12-08 09:30（省级）", or 未提醒."""
    if reminder is None:
        return "未提醒"
    return f"{format_datetime(reminder.last_sent_at)}（{reminder.level_label}）"


def _with_state(select, round, has_draft):
    """``select`` (of institutions) with each one's draft flag, latest 补报 request and reminder
    for the period read beside it, so a page of the missing list is one query."""
    latest = (
        sa.select(ReportReopenRequest.institution_id, sa.func.max(ReportReopenRequest.id).label("id"))
        .where(ReportReopenRequest.round_id == round.id)
        .group_by(ReportReopenRequest.institution_id)
        .subquery()
    )
    return (
        select.add_columns(has_draft.label("has_draft"), ReportReopenRequest, ReportReminder)
        .outerjoin(latest, latest.c.institution_id == Institution.id)
        .outerjoin(ReportReopenRequest, ReportReopenRequest.id == latest.c.id)
        .outerjoin(
            ReportReminder,
            sa.and_(ReportReminder.round_id == round.id, ReportReminder.institution_id == Institution.id),
        )
    )


def _rows(found):
    return [MissingRow(i, bool(has_draft), reopen, reminder) for i, has_draft, reopen, reminder in found]


def _missing(round, user, filters, snapshot, page=None, total=None):
    """The missing list (one page of it, or all), as ``MissingRow`` items."""
    snapshot = _frozen(round, snapshot)
    if snapshot is not None:
        # a frozen period's drafts are as they were when it froze
        select = _with_state(frozen_missing_select(snapshot, user, filters), round, PeriodSnapshotRow.has_draft)
    else:
        select = _live_missing_select(period_key(round), reviewer_of(user), filters)
    if page is None:
        return _rows(db.session.execute(select).all())
    result = paginate(select, page=page, per_page=30, rows=True, total=total)
    result.items = _rows(result.items)
    return result


@lru_cache(maxsize=STATEMENTS_KEPT)
def _live_missing_select(round, user, filters):
    """An open period's missing list in its order, with each one's state (kept per period, scope
    and filters): a missing institution's report for the period, if it has one, is a draft."""
    drafts = _institutions_with_report(round)
    return _with_state(
        missing_select(round, user, filters=filters).order_by(Institution.city_code, Institution.name, Institution.id),
        round,
        Institution.id.in_(drafts),
    )


def missing_institutions(*, round, user, city_code=None, page=1, filters=None, snapshot=LOOKUP, counted=None):
    """One page of the institutions that have not reported (``MissingRow`` items). ``counted``: the
    page's rows by 市州 from ``completeness`` (same period, user and snapshot), whose 未报 figures
    are the list's length when it is filtered by 市州 alone (then no count query)."""
    filters = _filters(filters, city_code)
    total = None
    if counted is not None and not filters.institution_type_id and not filters.state:
        rows, overall = counted
        total = (
            next((r.missing for r in rows if r.code == filters.city_code), 0) if filters.city_code else overall.missing
        )
    return _missing(round, user, filters, snapshot, page=page, total=total)


# ---- 导出未报送名单 ------------------------------------------------------------------------------------

MISSING_HEADERS = ("序号", "市州", "机构名称", "统一社会信用代码", "联系人", "联系电话", "草稿/补报状态", "上次提醒")


def missing_export(*, round, user, city_code=None, filters=None, snapshot=LOOKUP):
    """导出未报送名单: every institution of the period that has not reported, with the page's filters
    (市州, 机构类型, 填报状态), as .xlsx; a closed period's as it froze."""
    filters = _filters(filters, city_code)
    rows = _missing(round, user, filters, snapshot)
    out = tempfile.TemporaryFile()
    workbook = xlsx_workbook(out)
    sheet = workbook.add_worksheet("未报送机构")
    xlsxwriter_row(sheet, 0, MISSING_HEADERS)
    for number, row in enumerate(rows, start=1):
        institution = row.institution
        state = "；".join(part for part in (row.state_label, reopen_state(row.reopen)) if part)
        xlsxwriter_row(
            sheet,
            number,
            [
                number,
                region_name(institution.city_code),
                institution.name,
                institution.uscc,
                institution.contact,
                institution.phone,
                state,
                row.reminder_label,
            ],
        )
    sheet.set_column(1, 1, 10)
    sheet.set_column(2, 2, 36)
    sheet.set_column(3, 3, 22)
    sheet.set_column(4, 5, 14)
    sheet.set_column(6, 7, 24)
    workbook.close()
    out.seek(0)
    name = f"未报送机构名单_{round.year}年{round.month}月_{filters.label(user)}_{format_date(local_today())}.xlsx"
    return send_file(out, mimetype=XLSX, as_attachment=True, download_name=name)


def reopen_state(request):
    if request is None:
        return ""
    if request.status == REOPEN_PENDING:
        return "补报申请待处理"
    if request.status == REOPEN_GRANTED and request.until and request.until >= local_today():
        return f"已同意补报（至 {request.until:%Y-%m-%d}）"
    return request.status_label
