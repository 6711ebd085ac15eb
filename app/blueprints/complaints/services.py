"""企业投诉 rules: registration with an SMS-confirmed phone, the 处理结果 lookup, rating, and the
handling state machine of admins.

Every public function is keyword-only and owns its commit. A request that cannot be carried out
raises ``ComplaintError`` (or ``VerificationError`` for SMS codes) with a message for the user.
"""
import hashlib
import secrets
from collections import namedtuple
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, url_for
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.audit import audit
from app.blueprints.admin.services import HomeCount, home_count_provider
from app.blueprints.auth.models import User
from app.blueprints.complaints.models import (
    ACCEPTED,
    CLOSED,
    OPEN_STATUSES,
    PROCESSING,
    RATING_LABELS,
    REJECTED,
    SUBMITTED,
    TRANSFERRED,
    UNVERIFIED,
    Complaint,
    ComplaintEvent,
    ComplaintLookup,
    ComplaintTicketCounter,
)
from app.blueprints.complaints.workdays import add_working_days, working_days_between
from app.extensions import db
from app.filings.attachments import attachment_remove_file, attachment_store
from app.inbox import notify
from app.reference.services import region_name
from app.sms import send_sms
from app.utils import local_today, utcnow
from app.verification import SmsCode, sms_code_send, sms_code_verify

DEFAULT_DUE_WORKING_DAYS = 15
DRAFT_LIFETIME = timedelta(days=1)
LOOKUP_LIFETIME = timedelta(minutes=30)
SIGN = "【湖南省中小企业服务中心】"
COMPLAINT_CODE_SMS = SIGN + "您正在提交企业投诉，验证码 {code}，{minutes} 分钟内有效。如非本人操作请忽略。"
LOOKUP_CODE_SMS = SIGN + "您正在查询企业投诉处理结果，验证码 {code}，{minutes} 分钟内有效。如非本人操作请忽略。"
REGISTERED_SMS = SIGN + "您的投诉已登记，受理编号 {ticket}，预计 {due} 前答复。可凭本手机号在“企业投诉-处理结果”查询办理进度。"
REJECTED_SMS = SIGN + "您的投诉 {ticket} 不予受理，理由请凭本手机号在“企业投诉-处理结果”查看。"
CLOSED_SMS = SIGN + "您的投诉 {ticket} 已办结，请凭本手机号在“企业投诉-处理结果”查看处理结果并评价。"
DRAFT_FIELDS = (
    "company_name", "contact_name", "phone", "respondent_name", "respondent_city_code",
    "respondent_address", "respondent_contact", "respondent_phone", "content",
)
PROVINCE, CITY = "province_admin", "city_admin"


