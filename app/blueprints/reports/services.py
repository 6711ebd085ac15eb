"""Rules of 核心服务机构调度 beyond the engine: periods and deadlines, who reports, prefill,
anomalies, lateness and the demo set-up (补报 requests: reopen.py; 直接认定: recognitions.py).

Each function that changes data is ``<entity>_<verb>(*, ...)``, owns its commit and writes the
audit trail; a request that cannot be carried out raises ``ReportError`` with a message for the user.
"""

from datetime import date, timedelta
from decimal import Decimal
from functools import cache

import sqlalchemy as sa
from flask import has_request_context, url_for
from flask import request as http_request

from app.blueprints.applications.models import Recognition
from app.blueprints.applications.services import recognition_current
from app.blueprints.auth.models import User
from app.blueprints.reports.errors import ReportError  # noqa: F401  (the views catch services.ReportError)
from app.blueprints.reports.models import (
    REOPEN_GRANTED,
    REOPEN_PENDING,
    MonthlyReport,
    ReportActivity,
    ReportReopenRequest,
    category_field_names,
)
from app.blueprints.reports.recognitions import default_term
from app.blueprints.reports.stats import stats_add
from app.blueprints.rounds.services import RoundError, round_save
from app.extensions import db
from app.filings import workflow
from app.filings.models import Round
from app.reference.models import ServiceCategory
from app.utils import local_today, paginate, to_local, utcnow

KIND = "report"
DEADLINE_DAY = 10  # due by the 10th of the next month unless the round says otherwise


# ---- periods (调度期 = Round of kind "report") --------------------------------------------------


def period_title(year, month):
    return f"{year}年{month}月调度"


def next_month(year, month):
    return (year + 1, 1) if month == 12 else (year, month + 1)


def previous_month(year, month):
    return (year - 1, 12) if month == 1 else (year, month - 1)


def default_deadline(year, month):
    """The 10th of the month after the reported month."""
    y, m = next_month(year, month)
    return date(y, m, DEADLINE_DAY)


def default_opening(year, month):
    """A month's 调度期 opens when the month has ended: the 1st of the next month."""
    y, m = next_month(year, month)
    return date(y, m, 1)


def period_open(*, year, month, opens_on=None, closes_on=None, actor):
    """开启调度期: a report Round for the month (opens on the 1st of the next month, when the month
    has ended, and closes on the 10th, unless given). Commits; ReportError when that month is open
    already."""
    opens_on = opens_on or default_opening(year, month)
    closes_on = closes_on or default_deadline(year, month)
    if closes_on < opens_on:
        raise ReportError("截止日期不能早于开始日期。")
    data = {
        "kind": KIND,
        "title": period_title(year, month),
        "year": year,
        "month": month,
        "opens_on": opens_on,
        "closes_on": closes_on,
    }
    try:
        return round_save(round=None, data=data, actor=actor)
    except RoundError:
        raise ReportError(f"{year}年{month}月的调度期已经开启，如需调整截止日期请在批次管理中编辑。")


def periods_list(*, page=1):
    select = sa.select(Round).where(Round.kind == KIND).order_by(Round.year.desc(), Round.month.desc())
    return paginate(select, page=page, per_page=24)


@cache
def _periods_all_select():
    """Built once per process (a statement is immutable, and one built afresh is keyed afresh)."""
    return sa.select(Round).where(Round.kind == KIND).order_by(Round.year.desc(), Round.month.desc())


def periods_all():
    """Every 调度期, newest month first (for the admin pages' choosers)."""
    return db.session.scalars(_periods_all_select()).all()


def period_get(round_id):
    """The 调度期 with that id, or None (also for another kind of round)."""
    round = db.session.get(Round, round_id) if round_id else None
    return round if round is not None and round.kind == KIND else None


def period_latest_started(today=None, among=None):
    """The newest 调度期 that has opened (the default for completeness pages); ``among``: every
    period as ``periods_all`` lists them, when the caller has read them already."""
    today = today or local_today()
    if among is not None:
        return next((r for r in among if r.opens_on <= today), None)
    return db.session.scalar(
        sa.select(Round)
        .where(Round.kind == KIND, Round.opens_on <= today)
        .order_by(Round.year.desc(), Round.month.desc())
        .limit(1)
    )


# ---- who may file when ------------------------------------------------------------------------


