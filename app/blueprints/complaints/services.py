"""企业投诉 rules: registration with an SMS-confirmed phone, the 处理结果 lookup and rating
(the admins' handling is in handling.py).

Every public function is keyword-only and owns its commit. A request that cannot be carried out
raises ``ComplaintError`` (or ``VerificationError`` for SMS codes) with a message for the user.
"""

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, url_for
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.audit import audit
from app.blueprints.auth.models import User
from app.blueprints.complaints.models import (
    ACCEPTED,
    CLOSED,
    RATING_LABELS,
    STATUS_LABELS,
    SUBMITTED,
    UNVERIFIED,
    Complaint,
    ComplaintEvent,
    ComplaintLookup,
    ComplaintTicketCounter,
)
from app.blueprints.complaints.workdays import add_working_days
from app.extensions import db
from app.filings.attachments import AttachmentError, attachment_remove_file, attachment_store
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
REGISTERED_SMS = (
    SIGN + "您的投诉已登记，受理编号 {ticket}，预计 {due} 前答复。可凭本手机号在“企业投诉-处理结果”查询办理进度。"
)
REJECTED_SMS = SIGN + "您的投诉 {ticket} 不予受理，理由请凭本手机号在“企业投诉-处理结果”查看。"
CLOSED_SMS = SIGN + "您的投诉 {ticket} 已办结，请凭本手机号在“企业投诉-处理结果”查看处理结果并评价。"
DRAFT_FIELDS = (
    "company_name",
    "contact_name",
    "phone",
    "respondent_name",
    "respondent_city_code",
    "respondent_address",
    "respondent_contact",
    "respondent_phone",
    "content",
)
PROVINCE, CITY = "province_admin", "city_admin"

# 操作日志 shows these names (the complaints module declares them, app/blueprints/complaints/__init__.py).
ACTION_LABELS = {
    "complaint.register": "登记企业投诉",
    "complaint.accept": "受理投诉",
    "complaint.reject": "不予受理投诉",
    "complaint.transfer": "转办投诉",
    "complaint.start": "开始处理投诉",
    "complaint.close": "办结投诉",
    "complaint.extend": "投诉延期",
    "complaint.rate": "投诉人评价",
}
TARGET_LABELS = {"Complaint": "企业投诉"}
FIELD_LABELS = {"status": "状态", "due_on": "答复期限", "assigned_city": "转办市州"}


class _Complainant:
    """The actor of the audit entries the complainant causes (no account)."""

    id = None
    username = "投诉人"


_COMPLAINANT = _Complainant()


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
    return (
        db.session.scalar(
            sa.select(sa.func.count(SmsCode.id)).where(
                SmsCode.phone == phone,
                SmsCode.purpose == purpose,
                SmsCode.used_at.is_(None),
                SmsCode.expires_at > utcnow(),
                SmsCode.tries < current_app.config["SMS_CODE_MAX_TRIES"],
            )
        )
        > 0
    )


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
        most = current_app.config["COMPLAINT_MAX_FILES"]
        if len(draft.attachments) + len(files) > most:
            raise ComplaintError(f"证据材料最多 {most} 个文件，文件较多时请打包为压缩包上传。", "evidence")
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
        updated = db.session.execute(sa.update(counter).where(counter.c.day == day).values(last=counter.c.last + 1))
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
    draft = (
        db.session.scalar(
            sa.select(Complaint)
            .where(Complaint.id == draft_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if draft_id
        else None
    )
    if draft is not None and draft.status != UNVERIFIED and draft.ticket_no:
        return draft  # the same 确认提交 sent twice: the twin registered it (under this lock)
    if draft is None:
        raise ComplaintError("填写的投诉内容已过期，请重新填写。")
    # The code is used up in this transaction, with the registration: a failure below leaves it
    # usable, and a twin request waits on the draft's row lock, then finds it registered.
    sms_code_verify(phone=draft.phone, purpose="complaint", code=code, commit=False)
    today = local_today()
    draft.ticket_no = _next_ticket_no(today)
    draft.status = SUBMITTED
    draft.registered_at = utcnow()
    draft.registered_on = today
    draft.due_on = add_working_days(today, due_working_days())
    record_event(draft, "register", None, SUBMITTED, actor=None, due_on=draft.due_on)
    audit(
        "complaint.register",
        summary=f"投诉 {draft.ticket_no} 登记（投诉人 {draft.company_name}）",
        target=draft,
        after=handling_state(draft),
        actor=_COMPLAINANT,
    )
    send_sms(draft.phone, REGISTERED_SMS.format(ticket=draft.ticket_no, due=f"{draft.due_on:%Y-%m-%d}"))
    db.session.commit()
    return draft


def complaint_get_registered(*, complaint_id):
    if not complaint_id:
        return None
    return db.session.scalar(sa.select(Complaint).where(Complaint.id == complaint_id, Complaint.status != UNVERIFIED))


def record_event(complaint, action, from_status, to_status, *, actor, note="", public_note=False, due_on=None):
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
            token_hash=_token_hash(token),
            phone=phone,
            code_sent_at=now,
            expires_at=now + current_app.config["SMS_CODE_TTL"],
        )
    )
    try:
        sms_code_send(phone=phone, purpose="lookup", text_template=LOOKUP_CODE_SMS)  # commits
    except BaseException:
        db.session.rollback()
        raise
    return token


