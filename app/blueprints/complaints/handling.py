"""投诉处理 by admins: the queue, the deadline clock, the state machine and the 管理首页 counts.

待受理 → 已受理 → 已转办 (to a 市州) → 处理中 → 已办结, or 不予受理 with a reason. Each step records
who, when and a note in the history and the audit trail. Functions own their commit and raise
``ComplaintError`` with a message for the admin.
"""

from collections import namedtuple
from datetime import timedelta

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.orm import selectinload

from app.audit import audit
from app.blueprints.admin.services import HomeCount
from app.blueprints.complaints.models import (
    ACCEPTED,
    CLOSED,
    OPEN_STATUSES,
    PROCESSING,
    REJECTED,
    SUBMITTED,
    TRANSFERRED,
    UNVERIFIED,
    Complaint,
)
from app.blueprints.complaints.services import (
    CITY,
    CLOSED_SMS,
    PROVINCE,
    REJECTED_SMS,
    ComplaintError,
    active_admins,
    handling_state,
    record_event,
)
from app.blueprints.complaints.workdays import add_working_days, working_days_between
from app.extensions import db
from app.inbox import notify
from app.reference.services import region_name
from app.sms import send_sms
from app.utils import local_today, utcnow

Deadline = namedtuple("Deadline", "label css overdue")


def deadline(complaint, today=None):
    """The deadline clock: working days left, or overdue by how many, or how it ended."""
    if complaint.status == REJECTED or complaint.due_on is None:
        return Deadline("—", "", False)
    if complaint.status == CLOSED:
        if complaint.closed_on_time:
            return Deadline("按期办结", "status-ok", False)
        return Deadline("超期办结", "status-bad", False)
    today = today or local_today()
    if today > complaint.due_on:
        late = working_days_between(complaint.due_on, today)
        return Deadline(f"已超期 {late} 个工作日" if late else "已超期", "status-bad", True)
    if today == complaint.due_on:
        return Deadline("今日到期", "status-warn", False)
    left = working_days_between(today, complaint.due_on)
    return Deadline(f"剩余 {left} 个工作日", "status-warn" if left <= 3 else "status-ok", False)


def _scope(select, viewer):
    """Registered complaints the viewer may see: a city admin only those transferred to its 市州."""
    select = select.where(Complaint.status != UNVERIFIED)
    if viewer.role == PROVINCE:
        return select
    return select.where(Complaint.assigned_city_code == viewer.city_code, Complaint.assigned_city_code.is_not(None))


def complaints_select(*, viewer, status=None, city_code=None, date_from=None, date_to=None, overdue=False, q=None):
    """投诉列表: open ones first, the nearest deadline first."""
    select = _scope(sa.select(Complaint), viewer)
    if status:
        select = select.where(Complaint.status == status)
    if city_code:
        select = select.where(Complaint.respondent_city_code == city_code)
    if date_from:
        select = select.where(Complaint.registered_on >= date_from)
    if date_to:
        select = select.where(Complaint.registered_on <= date_to)
    if overdue:
        select = select.where(Complaint.status.in_(OPEN_STATUSES), Complaint.due_on < local_today())
    if q:
        select = select.where(
            sa.or_(
                *(
                    column.icontains(q, autoescape=True)
                    for column in (Complaint.ticket_no, Complaint.company_name, Complaint.respondent_name)
                )
            )
        )
    return select.options(selectinload(Complaint.respondent_city), selectinload(Complaint.assigned_city)).order_by(
        sa.case((Complaint.status.in_(OPEN_STATUSES), 0), else_=1), Complaint.due_on, Complaint.id.desc()
    )


def complaint_for_admin(*, complaint_id, viewer):
    """The complaint if the viewer may see it, else None (a city admin: only its 市州's)."""
    return db.session.scalar(
        _scope(sa.select(Complaint), viewer)
        .where(Complaint.id == complaint_id)
        .options(selectinload(Complaint.events), selectinload(Complaint.attachments))
    )


def _city_handles(complaint, user):
    return (
        user.role == CITY
        and complaint.assigned_city_code is not None
        and complaint.assigned_city_code == user.city_code
        and complaint.status in (TRANSFERRED, PROCESSING)
    )


def allowed_actions(complaint, user):
    """The handling actions ``user`` may take on ``complaint`` now, in display order."""
    province = user.role == PROVINCE
    status = complaint.status
    actions = []
    if province and status == SUBMITTED:
        actions += ["accept", "reject"]
    if province and status == ACCEPTED:
        actions += ["transfer", "start"]
    if status == TRANSFERRED and (province or _city_handles(complaint, user)):
        actions.append("start")
    if status == PROCESSING and (province or _city_handles(complaint, user)):
        actions.append("close")
    if status in OPEN_STATUSES and (province or _city_handles(complaint, user)):
        actions.append("extend")
    return actions


REPEAT_WINDOW = timedelta(minutes=10)


def _repeated(complaint, action, actor, note):
    """Whether the complaint's last event is this very action by ``actor`` (a double click, a
    retry after a timeout): a state change already made; a 延期 with the same text just now."""
    last = complaint.events[-1] if complaint.events else None
    if last is None or last.action != action or last.actor_id != actor.id:
        return False
    if action == "extend":
        return utcnow() - last.created_at < REPEAT_WINDOW and (reason_of(last) == (note or "").strip())
    return last.to_status == complaint.status


def reason_of(event):
    return event.note.rsplit("理由：", 1)[-1].strip() if event.note else ""