class ComplaintError(ValueError):
    """A request that cannot be carried out; ``field`` names the form field it concerns."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


def due_working_days():
    return int(current_app.config.get("COMPLAINT_DUE_WORKING_DAYS", DEFAULT_DUE_WORKING_DAYS))


def mask_phone(phone):
    return f"{phone[:3]}****{phone[-4:]}" if phone and len(phone) >= 7 else phone


# --- 投诉登记: a server-side draft until the phone is confirmed ---------------------------------

def complaint_draft_get(*, draft_id):
    """The unverified complaint with this id, or None (registered, purged or never made)."""
    if not draft_id:
        return None
    return db.session.scalar(sa.select(Complaint).where(Complaint.id == draft_id, Complaint.status == UNVERIFIED))


def _live_code(phone, purpose):
    """True when an unused, unexpired code for ``purpose`` was sent to ``phone`` and may still be tried."""
    return db.session.scalar(
        sa.select(sa.func.count(SmsCode.id)).where(
            SmsCode.phone == phone,
            SmsCode.purpose == purpose,
            SmsCode.used_at.is_(None),
            SmsCode.expires_at > utcnow(),
            SmsCode.tries < current_app.config["SMS_CODE_MAX_TRIES"],
        )
    ) > 0


def _purge_stale_drafts():
    """Drafts older than a day go, with their files. Returns the files to remove after commit."""
    stale = db.session.scalars(
        sa.select(Complaint)
        .where(Complaint.status == UNVERIFIED, Complaint.created_at < utcnow() - DRAFT_LIFETIME)
        .options(selectinload(Complaint.attachments))
    ).all()
    files = []
    for draft in stale:
        files.extend(_drop_attachments(draft, list(draft.attachments)))
        db.session.delete(draft)
    return files


def _drop_attachments(complaint, attachments):
    for attachment in attachments:
        complaint.attachments.remove(attachment)
        db.session.delete(attachment)
    return attachments


def complaint_draft_save(*, draft_id, data, files=(), remove_ids=()):
    """Keep the typed complaint as a draft and send the SMS code to its phone. Commits.

    ``data`` holds DRAFT_FIELDS; ``files`` are new evidence files; ``remove_ids`` are ids of the
    draft's files to drop. A code already sent to the same phone that can still be used is not
    sent again. Nothing is kept when a file is refused or the code cannot be sent.
    Returns the draft. Raises ComplaintError or VerificationError.
    """
    from app.filings.attachments import AttachmentError

    stored = []
    try:
        old_files = _purge_stale_drafts()
        draft = complaint_draft_get(draft_id=draft_id)
        phone_before = draft.phone if draft is not None else None
        if draft is None:
            draft = Complaint(status=UNVERIFIED)
            db.session.add(draft)
        for name in DRAFT_FIELDS:
            setattr(draft, name, data[name])
        remove = [a for a in draft.attachments if a.id in set(remove_ids or ())]
        old_files.extend(_drop_attachments(draft, remove))
        if len(draft.attachments) + len(files) > 5:
            raise ComplaintError("证据材料最多 5 个文件，文件较多时请打包为压缩包上传。", "evidence")
        for file in files:
            try:
                attachment = attachment_store(file, user=None)
            except AttachmentError as error:
                raise ComplaintError(str(error), "evidence") from error
            stored.append(attachment)
            draft.attachments.append(attachment)
        draft.created_at = utcnow()
        if phone_before == draft.phone and _live_code(draft.phone, "complaint"):
            db.session.commit()
        else:
            sms_code_send(phone=draft.phone, purpose="complaint", text_template=COMPLAINT_CODE_SMS)  # commits
    except BaseException:
        db.session.rollback()
        for attachment in stored:
            attachment_remove_file(attachment)
        raise
    for attachment in old_files:
        attachment_remove_file(attachment)
    return draft


def complaint_code_resend(*, draft_id):
    """重新获取验证码 for the draft's phone (1 per minute, 10 a day). Raises ComplaintError, VerificationError."""
    draft = complaint_draft_get(draft_id=draft_id)
    if draft is None:
        raise ComplaintError("填写的投诉内容已过期，请重新填写。")
    sms_code_send(phone=draft.phone, purpose="complaint", text_template=COMPLAINT_CODE_SMS)
    return draft


def _next_ticket_no(day):
    """TS20241126-0007: the day's next number. The counter row is locked by the UPDATE until
    commit (PostgreSQL row lock, SQLite's write lock), so two registrations never share one."""
    for _ in range(5):
        counter = ComplaintTicketCounter.__table__
        updated = db.session.execute(
            sa.update(counter).where(counter.c.day == day).values(last=counter.c.last + 1)
        )
        if updated.rowcount:
            last = db.session.scalar(sa.select(counter.c.last).where(counter.c.day == day))
            return f"TS{day:%Y%m%d}-{last:04d}"
        try:
            with db.session.begin_nested():
                db.session.execute(sa.insert(counter).values(day=day, last=1))
        except IntegrityError:
            continue  # another registration created today's row first: increment it instead
        return f"TS{day:%Y%m%d}-0001"
    raise RuntimeError("could not allocate a 受理编号")