def lookup_grant(*, phone):
    """处理结果 without a second code right after filing: the phone was verified by the complaint's
    own SMS code a moment ago, so this browser gets a verified lookup for LOOKUP_LIFETIME. Returns
    its token. Commits."""
    now = utcnow()
    token = secrets.token_urlsafe(32)
    db.session.add(
        ComplaintLookup(
            token_hash=_token_hash(token),
            phone=phone,
            code_sent_at=None,
            verified_at=now,
            expires_at=now + LOOKUP_LIFETIME,
        )
    )
    db.session.commit()
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


def rateable(complaint):
    """Whether ``complaint`` may be rated now: 已办结 and not rated yet."""
    return complaint.status == CLOSED and complaint.rating is None


def complaint_rate(*, complaint_id, phone, rating, note=""):
    """评价 a 已办结 complaint of the verified phone; 不满意 reopens it for the province. Commits.
    Raises ComplaintError when it is not that phone's, not 已办结, or already rated."""
    complaint = db.session.scalar(
        sa.select(Complaint).where(
            Complaint.id == complaint_id, Complaint.phone == phone, Complaint.status != UNVERIFIED
        )
    )
    if complaint is None:
        raise ComplaintError("没有找到该投诉。")
    if not rateable(complaint):
        raise ComplaintError("该投诉当前不能评价。")
    if rating not in RATING_LABELS:
        raise ComplaintError("请选择评价。", "rating")
    before = handling_state(complaint)
    complaint.rating = rating
    complaint.rated_at = utcnow()
    text = RATING_LABELS[rating] + (f"（{note}）" if note else "")
    record_event(complaint, "rate", None, None, actor=None, note=text, public_note=True)
    if rating == "dissatisfied":
        complaint.status = ACCEPTED
        complaint.reopen_count += 1
        complaint.closed_at = None
        complaint.handling_days = None
        complaint.closed_on_time = None
        complaint.due_on = add_working_days(local_today(), due_working_days())
        record_event(
            complaint,
            "reopen",
            CLOSED,
            ACCEPTED,
            actor=None,
            note="投诉人不满意，重新办理",
            public_note=True,
            due_on=complaint.due_on,
        )
        link = url_for("complaints.show_complaint", complaint_id=complaint.id)
        for admin in active_admins(PROVINCE):
            notify(admin, f"投诉 {complaint.ticket_no} 投诉人不满意，已重新打开", text, link)
    audit(
        "complaint.rate",
        summary=f"投诉 {complaint.ticket_no} 投诉人评价：{text}"[:300],
        target=complaint,
        before=before,
        after=handling_state(complaint),
        actor=_COMPLAINANT,
    )
    db.session.commit()
    return complaint


def active_admins(role, city_code=None):
    select = sa.select(User).where(User.role == role, User.status == "active")
    if city_code:
        select = select.where(User.city_code == city_code)
    return db.session.scalars(select.order_by(User.id)).all()


def handling_state(complaint):
    """The handling state for the audit trail, as a person reads it."""
    return {
        "status": STATUS_LABELS.get(complaint.status, complaint.status),
        "due_on": complaint.due_on,
        "assigned_city": region_name(complaint.assigned_city_code) if complaint.assigned_city_code else None,
    }
