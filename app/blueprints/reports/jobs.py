"""The reports module's background jobs (调度数据导出, 季度通报, 催报) and schedules (reminders before
each 调度期's deadline, recognition expiry notices), declared in module.py."""

from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app, url_for

from app.blueprints.applications.models import Recognition
from app.blueprints.auth.models import Institution
from app.blueprints.reports import reminders, services
from app.blueprints.reports.bulletin import bulletin, bulletin_docx
from app.blueprints.reports.export import export_name, export_write
from app.extensions import db
from app.filings.export import XLSX
from app.filings.models import Round
from app.inbox import notify
from app.jobs import JobKind, Outcome, Param, ScheduleKind, job_admin
from app.sms import send_sms

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


# ---- jobs --------------------------------------------------------------------------------------


def export_job(*, job, progress, path):
    """调度数据导出 as a job: the same workbook as the download, in the requester's scope."""
    keys = ("year", "month_from", "month_to", "city_code", "status", "institution_type_id")
    criteria = {key: job.params.get(key) for key in keys}  # as export_criteria read them from the form
    criteria["month_from"] = criteria["month_from"] or 1
    criteria["month_to"] = criteria["month_to"] or 12
    user = job_admin(job)
    with open(path, "wb") as out:
        export_write(out, progress=progress, user=user, **criteria)
    return Outcome("导出完成，请下载。", download_name=export_name(**criteria), mimetype=XLSX)


def bulletin_job(*, job, progress, path):
    """季度通报 (.docx) as a job."""
    progress(0, 2, "正在汇总本季度数据", force=True)
    b = bulletin(year=job.params["year"], quarter=job.params["quarter"], user=job_admin(job))
    progress(1, 2, "正在生成通报文档", force=True)
    path.write_bytes(bulletin_docx(b))
    return Outcome("通报已生成，请下载。", download_name=f"{b.title}.docx", mimetype=DOCX)


def remind_job(*, job, progress, path):
    """催报 of one 调度期 (and 市州) as a job; repeating it reminds no one twice (reminders._claim)."""
    round = services.period_get(job.params["round_id"])
    if round is None:
        return Outcome("该调度期已不存在。")
    result = reminders.reminders_send(
        round=round, user=job_admin(job), city_code=job.params.get("city_code"), progress=progress
    )
    return Outcome(" ".join(text for _category, text in reminders.reminder_message(result)))


JOBS = (
    JobKind("reports.export", "调度数据导出", export_job),
    JobKind("reports.bulletin", "季度通报", bulletin_job),
    JobKind("reports.remind", "调度催报", remind_job, writes=True),
)


# ---- schedules ---------------------------------------------------------------------------------


def deadline_reminders(*, params, today):
    """Before each open 调度期's deadline (the configured days before it), 催报 the institutions that
    have not reported, through the same rule as the 发送提醒 button (REMINDER_INTERVAL holds)."""
    days = set(params.get("days_before") or [])
    rounds = db.session.scalars(
        sa.select(Round).where(Round.kind == "report", Round.opens_on <= today, Round.closes_on >= today)
    ).all()
    parts = []
    for round in rounds:
        left = (round.closes_on - today).days
        if left not in days:
            continue
        result = reminders.reminders_record(round=round, user=reminders.SYSTEM)
        parts.append(f"{round.title}（距截止 {left} 天）提醒 {result.reminded} 家，跳过 {result.skipped} 家")
    return "；".join(parts) or "今天没有需要提醒的调度期"


def _term_ends(term_end):
    return date(term_end, 12, 31)


def recognition_expiry(*, params, today):
    """Tell each institution whose 核心服务机构 recognition ends in the configured number of days
    (a term ends on 31 December of its last year), by 站内消息 and SMS, once per threshold."""
    years = {}  # the term's last year -> days left, for the thresholds that fall on a 31 December
    for left in set(params.get("days_before") or []):
        end = today + timedelta(days=left)
        if end == _term_ends(end.year):
            years[end.year] = left
    if not years:
        return "今天没有到期提醒"
    # the institution's latest term: one that is followed by a newer term is not expiring
    newer = sa.orm.aliased(Recognition)
    rows = db.session.execute(
        sa.select(Recognition, Institution)
        .join(Institution, Institution.id == Recognition.institution_id)
        .where(
            Recognition.term_end.in_(list(years)),
            Recognition.revoked_at.is_(None),
            ~sa.exists().where(
                newer.institution_id == Recognition.institution_id,
                newer.revoked_at.is_(None),
                newer.term_end > Recognition.term_end,
            ),
        )
        .order_by(Institution.id)
    ).all()
    link = (
        url_for("applications.list_applications")
        if "applications.list_applications" in current_app.view_functions
        else None
    )
    for recognition, institution in rows:
        left = years[recognition.term_end]
        title = f"核心服务机构认定将于 {recognition.term_end}-12-31 到期"
        body = (
            f"贵机构的核心服务机构认定（{recognition.term_label}）将在 {left} 天后到期。"
            "如需继续作为核心服务机构，请关注新一轮核心服务机构申报通知并按时申报。"
        )
        notify(institution.user, title, body, link=link)
        phone = reminders._reminder_phone(institution)
        if phone:
            send_sms(phone, f"【湖南省中小企业服务中心】{institution.name}：{title}，请关注新一轮申报通知。")
    return f"向 {len(rows)} 家认定即将到期的机构发送了提醒" if rows else "今天没有到期提醒"


SCHEDULES = (
    ScheduleKind(
        "reports.deadline_reminders",
        "调度截止前提醒",
        "在每个调度期截止前的设定天数，向尚未报送的机构发送站内消息和短信（同一机构在提醒间隔内不重复提醒）。",
        deadline_reminders,
        params=(
            Param("days_before", "提前天数", [3, 1], kind="days", minimum=0, maximum=30, hint="多个用逗号分隔，如 3,1"),
        ),
    ),
    ScheduleKind(
        "reports.recognition_expiry",
        "认定到期提醒",
        "核心服务机构认定到期（认定期限最后一年的 12 月 31 日）前的设定天数，提醒机构关注新一轮申报。",
        recognition_expiry,
        params=(
            Param(
                "days_before",
                "提前天数",
                [90, 30],
                kind="days",
                minimum=1,
                maximum=365,
                hint="多个用逗号分隔，如 90,30",
            ),
        ),
    ),
)