def exception_until(institution_id, round_id, today=None):
    """The last day of a granted 补报 exception still running, or None."""
    today = today or local_today()
    return db.session.scalar(
        sa.select(sa.func.max(ReportReopenRequest.until)).where(
            ReportReopenRequest.institution_id == institution_id,
            ReportReopenRequest.round_id == round_id,
            ReportReopenRequest.status == REOPEN_GRANTED,
            ReportReopenRequest.until >= today,
        )
    )


def recognised_years(institution_id, years):
    """The subset of ``years`` in which the institution's recognition is in force (one query: its
    terms, as ``recognition_in_force`` reads them)."""
    years = set(years)
    if not years:
        return set()
    terms = _recognition_terms(institution_id)
    return {year for year in years if any(start <= year <= end for start, end in terms)}


def _recognition_terms(institution_id):
    """The institution's unrevoked terms [(start, end)], read once per request (the list page
    asks for several sets of years)."""
    kept = {}
    if has_request_context():  # on the request itself: an app context (and ``g``) may outlive it
        kept = getattr(http_request, "_recognition_terms", None)
        if kept is None:
            kept = http_request._recognition_terms = {}
    if institution_id not in kept:
        kept[institution_id] = db.session.execute(_terms_select(), {"institution_id": institution_id}).all()
    return kept[institution_id]


@cache
def _terms_select():
    return sa.select(Recognition.term_start, Recognition.term_end).where(
        Recognition.institution_id == sa.bindparam("institution_id"), Recognition.revoked_at.is_(None)
    )


def creatable_rounds(user, today=None):
    """Periods the institution may start a report in: open ones, plus those with a running 补报
    exception; only years its recognition covers. The months it has not filed come first, the
    earliest of them first (the default of 基础数据填报), then the filed ones, newest first."""
    return creatable_and_filed(user, today)[0]


def creatable_and_filed(user, today=None, found=None):
    """(``creatable_rounds``, the ids among them the institution has a report in already).
    ``found``: ``periods_and_reports(user, today)`` when the caller has it already."""
    institution = user.institution
    if institution is None:
        return [], set()
    today = today or local_today()
    rounds, reports = found or periods_and_reports(user, today)
    rounds = [r for r, creatable in rounds if creatable]
    years = recognised_years(institution.id, [r.year for r in rounds])
    rounds = [r for r in rounds if r.year in years]
    filed = {r.id for r in rounds if r.id in reports}
    unfiled = sorted((r for r in rounds if r.id not in filed), key=lambda r: (r.year, r.month))
    return unfiled + [r for r in rounds if r.id in filed], filed


PERIODS_SHOWN = 6  # the list page's 调度期 table: the latest periods opened


def periods_and_reports(user, today=None, limit=PERIODS_SHOWN):
    """What the list page's 基础数据填报 and 调度期 table are made of, in two statements:
    ([(round, creatable)], {round id: the institution's report}), newest period first. The rounds
    are the ``limit`` latest opened by ``today`` and every one the institution may start a report
    in now (creatable: open, or with a running 补报 exception), which is an older one only with
    an exception."""
    institution = user.institution
    if institution is None:
        return [], {}
    values = {"institution_id": institution.id, "today": today or local_today(), "limit": limit}
    rounds = [(round, bool(may_create)) for round, may_create in db.session.execute(_periods_select(), values)]
    if not rounds:
        return [], {}
    reports = {
        r.round_id: r
        for r in db.session.scalars(
            _institution_reports_select(), {"institution_id": institution.id, "round_ids": [r.id for r, _ in rounds]}
        )
    }
    return rounds, reports


@cache
def _periods_select():
    """periods_and_reports' rounds, built once (the list page asks it at every visit)."""
    today = sa.bindparam("today", type_=sa.Date)
    open_now = sa.and_(Round.opens_on <= today, Round.closes_on >= today)
    excepted = Round.id.in_(
        sa.select(ReportReopenRequest.round_id).where(
            ReportReopenRequest.institution_id == sa.bindparam("institution_id"),
            ReportReopenRequest.status == REOPEN_GRANTED,
            ReportReopenRequest.until >= today,
        )
    )
    latest = (
        sa.select(Round.id)
        .where(Round.kind == KIND, Round.opens_on <= today)
        .order_by(Round.year.desc(), Round.month.desc())
        .limit(sa.bindparam("limit", type_=sa.Integer))
        .correlate(None)  # its own scan of the table, not the outer query's row
    )
    creatable = sa.or_(open_now, excepted)
    return (
        sa.select(Round, sa.case((creatable, True), else_=False))
        .where(Round.kind == KIND, sa.or_(Round.id.in_(latest), creatable))
        .order_by(Round.year.desc(), Round.month.desc())
    )