def complaint_register(*, draft_id, code):
    """Confirm the phone with the SMS code and register the complaint: 受理编号, 办理期限, SMS.
    Commits. Raises ComplaintError (draft gone) or VerificationError (code wrong/expired/used)."""
    draft = complaint_draft_get(draft_id=draft_id)
    if draft is None:
        raise ComplaintError("填写的投诉内容已过期，请重新填写。")
    sms_code_verify(phone=draft.phone, purpose="complaint", code=code)  # commits the try
    today = local_today()
    draft.ticket_no = _next_ticket_no(today)
    draft.status = SUBMITTED
    draft.registered_at = utcnow()
    draft.registered_on = today
    draft.due_on = add_working_days(today, due_working_days())
    _event(draft, "register", None, SUBMITTED, actor=None, due_on=draft.due_on)
    send_sms(draft.phone, REGISTERED_SMS.format(ticket=draft.ticket_no, due=f"{draft.due_on:%Y-%m-%d}"))
    db.session.commit()
    return draft


def complaint_get_registered(*, complaint_id):
    if not complaint_id:
        return None
    return db.session.scalar(sa.select(Complaint).where(Complaint.id == complaint_id, Complaint.status != UNVERIFIED))


def _event(complaint, action, from_status, to_status, *, actor, note="", public_note=False, due_on=None):
    event = ComplaintEvent(
        action=action,
        from_status=from_status,
        to_status=to_status,
        note=note or "",
        public_note=public_note,
        due_on=due_on,
        actor_id=getattr(actor, "id", None),
        actor_name=(actor.display_name or actor.username) if actor is not None else "投诉人",
    )
    complaint.events.append(event)
    return event


# --- 处理结果 lookup: the phone is the credential, confirmed by SMS code ------------------------

def _token_hash(token):
    return hashlib.sha256((token or "").encode()).hexdigest()


def _lookup_row(token):
    if not token:
        return None
    return db.session.get(ComplaintLookup, _token_hash(token))


def lookup_start(*, phone):
    """Send a lookup code to ``phone`` and return the token of the new pending lookup. Commits.

    The code is sent whether or not the phone has complaints, so neither this step nor a wrong
    code tells anyone which phones have complained. Raises VerificationError (send limits).
    """
    now = utcnow()
    db.session.execute(sa.delete(ComplaintLookup).where(ComplaintLookup.expires_at < now - timedelta(days=1)))
    token = secrets.token_urlsafe(32)
    db.session.add(
        ComplaintLookup(
            token_hash=_token_hash(token), phone=phone, code_sent_at=now,
            expires_at=now + current_app.config["SMS_CODE_TTL"],
        )
    )
    try:
        sms_code_send(phone=phone, purpose="lookup", text_template=LOOKUP_CODE_SMS)  # commits
    except BaseException:
        db.session.rollback()
        raise
    return token


def lookup_pending(*, token):
    """The pending (code sent, not yet typed) lookup of this token, or None."""
    row = _lookup_row(token)
    if row is None or row.verified_at is not None or row.expires_at < utcnow():
        return None
    return row


def lookup_resend(*, token):
    """重新获取验证码 for a pending lookup. Raises ComplaintError, VerificationError. Commits."""
    row = lookup_pending(token=token)
    if row is None:
        raise ComplaintError("查询已过期，请重新输入手机号码。")
    now = utcnow()
    row.code_sent_at = now
    row.expires_at = now + current_app.config["SMS_CODE_TTL"]
    try:
        sms_code_send(phone=row.phone, purpose="lookup", text_template=LOOKUP_CODE_SMS)
    except BaseException:
        db.session.rollback()
        raise
    return row


def lookup_verify(*, token, code):
    """Accept the lookup code; the lookup then lasts 30 minutes. Commits.
    Raises ComplaintError (no pending lookup) or VerificationError (the same messages whether or
    not the phone has complaints)."""
    row = lookup_pending(token=token)
    if row is None:
        raise ComplaintError("查询已过期，请重新输入手机号码。")
    sms_code_verify(phone=row.phone, purpose="lookup", code=code)
    now = utcnow()
    row.verified_at = now
    row.expires_at = now + LOOKUP_LIFETIME
    db.session.commit()
    return row


