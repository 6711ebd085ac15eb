"""Frozen 调度期: when a period closes its 报送情况 and totals are kept as a snapshot.

A period *closes* when its deadline (``Round.closes_on``) has passed and every granted 补报 window
for it (``ReportReopenRequest.until``) has ended. From then on nothing can be filed for it, so its
报送情况 (by 市州: 应报 / 已报 / 按时 / 逾期 / 未报, and who had not reported) and the approved
reports' totals are frozen (``period_freeze``): 报送情况 and 季度通报 read the snapshot, so a later
recognition, import or approval never changes a closed month.

Freezing happens once: lazily on the first read after the close (``snapshot_for``; a page view does
it in a short transaction of its own, as app/database.py's ``write_aside`` does for bookkeeping) and
from the daily schedule (``freeze_due``). The period's row is locked and a unique constraint (one
current snapshot per period; ``INSERT ... ON CONFLICT DO NOTHING``) holds however many requests or
workers see the close at once.

A 补报 granted for a frozen period reopens it (``snapshot_supersede``, called by the grant): the
snapshot is kept, marked superseded with the reason, and the change is audited; while the window
runs the period reads live, and when it ends the period is frozen again (``seq`` + 1). The figures
of the approved reports are those approved when the period froze; reports still awaiting review
then are counted in ``pending_review`` (the bulletin says so) and join the figures only if the
period is reopened and frozen again.
"""

import logging
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache, lru_cache

import sqlalchemy as sa
from flask import has_request_context, request
from sqlalchemy.dialects import postgresql, sqlite

from app.audit import AuditLog, audit
from app.blueprints.applications.services import institution_expected
from app.blueprints.auth.models import Institution
from app.blueprints.reports.models import (
    REOPEN_GRANTED,
    MonthlyReport,
    PeriodSnapshot,
    PeriodSnapshotCategory,
    PeriodSnapshotRow,
    ReportActivity,
    ReportReopenRequest,
)
from app.database import READ_ONLY_METHODS, writing_connection
from app.extensions import db
from app.filings import workflow
from app.filings.models import Round
from app.jobs import ScheduleKind
from app.reference.models import DictItem
from app.utils import local_today, utcnow

log = logging.getLogger(__name__)

ASIDE_LOCK_MS = 2000  # PostgreSQL: how long a page view's freeze waits for the period's row lock

ACTION_LABELS = {
    "report.period_freeze": "冻结调度期报送情况",
    "report.period_reopen": "补报重新开放已冻结的调度期",
}


# ---- the close rule ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Closure:
    closed: bool
    open_reason: str | None = None  # why it is still open: 尚未截止 / 补报尚未结束
    last_until: date | None = None  # the last granted 补报 window's end


def _closure(closes_on, last_until, today):
    """The close rule itself, from the period's deadline and its last granted 补报 window's end."""
    if today <= closes_on:
        return Closure(False, "尚未截止", last_until)
    if last_until is not None and last_until >= today:
        return Closure(False, f"补报尚未结束（至 {last_until:%Y-%m-%d}）", last_until)
    return Closure(True, None, last_until)


def _last_granted_until():
    return sa.func.max(ReportReopenRequest.until).filter(ReportReopenRequest.status == REOPEN_GRANTED)


def period_closure(round, today=None, session=None):
    """Whether ``round`` has closed: its deadline passed and no granted 补报 window still running."""
    session = session or db.session
    last_until = session.scalar(_last_until_select(), {"round_id": round.id})
    return _closure(round.closes_on, last_until, today or local_today())


@cache
def _last_until_select():
    return sa.select(_last_granted_until()).where(ReportReopenRequest.round_id == sa.bindparam("round_id"))


@lru_cache(maxsize=64)
def _periods_select(year, months):
    """open_months' statement, kept per process by year and months (plain values)."""
    return (
        sa.select(Round.month, Round.closes_on, _last_granted_until())
        .outerjoin(ReportReopenRequest, ReportReopenRequest.round_id == Round.id)
        .where(Round.kind == "report", Round.year == year, Round.month.in_(months))
        .group_by(Round.id, Round.month, Round.closes_on)
    )


def open_months(year, months, today=None):
    """[(month, why)] of those ``months`` of ``year`` still open for reporting (one query): the
    period's deadline not passed or a 补报 running (``period_closure``'s rule), or no 调度期 yet for a
    month not over (a past month nobody opened a period for stays closed). 调度大数据's 环比/同比 and
    季度通报 both ask this."""
    today = today or local_today()
    months = tuple(months)
    periods = {
        month: (closes_on, last_until)
        for month, closes_on, last_until in db.session.execute(_periods_select(year, months))
    }
    found = []
    for month in months:
        if month not in periods:
            if (year, month) >= (today.year, today.month):
                found.append((month, "尚未开启"))
            continue
        closure = _closure(*periods[month], today)
        if not closure.closed:
            found.append((month, closure.open_reason))
    return found


# ---- freezing ----------------------------------------------------------------------------------------


