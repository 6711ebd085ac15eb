"""报送情况: for one 调度期, expected vs received reports by 市州, who has not reported, reminders.

"Expected" are the institutions whose recognition is in force in the period's year; "received"
are their reports that are not drafts (submitted at least once and not withdrawn); on time means
first submitted by the deadline. A city admin sees its own 市州 only.
"""
from dataclasses import dataclass

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.orm import selectinload

from app.audit import audit
from app.blueprints.applications.models import Recognition
from app.blueprints.applications.services import recognition_in_force
from app.blueprints.auth.models import Institution
from app.blueprints.reports.models import REOPEN_GRANTED, REOPEN_PENDING, MonthlyReport, ReportReopenRequest
from app.extensions import db
from app.filings import workflow
from app.forms import is_mobile
from app.inbox import notify
from app.reference.services import cities
from app.sms import send_sms
from app.utils import local_today, paginate


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


def _recognised(year):
    return sa.exists().where(Recognition.institution_id == Institution.id, recognition_in_force(year))


def _scope(select, user):
    if user.role == "city_admin":
        return select.where(Institution.city_code == user.city_code)
    if user.role == "province_admin":
        return select
    return select.where(sa.false())


def _received(round):
    """Reports of the period that reached the reviewers (not drafts)."""
    return sa.and_(MonthlyReport.round_id == round.id, MonthlyReport.status != workflow.DRAFT)


def completeness(*, round, user):
    """(rows by 市州, overall row) for the period, within the user's scope."""
    expected = dict(
        db.session.execute(
            _scope(sa.select(Institution.city_code, sa.func.count(Institution.id)).where(_recognised(round.year)), user).group_by(
                Institution.city_code
            )
        ).all()
    )
    received = {
        code: (count, late)
        for code, count, late in db.session.execute(
            _scope(
                sa.select(
                    Institution.city_code,
                    sa.func.count(MonthlyReport.id),
                    sa.func.coalesce(sa.func.sum(sa.case((MonthlyReport.late.is_(True), 1), else_=0)), 0),
                )
                .select_from(MonthlyReport)
                .join(Institution, Institution.id == MonthlyReport.institution_id)
                .where(_received(round), _recognised(round.year)),
                user,
            ).group_by(Institution.city_code)
        ).all()
    }
    rows = []
    for city in cities():
        if user.role == "city_admin" and city.code != user.city_code:
            continue
        count, late = received.get(city.code, (0, 0))
        rows.append(CityRow(city.code, city.name, int(expected.get(city.code, 0)), int(count), int(late)))
    overall = CityRow(None, "合计", sum(r.expected for r in rows), sum(r.received for r in rows), sum(r.late for r in rows))
    return rows, overall


def _missing_select(round, user, city_code=None):
    # NOT IN over the period's reports (computed once), not a correlated NOT EXISTS: with 2,000
    # institutions the correlated form scanned the period's 2,000 filings per institution (1.2 s).
    reported = sa.select(MonthlyReport.institution_id).where(_received(round), MonthlyReport.institution_id.is_not(None))
    select = _scope(sa.select(Institution).where(_recognised(round.year), Institution.id.not_in(reported)), user)
    if city_code and user.role == "province_admin":
        select = select.where(Institution.city_code == city_code)
    return select


def missing_institutions(*, round, user, city_code=None, page=1):
    """One page of the institutions that have not reported, each with its draft and 补报 state."""
    select = _missing_select(round, user, city_code).order_by(Institution.city_code, Institution.name, Institution.id)
    result = paginate(select, page=page, per_page=30)
    ids = [i.id for i in result.items] or [0]
    drafts = set(
        db.session.scalars(
            sa.select(MonthlyReport.institution_id).where(MonthlyReport.round_id == round.id, MonthlyReport.institution_id.in_(ids))
        )
    )
    reopen = {}
    for req in db.session.scalars(
        sa.select(ReportReopenRequest)
        .where(ReportReopenRequest.round_id == round.id, ReportReopenRequest.institution_id.in_(ids))
        .order_by(ReportReopenRequest.id)
    ):
        reopen[req.institution_id] = req
    result.items = [(institution, institution.id in drafts, reopen.get(institution.id)) for institution in result.items]
    return result


def missing_count(*, round, user, city_code=None):
    select = _missing_select(round, user, city_code).order_by(None).subquery()
    return db.session.scalar(sa.select(sa.func.count()).select_from(select))


def reminders_send(*, round, user, city_code=None):
    """催报: an in-app message and an SMS (outbox) to each institution that has not reported, and
    to no one else. Commits; returns how many were reminded."""
    today = local_today()
    if today > round.closes_on:
        deadline = f"已于 {round.closes_on:%Y-%m-%d} 截止，请尽快申请补报"
    else:
        deadline = f"截止日期为 {round.closes_on:%Y-%m-%d}"
    title = f"请按时填报{round.year}年{round.month}月核心服务机构调度数据"
    body = f"贵机构尚未报送{round.year}年{round.month}月的调度数据（{deadline}）。请登录系统，在“基础信息 → 核心服务机构调度数据”中点击“基础数据填报”。"
    link = url_for("reports.list_reports")
    count = 0
    select = _missing_select(round, user, city_code).order_by(Institution.id).options(selectinload(Institution.user))
    for institution in db.session.scalars(select).all():
        owner = institution.user
        notify(owner, title, body, link=link)
        phone = owner.phone if is_mobile(owner.phone) else institution.phone
        if is_mobile(phone):
            send_sms(phone, f"【湖南省中小企业服务中心】{institution.name}：{title}，{deadline}。")
        count += 1
    scope = "全省" if user.role == "province_admin" and not city_code else (user.city.name if user.role == "city_admin" and user.city else city_code)
    audit(
        "report.remind",
        summary=f"{round.title}催报：提醒 {count} 家未报送机构（{scope}）",
        target=round,
        after={"reminded": count, "city_code": city_code or user.city_code},
        actor=user,
    )
    db.session.commit()
    return count


def reopen_state(request):
    if request is None:
        return ""
    if request.status == REOPEN_PENDING:
        return "补报申请待处理"
    if request.status == REOPEN_GRANTED and request.until and request.until >= local_today():
        return f"已同意补报（至 {request.until:%Y-%m-%d}）"
    return request.status_label