@cache
def _institution_reports_select():
    return sa.select(MonthlyReport).where(
        MonthlyReport.institution_id == sa.bindparam("institution_id"),
        MonthlyReport.round_id.in_(sa.bindparam("round_ids", expanding=True)),
    )


def reports_locked(reports, today=None):
    """{report id: (label, url or None)} for the owner's list: a report past its deadline without
    a running 补报 exception offers 申请补报 (or says one is waiting) instead of 编辑. One query."""
    today = today or local_today()
    late = [r for r in reports if r.status in (workflow.DRAFT, workflow.SUBMITTED) and today > r.round.closes_on]
    if not late:
        return {}
    latest = {}
    for req in db.session.scalars(
        sa.select(ReportReopenRequest)
        .where(
            ReportReopenRequest.institution_id.in_({r.institution_id for r in late}),
            ReportReopenRequest.round_id.in_({r.round_id for r in late}),
        )
        .order_by(ReportReopenRequest.id)
    ):
        latest[(req.institution_id, req.round_id)] = req
    locked = {}
    for report in late:
        req = latest.get((report.institution_id, report.round_id))
        if req is not None and req.status == REOPEN_GRANTED and req.until and req.until >= today:
            continue  # a running exception: 编辑 works
        if req is not None and req.status == REOPEN_PENDING:
            locked[report.id] = ("补报申请待处理", None)
        else:
            locked[report.id] = ("申请补报", url_for("reports.new_reopen_request", round_id=report.round_id))
    return locked


def report_locked_message(report, today=None):
    """Why the owner may not change the report now: its deadline has passed and no 补报 exception
    runs. A returned report stays editable (the reviewer asked for the change)."""
    if report.status not in (workflow.DRAFT, workflow.SUBMITTED):
        return None
    today = today or local_today()
    round = report.round or db.session.get(Round, report.round_id)
    if today <= round.closes_on or exception_until(report.institution_id, round.id, today):
        return None
    verb = "撤回修改" if report.status == workflow.SUBMITTED else "修改或提交"
    return (
        f"{round.year}年{round.month}月的调度数据已于 {round.closes_on:%Y-%m-%d} 截止填报，不能再{verb}。"
        "如需补报，请在“核心服务机构调度数据”列表中点击“申请补报”。"
    )


def _months(rounds):
    return "、".join(f"{r.year}年{r.month}月" for r in sorted(rounds, key=lambda r: (r.year, r.month)))


def all_filed_message(rounds, unsent=()):
    """What the list says when every open 调度期 has this institution's report already; ``unsent``:
    the periods among them whose report is still a draft or was returned (not yet with the reviewers)."""
    if unsent and len(unsent) == len(rounds):
        return f"{_months(unsent)}的调度数据已建立，尚未提交（草稿或已退回），请点击“编辑”完成填报并提交。"
    if unsent:
        return (
            f"开放填报的调度期（{_months(rounds)}）均已建立填报，其中 {_months(unsent)} 的调度数据尚未提交，"
            "请点击“编辑”完成填报并提交。"
        )
    return f"开放填报的调度期（{_months(rounds)}）均已填报并提交，可在下方列表中查看。"


def closed_message(user):
    """Why 基础数据填报 is not available to this user now."""
    institution = user.institution if user is not None else None
    year = local_today().year
    if institution is not None and not recognition_current(institution_id=institution.id, year=year):
        return (
            f"贵机构不在{year}年度核心服务机构名单内（未认定或认定已过有效期），无需填报调度数据。"
            "如有疑问，请拨打咨询电话 0731-89706283。"
        )
    upcoming = db.session.scalar(
        sa.select(Round).where(Round.kind == KIND, Round.opens_on > local_today()).order_by(Round.opens_on).limit(1)
    )
    if upcoming:
        return f"{upcoming.title}将于 {upcoming.opens_on:%Y-%m-%d} 开放填报，截止 {upcoming.closes_on:%Y-%m-%d}。"
    return "当前没有开放的调度期。逾期未报的月份可在下方“调度期”中申请补报。"