def current_snapshot(round_id, session=None):
    session = session or db.session
    return session.scalar(
        sa.select(PeriodSnapshot).where(PeriodSnapshot.round_id == round_id, PeriodSnapshot.superseded_at.is_(None))
    )


def _insert(session, model):
    """INSERT ... ON CONFLICT DO NOTHING for this database."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    return insert(model)


def _rows(session, round):
    """The snapshot's institution rows: everyone 应报 for the month, and others with an approved report."""
    reports = {
        r.institution_id: r
        for r in session.execute(
            sa.select(
                MonthlyReport.institution_id,
                MonthlyReport.status,
                MonthlyReport.late,
                MonthlyReport.counted,
                MonthlyReport.activities_total,
                MonthlyReport.participants_total,
                MonthlyReport.served_total,
                MonthlyReport.revenue,
                MonthlyReport.service_expense,
                MonthlyReport.profit,
            ).where(MonthlyReport.round_id == round.id, MonthlyReport.institution_id.is_not(None))
        )
    }
    expected = set(session.scalars(sa.select(Institution.id).where(institution_expected(round.year, round.month))))
    wanted = expected | {i for i, r in reports.items() if r.counted}
    institutions = session.execute(
        sa.select(Institution.id, Institution.name, Institution.city_code, Institution.institution_type_id).where(
            Institution.id.in_(wanted or [0])
        )
    ).all()
    rows = []
    for institution_id, name, city_code, type_id in institutions:
        report = reports.get(institution_id)
        received = report is not None and report.status != workflow.DRAFT
        counted = report is not None and report.counted
        rows.append(
            {
                "institution_id": institution_id,
                "name": name,
                "city_code": city_code,
                "institution_type_id": type_id,
                "expected": institution_id in expected,
                "received": received,
                "late": received and bool(report.late),
                "has_draft": report is not None and report.status == workflow.DRAFT,
                "counted": counted,
                "activities": report.activities_total or 0 if counted else 0,
                "participants": report.participants_total or 0 if counted else 0,
                "served": report.served_total or 0 if counted else 0,
                "revenue": Decimal(report.revenue or 0) if counted else Decimal("0"),
                "expense": Decimal(report.service_expense or 0) if counted else Decimal("0"),
                "profit": Decimal(report.profit or 0) if counted else Decimal("0"),
            }
        )
    pending = session.scalar(
        sa.select(sa.func.count(MonthlyReport.id)).where(
            MonthlyReport.round_id == round.id, MonthlyReport.status == workflow.SUBMITTED
        )
    )
    return rows, int(pending or 0)


def _categories(session, round):
    """The approved reports' 服务类别 sums, named and ordered as the dictionary has them now."""
    return [
        {"category_id": cid, "name": name, "sort_order": order, "activities": a, "participants": p, "served": s}
        for cid, name, order, a, p, s in session.execute(
            sa.select(
                DictItem.id,
                DictItem.name,
                DictItem.sort_order,
                sa.func.coalesce(sa.func.sum(ReportActivity.activities), 0),
                sa.func.coalesce(sa.func.sum(ReportActivity.participants), 0),
                sa.func.coalesce(sa.func.sum(ReportActivity.served), 0),
            )
            .select_from(ReportActivity)
            .join(MonthlyReport, MonthlyReport.id == ReportActivity.report_id)
            .join(DictItem, DictItem.id == ReportActivity.category_id)
            .where(MonthlyReport.round_id == round.id, MonthlyReport.counted.is_(True))
            .group_by(DictItem.id, DictItem.name, DictItem.sort_order)
        )
    ]


def period_freeze(*, round, today=None, session=None):
    """Freeze a closed period (in ``session``'s transaction; the caller commits). Returns the id of
    the period's current snapshot (the one made here or by whoever froze it first), or None while the
    period is open. Safe to run from any number of requests and workers at once."""
    session = session or db.session
    today = today or local_today()
    # take turns on the period's row (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises
    # writers), so the close is judged and the snapshot written under one lock with the 补报 grant
    session.execute(sa.select(Round.id).where(Round.id == round.id).with_for_update())
    found = current_snapshot(round.id, session)
    if found is not None:
        return found.id
    closure = period_closure(round, today, session)
    if not closure.closed:
        return None
    rows, pending = _rows(session, round)
    seq = (
        session.scalar(sa.select(sa.func.max(PeriodSnapshot.seq)).where(PeriodSnapshot.round_id == round.id)) or 0
    ) + 1
    counted = [r for r in rows if r["counted"]]
    expected = [r for r in rows if r["expected"]]
    values = {
        "round_id": round.id,
        "seq": seq,
        "year": round.year,
        "month": round.month,
        "closes_on": round.closes_on,
        "last_until": closure.last_until,
        "frozen_at": utcnow(),
        "expected": len(expected),
        "received": sum(1 for r in expected if r["received"]),
        "late": sum(1 for r in expected if r["late"]),
        "reports": len(counted),
        "pending_review": pending,
        **{
            key: sum((r[key] for r in counted), Decimal("0") if key in ("revenue", "expense", "profit") else 0)
            for key in ("activities", "participants", "served", "revenue", "expense", "profit")
        },
    }
    snapshot_id = session.scalar(
        _insert(session, PeriodSnapshot).values(**values).on_conflict_do_nothing().returning(PeriodSnapshot.id)
    )
    if snapshot_id is None:  # frozen by another transaction between our look and our insert
        return current_snapshot(round.id, session).id
    if rows:
        session.execute(sa.insert(PeriodSnapshotRow), [{"snapshot_id": snapshot_id, **r} for r in rows])
    categories = _categories(session, round)
    if categories:
        session.execute(sa.insert(PeriodSnapshotCategory), [{"snapshot_id": snapshot_id, **c} for c in categories])
    session.add(
        AuditLog(
            actor_name="系统",
            action="report.period_freeze",
            target_type="Round",
            target_id=str(round.id),
            target_name=round.title[:200],
            summary=(
                f"{round.title}已截止，冻结报送情况（第 {seq} 次）：应报 {values['expected']} 家，"
                f"已报 {values['received']} 家，逾期 {values['late']} 家"
            )[:300],
            after={"seq": seq, "expected": values["expected"], "received": values["received"], "late": values["late"]},
        )
    )
    session.flush()
    return snapshot_id