def complaint_act(*, complaint_id, action, actor, note="", reason="", result="", city_code=None, days=None):
    """Carry out one handling action (受理, 不予受理, 转办, 开始处理, 办结, 延期). Commits.

    Raises ComplaintError when the complaint is not the actor's to see (``field`` None, message
    没有找到), when the action is not allowed in its state for the actor, or a required text is
    missing (``field`` names it).
    """
    complaint = complaint_for_admin(complaint_id=complaint_id, viewer=actor)
    if complaint is None:
        raise ComplaintError("没有找到该投诉。")
    # The row lock makes two admins (or a double click) take turns; the second then sees the
    # first one's result, read afresh under the lock.
    db.session.execute(sa.select(Complaint.id).where(Complaint.id == complaint.id).with_for_update())
    db.session.refresh(complaint)
    db.session.expire(complaint, ["events"])
    if _repeated(complaint, action, actor, note=note or reason or result):
        return complaint  # the same action by the same person a moment ago: done once
    if action not in allowed_actions(complaint, actor):
        last = complaint.events[-1] if complaint.events else None
        by = f"已由{last.actor_name}{last.action_label}，" if last is not None and last.actor_id != actor.id else ""
        raise ComplaintError(f"该投诉{by}当前为“{complaint.status_label}”，不能进行此操作。")
    before = handling_state(complaint)
    status = complaint.status
    today = local_today()
    link = url_for("complaints.show_complaint", complaint_id=complaint.id)
    if action == "accept":
        complaint.status = ACCEPTED
        record_event(complaint, action, status, ACCEPTED, actor=actor, note=note)
    elif action == "reject":
        if not (reason or "").strip():
            raise ComplaintError("请填写不予受理理由。", "reason")
        complaint.status = REJECTED
        complaint.reject_reason = reason
        record_event(complaint, action, status, REJECTED, actor=actor, note=reason, public_note=True)
        send_sms(complaint.phone, REJECTED_SMS.format(ticket=complaint.ticket_no))
    elif action == "transfer":
        if not city_code or not region_name(city_code):
            raise ComplaintError("请选择转办的市州。", "city_code")
        complaint.status = TRANSFERRED
        complaint.assigned_city_code = city_code
        record_event(
            complaint,
            action,
            status,
            TRANSFERRED,
            actor=actor,
            note=f"转办至{region_name(city_code)}工信局" + (f"：{note}" if note else ""),
        )
        for admin in active_admins(CITY, city_code):
            notify(
                admin,
                f"新转办投诉 {complaint.ticket_no}",
                f"被投诉方：{complaint.respondent_name}；办理期限 {complaint.due_on:%Y-%m-%d}。",
                link,
            )
    elif action == "start":
        if status == ACCEPTED:
            complaint.assigned_city_code = None  # the province handles it itself
        complaint.status = PROCESSING
        record_event(complaint, action, status, PROCESSING, actor=actor, note=note)
    elif action == "close":
        if not (result or "").strip():
            raise ComplaintError("请填写处理结果，投诉人将看到此内容。", "result")
        complaint.status = CLOSED
        complaint.result = result
        complaint.closed_at = utcnow()
        complaint.handling_days = max(0, working_days_between(complaint.registered_on, today))
        complaint.closed_on_time = today <= complaint.due_on
        complaint.rating = None
        complaint.rated_at = None
        record_event(complaint, action, status, CLOSED, actor=actor, note=result, public_note=True)
        send_sms(complaint.phone, CLOSED_SMS.format(ticket=complaint.ticket_no))
    elif action == "extend":
        if not (reason or "").strip():
            raise ComplaintError("请填写延期理由。", "reason")
        if not days or not 1 <= int(days) <= 30:
            raise ComplaintError("请填写 1-30 个工作日。", "days")
        old_due = complaint.due_on
        complaint.due_on = add_working_days(old_due, int(days))
        record_event(
            complaint,
            action,
            None,
            None,
            actor=actor,
            public_note=True,
            due_on=complaint.due_on,
            note=f"办理期限由 {old_due:%Y-%m-%d} 延长 {int(days)} 个工作日至 {complaint.due_on:%Y-%m-%d}。理由：{reason}",
        )
    label = complaint.events[-1].action_label
    audit(
        f"complaint.{action}",
        summary=f"投诉 {complaint.ticket_no} {label}",
        target=complaint,
        before=before,
        after=handling_state(complaint),
        actor=actor,
    )
    db.session.commit()
    return complaint


# --- 管理首页 counts ----------------------------------------------------------------------------


def complaint_counts(user):
    if user.role not in (PROVINCE, CITY):
        return []

    def of_status(status):
        return _scope(sa.select(sa.func.count(Complaint.id)), user).where(Complaint.status == status)

    overdue = _scope(sa.select(sa.func.count(Complaint.id)), user).where(
        Complaint.status.in_(OPEN_STATUSES), Complaint.due_on < local_today()
    )
    queue = "complaints.list_complaints"
    if user.role == PROVINCE:
        tiles = [
            HomeCount("待受理投诉", of_status(SUBMITTED), url_for(queue, status=SUBMITTED), "件"),
            HomeCount("已受理待转办投诉", of_status(ACCEPTED), url_for(queue, status=ACCEPTED), "件"),
        ]
    else:
        tiles = [
            HomeCount("待处理投诉", of_status(TRANSFERRED), url_for(queue, status=TRANSFERRED), "件"),
            HomeCount("处理中投诉", of_status(PROCESSING), url_for(queue, status=PROCESSING), "件"),
        ]
    tiles.append(HomeCount("超期未办结投诉", overdue, url_for(queue, overdue="1"), "件"))
    return tiles