@cache
def _reopen_requests_select():
    return (
        sa.select(ReportReopenRequest)
        .where(
            ReportReopenRequest.institution_id == sa.bindparam("institution_id"),
            ReportReopenRequest.round_id.in_(sa.bindparam("round_ids", expanding=True)),
        )
        .order_by(ReportReopenRequest.id)
    )


def institution_periods(user, today=None, limit=PERIODS_SHOWN, found=None):
    """The list page's 调度期 table: recent periods with this institution's report and what it may do.
    ``found``: ``periods_and_reports(user, today, limit)`` when the caller has it already.

    Each row: dict(round, report, can_create, editable (a draft or returned report it may still
    change), exception_until, reopen (latest request), may_request, pending, overdue, recognised).
    """
    institution = user.institution
    if institution is None:
        return []
    today = today or local_today()
    found = found or periods_and_reports(user, today, limit)
    rounds = [round for round, _creatable in found[0] if round.opens_on <= today][:limit]
    if not rounds:
        return []
    ids = [r.id for r in rounds]
    reports = found[1]
    requests = {}
    for req in db.session.scalars(_reopen_requests_select(), {"institution_id": institution.id, "round_ids": ids}):
        requests[req.round_id] = req  # the latest one wins
    creatable = {r.id for r in creatable_and_filed(user, today, found)[0]}
    years = recognised_years(institution.id, [r.year for r in rounds])
    rows = []
    for round in rounds:
        report = reports.get(round.id)
        request = requests.get(round.id)
        running = (
            request.until
            if request and request.status == REOPEN_GRANTED and request.until and request.until >= today
            else None
        )
        overdue = today > round.closes_on and not running
        needs_reopen = overdue and round.year in years and (report is None or report.status == workflow.DRAFT)
        pending = request is not None and request.status == REOPEN_PENDING
        rows.append(
            {
                "round": round,
                "report": report,
                "can_create": report is None and round.id in creatable,
                # the engine's rule (filing_check_editable): a draft or returned report, not locked
                "editable": report is not None
                and report.status in workflow.EDITABLE
                and report_locked_message(report, today) is None,
                "exception_until": running,
                "reopen": request,
                "may_request": needs_reopen and not pending,
                "pending": pending,
                "overdue": overdue,
                "recognised": round.year in years,
            }
        )
    return rows


# ---- prefill, figures and anomalies -----------------------------------------------------------

STOCK_FIELDS = (
    "institution_type_id",
    "floor_area",
    "service_assets",
    "site_type",
    "staff_count",
    "bachelor_count",
    "intermediate_count",
)
# (attribute, label) of the figures compared with the previous month; 利润总额 can be negative,
# so a ratio means nothing there and it is left out.
FIGURES = (
    ("floor_area", "服务场所"),
    ("service_assets", "服务资产"),
    ("staff_count", "服务人员数"),
    ("bachelor_count", "本科人数"),
    ("intermediate_count", "中级职称人数"),
    ("revenue", "营业收入"),
    ("service_expense", "服务支出"),
)
ANOMALY_FACTOR = 3
ANOMALY_FLOOR = 10  # changes between small numbers (both below 10) need no explanation


def report_prefill(report, *, user):
    """A new draft: the period from its round, one block per active 服务类别, and the stock figures
    (机构类型, 场所, 资产, 人员) from the institution's latest earlier report."""
    round = db.session.get(Round, report.round_id)
    report.year, report.month = round.year, round.month
    report.stats_city_code, report.stats_institution_id = report.city_code, report.institution_id
    categories = db.session.scalars(
        sa.select(ServiceCategory)
        .where(ServiceCategory.active.is_(True))
        .order_by(ServiceCategory.sort_order, ServiceCategory.id)
    ).all()
    report.activities = [
        ReportActivity(category_id=c.id, category_name=c.name, sort_order=c.sort_order) for c in categories
    ]
    earlier = report_carried_from(report)
    if earlier is not None:
        for name in STOCK_FIELDS:
            setattr(report, name, getattr(earlier, name))
    elif user.institution is not None:
        report.institution_type_id = user.institution.institution_type_id