def lookup_phone(*, token):
    """The phone of a verified, unexpired lookup, or None."""
    row = _lookup_row(token)
    if row is None or row.verified_at is None or row.expires_at < utcnow():
        return None
    return row.phone


def lookup_end(*, token):
    """退出查询. Commits."""
    row = _lookup_row(token)
    if row is not None:
        db.session.delete(row)
        db.session.commit()


def lookup_complaints(*, phone):
    """That phone's registered complaints, newest first, with their history."""
    return db.session.scalars(
        sa.select(Complaint)
        .where(Complaint.phone == phone, Complaint.status != UNVERIFIED)
        .order_by(Complaint.registered_at.desc(), Complaint.id.desc())
        .options(selectinload(Complaint.events), selectinload(Complaint.respondent_city))
    ).all()


def complaint_rate(*, complaint_id, phone, rating, note=""):
    """评价 a 已办结 complaint of the verified phone; 不满意 reopens it for the province. Commits.
    Raises ComplaintError when it is not that phone's, not 已办结, or already rated."""
    complaint = db.session.scalar(
        sa.select(Complaint).where(Complaint.id == complaint_id, Complaint.phone == phone, Complaint.status != UNVERIFIED)
    )
    if complaint is None:
        raise ComplaintError("没有找到该投诉。")
    if complaint.status != CLOSED or complaint.rating is not None:
        raise ComplaintError("该投诉当前不能评价。")
    if rating not in RATING_LABELS:
        raise ComplaintError("请选择评价。", "rating")
    now = utcnow()
    complaint.rating = rating
    complaint.rated_at = now
    text = RATING_LABELS[rating] + (f"：{note}" if note else "")
    _event(complaint, "rate", None, None, actor=None, note=text, public_note=True)
    if rating == "dissatisfied":
        complaint.status = ACCEPTED
        complaint.reopen_count += 1
        complaint.closed_at = None
        complaint.handling_days = None
        complaint.closed_on_time = None
        complaint.due_on = add_working_days(local_today(), due_working_days())
        _event(complaint, "reopen", CLOSED, ACCEPTED, actor=None, note="投诉人不满意，重新办理", public_note=True, due_on=complaint.due_on)
        link = url_for("complaints.show_complaint", complaint_id=complaint.id)
        for admin in _active_admins(PROVINCE):
            notify(admin, f"投诉 {complaint.ticket_no} 投诉人不满意，已重新打开", text, link)
    db.session.commit()
    return complaint


