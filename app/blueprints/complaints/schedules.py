"""投诉办理期限的定时任务: a warning before a complaint's 办理期限 and the escalation of overdue ones
(declared in module.py; run once a day by app/jobs.py)."""

import sqlalchemy as sa
from flask import url_for

from app.blueprints.complaints.models import OPEN_STATUSES, Complaint
from app.blueprints.complaints.services import CITY, PROVINCE, active_admins
from app.blueprints.complaints.workdays import is_working_day, working_days_between
from app.extensions import db
from app.inbox import notify
from app.jobs import Param, ScheduleKind

DIGEST_LIMIT = 20  # overdue tickets named in the province's daily message


def _handlers(complaint):
    """Who is handling it now: the 市州 it was transferred to, else the province."""
    if complaint.assigned_city_code:
        return active_admins(CITY, complaint.assigned_city_code)
    return active_admins(PROVINCE)


def complaint_deadlines(*, params, today):
    """On working days: warn the handlers of each open complaint whose 办理期限 is ``warn_days``
    working days away; tell them on its first overdue working day; and give the province one
    message listing every overdue complaint (督办)."""
    if not is_working_day(today):
        return "今天不是工作日，不发送提醒"
    warn_days = int(params.get("warn_days", 2))
    complaints = db.session.scalars(
        sa.select(Complaint)
        .where(Complaint.status.in_(OPEN_STATUSES), Complaint.due_on.is_not(None))
        .order_by(Complaint.due_on, Complaint.id)
    ).all()
    warned, overdue = 0, []
    for complaint in complaints:
        link = url_for("complaints.show_complaint", complaint_id=complaint.id)
        if complaint.due_on >= today:
            if working_days_between(today, complaint.due_on) != warn_days:
                continue
            for admin in _handlers(complaint):
                notify(
                    admin,
                    f"投诉 {complaint.ticket_no} 将于 {complaint.due_on:%Y-%m-%d} 到期",
                    f"投诉“{complaint.respondent_name}”还有 {warn_days} 个工作日到期，请及时办理。",
                    link=link,
                )
            warned += 1
            continue
        overdue.append(complaint)
        if working_days_between(complaint.due_on, today) == 1:  # its first overdue working day
            for admin in _handlers(complaint):
                notify(
                    admin,
                    f"投诉 {complaint.ticket_no} 已超过办理期限",
                    f"投诉“{complaint.respondent_name}”的办理期限为 {complaint.due_on:%Y-%m-%d}，已超期，请尽快办结。",
                    link=link,
                )
    if overdue:
        names = "、".join(c.ticket_no or str(c.id) for c in overdue[:DIGEST_LIMIT])
        more = f"等 {len(overdue)} 件" if len(overdue) > DIGEST_LIMIT else f"共 {len(overdue)} 件"
        for admin in active_admins(PROVINCE):
            notify(
                admin,
                f"超期未办结投诉 {len(overdue)} 件，请督办",
                f"以下投诉已超过办理期限：{names}（{more}）。",
                link=url_for("complaints.list_complaints", overdue=1),
            )
    return f"到期提醒 {warned} 件，超期 {len(overdue)} 件"


SCHEDULES = (
    ScheduleKind(
        "complaints.deadlines",
        "投诉办理期限提醒",
        "工作日每天检查未办结的投诉：到期前的设定工作日提醒承办单位；超期后提醒承办单位，并每天向省级管理员汇总督办。",
        complaint_deadlines,
        params=(Param("warn_days", "到期前提醒", 2, minimum=1, maximum=15, hint="到期前几个工作日提醒承办单位"),),
    ),
)