@cache
def _carried_from_select():
    """report_carried_from's statement, built once (every step page asks it, with other values)."""
    year, month = sa.bindparam("year"), sa.bindparam("month")
    return (
        sa.select(MonthlyReport.year, MonthlyReport.month, *(getattr(MonthlyReport, name) for name in STOCK_FIELDS))
        .where(
            MonthlyReport.institution_id == sa.bindparam("institution_id"),
            MonthlyReport.status != workflow.DRAFT,
            sa.or_(MonthlyReport.year < year, sa.and_(MonthlyReport.year == year, MonthlyReport.month < month)),
        )
        .order_by(MonthlyReport.year.desc(), MonthlyReport.month.desc())
        .limit(1)
    )


def report_carried_from(report):
    """The institution's latest report (not a draft) before this one's month: where a new draft's
    standing figures come from (a row of its year, month and STOCK_FIELDS)."""
    values = {"institution_id": report.institution_id, "year": report.year, "month": report.month}
    return db.session.execute(_carried_from_select(), values).first()


def report_carried_note(report):
    """The "沿用上月" note: which earlier report the draft's standing figures still equal, or None (nothing
    to carry, or they have been changed)."""
    earlier = report_carried_from(report)
    if earlier is None:
        return None
    carried = [name for name in STOCK_FIELDS if getattr(earlier, name) is not None]
    if not carried or any(getattr(report, name) != getattr(earlier, name) for name in carried):
        return None
    return earlier


def report_offered_category_ids(report):
    """The 服务类别 shown first: those the institution offers (基本资料) and any with figures in
    this draft; None when the institution has not chosen any (then every category is shown)."""
    institution = report.institution
    offered = set(institution.service_category_ids) if institution is not None else set()
    if not offered:
        return None
    return offered | {r.category_id for r in report.activities if r.activities or r.participants or r.served}


def report_load_activities(form, report):
    """Step ``load`` hook: the 服务类别 blocks into the form."""
    for row in report.activities:
        for name, value in zip(category_field_names(row.category_id), (row.activities, row.participants, row.served)):
            form[name].data = value


def report_save_activities(form, report):
    """Step ``save`` hook: the 服务类别 blocks from the form (blank counts as 0) and the totals."""
    for row in report.activities:
        a, p, s = (form[name].data or 0 for name in category_field_names(row.category_id))
        row.activities, row.participants, row.served = a, p, s
    report.activities_total = sum(row.activities or 0 for row in report.activities)
    report.participants_total = sum(row.participants or 0 for row in report.activities)
    report.served_total = sum(row.served or 0 for row in report.activities)


def _category_keys(category_id, name):
    return (
        (f"cat{category_id}_activities", f"{name}活动数"),
        (f"cat{category_id}_participants", f"{name}参与企业数"),
        (f"cat{category_id}_served", f"{name}服务企业数"),
    )


def _figures(values, blocks):
    """{key: (label, value)} from the FIGURES' values in order and the 服务类别 blocks as
    (category_id, category_name, activities, participants, served)."""
    figures = {name: (label, value) for (name, label), value in zip(FIGURES, values)}
    for category_id, category_name, *counts in blocks:
        for (key, label), value in zip(_category_keys(category_id, category_name), counts):
            figures[key] = (label, value or 0)
    return figures


def report_figures(report):
    """{key: (label, value)} of the compared figures of a stored report."""
    return _figures(
        [getattr(report, name) for name, _ in FIGURES],
        [(r.category_id, r.category_name, r.activities, r.participants, r.served) for r in report.activities],
    )


def form_figures(form):
    """The same figures from a submitted step form (categories by their field names)."""
    figures = {name: (label, form[name].data) for name, label in FIGURES}
    report = getattr(form, "filing", None)
    if report is not None:
        for row in report.activities:
            for key, label in _category_keys(row.category_id, row.category_name):
                figures[key] = (label, form[key].data or 0)
    return figures


@cache
def _previous_figures_select():
    """previous_figures' statement, built once (附件材料上传, 提交, 查看 and 审核 ask it)."""
    block_columns = (
        ReportActivity.category_id,
        ReportActivity.category_name,
        ReportActivity.activities,
        ReportActivity.participants,
        ReportActivity.served,
    )
    return (
        sa.select(*(getattr(MonthlyReport, name) for name, _ in FIGURES), *block_columns)
        .select_from(MonthlyReport)
        .outerjoin(ReportActivity, ReportActivity.report_id == MonthlyReport.id)
        .where(
            MonthlyReport.institution_id == sa.bindparam("institution_id"),
            MonthlyReport.year == sa.bindparam("year"),
            MonthlyReport.month == sa.bindparam("month"),
            MonthlyReport.status != workflow.DRAFT,
        )
    )