# --- handling by admins ------------------------------------------------------------------------

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
        like = f"%{q}%"
        select = select.where(
            sa.or_(Complaint.ticket_no.ilike(like), Complaint.company_name.ilike(like), Complaint.respondent_name.ilike(like))
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


def _active_admins(role, city_code=None):
    select = sa.select(User).where(User.role == role, User.status == "active")
    if city_code:
        select = select.where(User.city_code == city_code)
    return db.session.scalars(select.order_by(User.id)).all()


def complaint_act(*, complaint_id, action, actor, note="", reason="", result="", city_code=None, days=None):
    """Carry out one handling action (受理, 不予受理, 转办, 开始处理, 办结, 延期). Commits.

    Raises ComplaintError when the complaint is not the actor's to see (``field`` None, message
    没有找到), when the action is not allowed in its state for the actor, or a required text is
    missing (``field`` names it).
    """
    complaint = complaint_for_admin(complaint_id=complaint_id, viewer=actor)
    if complaint is None:
        raise ComplaintError("没有找到该投诉。")
    if action not in allowed_actions(complaint, actor):
        raise ComplaintError(f"该投诉当前为“{complaint.status_label}”，不能进行此操作。")
    before = {"status": complaint.status, "due_on": complaint.due_on, "assigned_city_code": complaint.assigned_city_code}
    status = complaint.status
    today = local_today()
    link = url_for("complaints.show_complaint", complaint_id=complaint.id)
    if action == "accept":
        complaint.status = ACCEPTED
        _event(complaint, action, status, ACCEPTED, actor=actor, note=note)
    elif action == "reject":
        if not (reason or "").strip():
            raise ComplaintError("请填写不予受理理由。", "reason")
        complaint.status = REJECTED
        complaint.reject_reason = reason
        _event(complaint, action, status, REJECTED, actor=actor, note=reason, public_note=True)
        send_sms(complaint.phone, REJECTED_SMS.format(ticket=complaint.ticket_no))
    elif action == "transfer":
        if not city_code or not region_name(city_code):
            raise ComplaintError("请选择转办的市州。", "city_code")
        complaint.status = TRANSFERRED
        complaint.assigned_city_code = city_code
        _event(complaint, action, status, TRANSFERRED, actor=actor, note=f"转办至{region_name(city_code)}工信局" + (f"：{note}" if note else ""))
        for admin in _active_admins(CITY, city_code):
            notify(admin, f"新转办投诉 {complaint.ticket_no}", f"被投诉方：{complaint.respondent_name}；办理期限 {complaint.due_on:%Y-%m-%d}。", link)
    elif action == "start":
        if status == ACCEPTED:
            complaint.assigned_city_code = None  # the province handles it itself
        complaint.status = PROCESSING
        _event(complaint, action, status, PROCESSING, actor=actor, note=note)
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
        _event(complaint, action, status, CLOSED, actor=actor, note=result, public_note=True)
        send_sms(complaint.phone, CLOSED_SMS.format(ticket=complaint.ticket_no))
    elif action == "extend":
        if not (reason or "").strip():
            raise ComplaintError("请填写延期理由。", "reason")
        if not days or not 1 <= int(days) <= 30:
            raise ComplaintError("请填写 1-30 个工作日。", "days")
        old_due = complaint.due_on
        complaint.due_on = add_working_days(old_due, int(days))
        _event(
            complaint, action, None, None, actor=actor, public_note=True, due_on=complaint.due_on,
            note=f"办理期限由 {old_due:%Y-%m-%d} 延长 {int(days)} 个工作日至 {complaint.due_on:%Y-%m-%d}。理由：{reason}",
        )
    after = {"status": complaint.status, "due_on": complaint.due_on, "assigned_city_code": complaint.assigned_city_code}
    label = complaint.events[-1].action_label
    audit(
        f"complaint.{action}", summary=f"投诉 {complaint.ticket_no} {label}", target=complaint, before=before, after=after, actor=actor
    )
    db.session.commit()
    return complaint


# --- 管理首页 counts ----------------------------------------------------------------------------

@home_count_provider
def _complaint_counts(user):
    if user.role not in (PROVINCE, CITY):
        return []
    counts = dict(
        db.session.execute(
            _scope(sa.select(Complaint.status, sa.func.count(Complaint.id)), user).group_by(Complaint.status)
        ).all()
    )
    overdue = db.session.scalar(
        _scope(sa.select(sa.func.count(Complaint.id)), user).where(
            Complaint.status.in_(OPEN_STATUSES), Complaint.due_on < local_today()
        )
    )
    queue = "complaints.list_complaints"
    if user.role == PROVINCE:
        tiles = [
            HomeCount("待受理投诉", counts.get(SUBMITTED, 0), url_for(queue, status=SUBMITTED), "件"),
            HomeCount("已受理待转办投诉", counts.get(ACCEPTED, 0), url_for(queue, status=ACCEPTED), "件"),
        ]
    else:
        tiles = [
            HomeCount("待处理投诉", counts.get(TRANSFERRED, 0), url_for(queue, status=TRANSFERRED), "件"),
            HomeCount("处理中投诉", counts.get(PROCESSING, 0), url_for(queue, status=PROCESSING), "件"),
        ]
    tiles.append(HomeCount("超期未办结投诉", overdue, url_for(queue, overdue="1"), "件"))
    return tiles