def _freeze_aside(round_id, today):
    """``period_freeze`` in a short transaction of its own (a page view never writes in its own
    transaction: app/database.py). Returns the snapshot id, or None when it could not be made now."""
    try:
        with writing_connection() as connection:
            with sa.orm.Session(bind=connection, expire_on_commit=False) as session:
                if connection.dialect.name == "postgresql":
                    session.execute(sa.text(f"SET LOCAL lock_timeout = {ASIDE_LOCK_MS}"))
                round = session.get(Round, round_id)
                snapshot_id = period_freeze(round=round, today=today, session=session)
                session.commit()
                return snapshot_id
    except sa.exc.OperationalError as error:
        log.warning("freezing period %s skipped for now: %s", round_id, error)
        return None


def snapshot_for(round, today=None, closure=None):
    """The snapshot to read for ``round``: None while the period is open (read it live), else its
    current snapshot, frozen now if this is the first read since the close. When it cannot be frozen
    at this moment (the database busy) None too, and the next read tries again. ``closure``: the
    period's ``period_closure`` when the caller has it already."""
    today = today or local_today()
    if not (closure or period_closure(round, today)).closed:
        return None
    found = current_snapshot(round.id)
    if found is not None:
        return found
    if has_request_context() and request.method in READ_ONLY_METHODS:
        snapshot_id = _freeze_aside(round.id, today)
        if snapshot_id is None:
            return None
        db.session.commit()  # end the page's read transaction (it wrote nothing) so it sees the snapshot
    else:
        snapshot_id = period_freeze(round=round, today=today)
        db.session.commit()
    return db.session.get(PeriodSnapshot, snapshot_id) if snapshot_id else None


def snapshot_supersede(*, round, reason, actor):
    """A 补报 was granted for ``round``: if it was frozen, it reopens. The snapshot is kept (marked
    superseded with the reason) and the change audited; the next close freezes it again. In the
    caller's transaction, under the period's row lock (as ``period_freeze``). Returns the snapshot
    superseded, or None when the period was not frozen."""
    db.session.execute(sa.select(Round.id).where(Round.id == round.id).with_for_update())
    found = current_snapshot(round.id)
    if found is None:
        return None
    table = PeriodSnapshot.__table__
    changed = db.session.execute(
        sa.update(table)
        .where(table.c.id == found.id, table.c.superseded_at.is_(None))
        .values(superseded_at=utcnow(), superseded_reason=reason[:300])
    ).rowcount
    if not changed:
        return None
    db.session.refresh(found)
    audit(
        "report.period_reopen",
        summary=f"{round.title}已冻结的报送情况因补报重新开放（{reason}）"[:300],
        target=round,
        before={"snapshot": found.seq, "frozen_at": found.frozen_at.isoformat(timespec="seconds")},
        after={"superseded": True, "reason": reason},
        actor=actor,
    )
    return found


# ---- the daily schedule ---------------------------------------------------------------------------


def freeze_due(*, params, today):
    """Freeze every 调度期 that has closed and has no current snapshot (in the schedule's transaction)."""
    has_current = sa.exists().where(PeriodSnapshot.round_id == Round.id, PeriodSnapshot.superseded_at.is_(None))
    rounds = db.session.scalars(
        sa.select(Round)
        .where(Round.kind == "report", Round.closes_on < today, ~has_current)
        .order_by(Round.year, Round.month)
    ).all()
    frozen = [r.title for r in rounds if period_freeze(round=r, today=today)]
    return (
        f"冻结了 {len(frozen)} 个已截止调度期的报送情况：{'、'.join(frozen)}" if frozen else "今天没有需要冻结的调度期"
    )


SCHEDULES = (
    ScheduleKind(
        "reports.freeze_periods",
        "冻结已截止调度期",
        "每天冻结已截止（截止日期已过且补报均已结束）的调度期的报送情况和汇总数据，之后的认定、导入和审核不再改变这些月份。",
        freeze_due,
        default_hour=0,
    ),
)