def previous_figures(report):
    """The compared figures ({key: (label, value)}, as ``report_figures``) of the institution's
    report of the month before (not a draft), or None: one statement, that report's columns
    beside each of its 服务类别 blocks, no report object loaded."""
    year, month = previous_month(report.year, report.month)
    values = {"institution_id": report.institution_id, "year": year, "month": month}
    rows = db.session.execute(_previous_figures_select(), values).all()
    if not rows:
        return None
    blocks = [row[len(FIGURES) :] for row in rows if row[len(FIGURES)] is not None]  # none: no block row
    return _figures(rows[0][: len(FIGURES)], blocks)


def moved_a_lot(previous, current):
    """More than ×3 up or down, or from 0 to at least ANOMALY_FLOOR (and back)."""
    previous, current = Decimal(previous or 0), Decimal(current or 0)
    if max(abs(previous), abs(current)) < ANOMALY_FLOOR:
        return False
    if previous <= 0 or current <= 0:
        return previous != current
    return current > previous * ANOMALY_FACTOR or current * ANOMALY_FACTOR < previous


def report_anomalies(report, figures=None):
    """[(label, previous, current)] of figures that moved a lot against the previous month."""
    before = previous_figures(report)
    if before is None:
        return []
    now = figures if figures is not None else report_figures(report)
    found = []
    for key, (label, value) in now.items():
        if key in before and value is not None and moved_a_lot(before[key][1], value):
            found.append((label, before[key][1] or 0, value))
    return found


def _number(value):
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    return f"{value:,}"


def anomaly_text(found):
    return "；".join(f"{label} 上月 {_number(before)}，本月 {_number(now)}" for label, before, now in found)


def report_extra_checks(report):
    """Reasons that stop submission beyond the engine's: an unexplained anomaly."""
    found = report_anomalies(report)
    if found and not report.anomaly_note:
        return [f"与上月相比变化较大（{anomaly_text(found)}），请在“基本信息”的“异常说明”中说明原因。"]
    return []


def report_review_notes(report):
    notes = []
    if report.late:
        notes.append(
            f"逾期报送：截止日期 {report.round.closes_on:%Y-%m-%d}，首次提交于 {_local_date(report.first_submitted_at):%Y-%m-%d}。"
        )
    found = report_anomalies(report)
    if found:
        notes.append(f"与上月相比变化较大：{anomaly_text(found)}。")
    if report.anomaly_note:
        notes.append(f"填报单位的异常说明：{report.anomaly_note}")
    return notes


def _local_date(value):
    return to_local(value).date() if value else local_today()


# ---- transitions --------------------------------------------------------------------------------


def report_on_transition(report, transition, actor):
    """Inside the engine's transaction: lateness at the first submission; approval counts the
    report in 调度大数据 (approved reports are locked, so this is final)."""
    if transition.name == "submit" and report.first_submitted_at is None:
        report.first_submitted_at = utcnow()
        round = report.round or db.session.get(Round, report.round_id)
        report.late = local_today() > round.closes_on
    if transition.target == workflow.APPROVED:
        report.counted = True
        report.approved_at = utcnow()
        stats_add(report)


# ---- demo ---------------------------------------------------------------------------------------


def demo_setup(username="jigou@example.com"):
    """`flask seed-demo`: open last month's 调度期 (the month that has ended) and recognise the
    demo institution (idempotent)."""
    today = local_today()
    year, month = previous_month(today.year, today.month)
    if not db.session.scalar(sa.select(Round.id).where(Round.kind == KIND, Round.year == year, Round.month == month)):
        db.session.add(
            Round(
                kind=KIND,
                title=period_title(year, month),
                year=year,
                month=month,
                opens_on=default_opening(year, month),
                # past the 10th the demo keeps the month open a while, so there is something to file
                closes_on=max(default_deadline(year, month), today + timedelta(days=14)),
            )
        )
    user = db.session.scalar(sa.select(User).where(User.username_key == username.lower()))
    if user is not None and user.institution is not None:
        start, end = default_term(today)
        if not recognition_current(institution_id=user.institution.id, year=today.year):
            db.session.add(Recognition(institution_id=user.institution.id, term_start=start, term_end=end))
    db.session.commit()
