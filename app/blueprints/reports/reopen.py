"""补报申请: after a 调度期's deadline an institution asks to file; an admin of its 市州 (or the
province) grants a time-limited exception or refuses. Each change commits and is audited."""

from datetime import timedelta

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.orm import selectinload

from app.audit import audit
from app.blueprints.applications.services import recognition_current
from app.blueprints.auth.models import Institution
from app.blueprints.reports.models import REOPEN_GRANTED, REOPEN_PENDING, REOPEN_REFUSED, ReportReopenRequest
from app.blueprints.reports.services import ReportError, exception_until, period_get
from app.blueprints.reports.snapshots import snapshot_supersede
from app.extensions import db
from app.forms import is_mobile
from app.inbox import notify
from app.sms import send_sms
from app.utils import format_datetime, local_today, paginate, utcnow


def reopen_request_create(*, user, round_id, reason):
    """申请补报 for a period whose deadline has passed. Commits; ReportError when not needed/allowed."""
    institution = user.institution
    round = period_get(round_id)
    if institution is None or round is None:
        raise ReportError("调度期不存在。")
    today = local_today()
    if today <= round.closes_on:
        raise ReportError(f"{round.title}尚未截止（截止日期 {round.closes_on:%Y-%m-%d}），可以直接填报。")
    if not recognition_current(institution_id=institution.id, year=round.year):
        raise ReportError(f"贵机构{round.year}年不在核心服务机构名单内，无需补报。")
    if exception_until(institution.id, round.id, today):
        raise ReportError("已同意补报，请在补报截止日期前完成填报。")
    # One pending request per institution and period, however many clicks: requests of one
    # institution take turns on its row lock.
    db.session.execute(sa.select(Institution.id).where(Institution.id == institution.id).with_for_update())
    pending = db.session.scalar(
        sa.select(ReportReopenRequest).where(
            ReportReopenRequest.institution_id == institution.id,
            ReportReopenRequest.round_id == round.id,
            ReportReopenRequest.status == REOPEN_PENDING,
        )
    )
    if pending is not None:
        if pending.requested_by_id == user.id and pending.reason == reason.strip():
            return pending  # the same 申请补报 sent twice: made once
        raise ReportError("该调度期已有待处理的补报申请，请等待管理员处理。")
    request = ReportReopenRequest(
        institution_id=institution.id,
        round_id=round.id,
        city_code=institution.city_code,
        reason=reason.strip(),
        requested_by_id=user.id,
    )
    db.session.add(request)
    db.session.flush()
    audit(
        "report.reopen_request",
        summary=f"{institution.name} 申请补报{round.title}",
        target=request,
        after={"reason": request.reason},
        actor=user,
    )
    db.session.commit()
    return request


def reopen_scope(select, user):
    """A city admin handles its own 市州's requests; the province admin all."""
    if user.role == "city_admin":
        return select.where(ReportReopenRequest.city_code == user.city_code)
    if user.role == "province_admin":
        return select
    return select.where(sa.false())


def reopen_requests(*, user, status=REOPEN_PENDING, page=1):
    select = (
        sa.select(ReportReopenRequest)
        .options(selectinload(ReportReopenRequest.institution), selectinload(ReportReopenRequest.round))
        .order_by(ReportReopenRequest.created_at.desc(), ReportReopenRequest.id.desc())
    )
    if status:
        select = select.where(ReportReopenRequest.status == status)
    return paginate(reopen_scope(select, user), page=page, per_page=20)


def reopen_request_or_none(*, request_id, user):
    return db.session.scalar(
        reopen_scope(sa.select(ReportReopenRequest).where(ReportReopenRequest.id == request_id), user)
    )


def reopen_pending_select(user):
    """SQL: how many 补报 requests wait for this admin (a count SELECT)."""
    select = sa.select(sa.func.count(ReportReopenRequest.id)).where(ReportReopenRequest.status == REOPEN_PENDING)
    return reopen_scope(select, user)


def reopen_pending_count(user):
    return db.session.scalar(reopen_pending_select(user))


def reopen_request_decide(*, request, grant, until=None, note=None, actor):
    """同意 (a time-limited exception until ``until``) or 不同意. Tells the institution. Commits.

    A grant for a period already frozen reopens it (snapshots.snapshot_supersede: the snapshot is
    kept, superseded and audited); it is frozen again once the window has ended.

    The decision is a compare-and-set on the pending status: of two admins deciding at once one
    wins; the same decision repeated by the same admin (double click, retry) is done once and
    returns as a success; anything else is refused with what was decided."""
    if grant and (until is None or until < local_today()):
        raise ReportError("补报截止日期不能早于今天。")
    decided = REOPEN_GRANTED if grant else REOPEN_REFUSED
    table = ReportReopenRequest.__table__
    now = utcnow()
    changed = db.session.execute(
        sa.update(table)
        .where(table.c.id == request.id, table.c.status == REOPEN_PENDING)
        .values(
            status=decided,
            until=until if grant else None,
            decision_note=(note or "").strip() or None,
            decided_by_id=actor.id,
            decided_at=now,
        )
    ).rowcount
    db.session.refresh(request)
    if not changed:
        if request.status == decided and request.decided_by_id == actor.id:
            return request  # this admin's own decision, sent twice
        raise ReportError(
            f"该申请已于 {format_datetime(request.decided_at)} 处理（{request.status_label}），请查看处理结果。"
        )
    round = request.round
    if grant:
        # a frozen period reopens: its snapshot is kept (superseded) and it freezes again when the window ends
        snapshot_supersede(round=round, reason=f"同意 {request.institution.name} 补报至 {until:%Y-%m-%d}", actor=actor)
    audit(
        "report.reopen_grant" if grant else "report.reopen_refuse",
        summary=f"{'同意' if grant else '不同意'} {request.institution.name} 补报{round.title}",
        target=request,
        before={"status": REOPEN_PENDING},
        after={"status": request.status, "until": until.isoformat() if grant else None, "note": request.decision_note},
        actor=actor,
    )
    if grant:
        title = f"您的{round.title}补报申请已同意，请于 {until:%Y-%m-%d} 前完成填报"
    else:
        title = f"您的{round.title}补报申请未获同意"
    owner = request.institution.user
    notify(owner, title, request.decision_note or "", link=url_for("reports.list_reports"))
    if is_mobile(owner.phone):
        send_sms(owner.phone, f"【湖南省中小企业服务中心】{title}。")
    db.session.commit()
    return request


def grace_until_default(today=None):
    return (today or local_today()) + timedelta(days=7)
