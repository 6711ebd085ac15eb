"""企业投诉: the complaint, its history, its evidence files, the ticket counter and the lookups."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.utils import utcnow

# A complaint is "unverified" while the complainant has not yet typed the SMS code: such a row
# is a server-side draft, invisible to admins and to the lookup, and purged after a day.
UNVERIFIED = "unverified"
SUBMITTED = "submitted"
ACCEPTED = "accepted"
TRANSFERRED = "transferred"
PROCESSING = "processing"
CLOSED = "closed"
REJECTED = "rejected"

STATUS_LABELS = {
    SUBMITTED: "待受理",
    ACCEPTED: "已受理",
    TRANSFERRED: "已转办",
    PROCESSING: "处理中",
    CLOSED: "已办结",
    REJECTED: "不予受理",
}
OPEN_STATUSES = (SUBMITTED, ACCEPTED, TRANSFERRED, PROCESSING)
FINAL_STATUSES = (CLOSED, REJECTED)

RATING_LABELS = {"satisfied": "满意", "basic": "基本满意", "dissatisfied": "不满意"}

ACTION_LABELS = {
    "register": "提交投诉",
    "accept": "受理",
    "reject": "不予受理",
    "transfer": "转办",
    "start": "开始处理",
    "close": "办结",
    "extend": "延期",
    "rate": "投诉人评价",
    "reopen": "重新办理",
}

complaint_attachment = sa.Table(
    "complaint_attachment",
    db.metadata,
    sa.Column("complaint_id", sa.ForeignKey("complaint.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("attachment_id", sa.ForeignKey("attachment.id", ondelete="CASCADE"), primary_key=True, unique=True),
)


class Complaint(db.Model):
    """One 企业投诉, from the typed form to 已办结 (or 不予受理)."""

    __tablename__ = "complaint"

    id: Mapped[int] = mapped_column(primary_key=True)
    # 受理编号, e.g. TS20241126-0007; given when the phone is confirmed
    ticket_no: Mapped[str | None] = mapped_column(sa.String(20), unique=True)
    status: Mapped[str] = mapped_column(sa.String(20), default=UNVERIFIED, index=True)
    # 投诉企业基本信息; ``phone`` is the lookup credential (a mobile, confirmed by SMS code)
    company_name: Mapped[str] = mapped_column(sa.String(200))
    contact_name: Mapped[str] = mapped_column(sa.String(60))
    phone: Mapped[str] = mapped_column(sa.String(20), index=True)
    # 被投诉方基本信息
    respondent_name: Mapped[str] = mapped_column(sa.String(200))
    respondent_city_code: Mapped[str] = mapped_column(sa.ForeignKey("region.code"), index=True)
    respondent_address: Mapped[str] = mapped_column(sa.String(300))
    respondent_contact: Mapped[str] = mapped_column(sa.String(60))
    respondent_phone: Mapped[str] = mapped_column(sa.String(30))
    content: Mapped[str] = mapped_column(sa.Text)  # 投诉事项
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    registered_at: Mapped[datetime | None]
    registered_on: Mapped[date | None] = mapped_column(index=True)  # China date of registration
    due_on: Mapped[date | None] = mapped_column(index=True)  # 办理期限 (working days, see workdays.py)
    # the 市州 whose city admins handle it, set by 转办
    assigned_city_code: Mapped[str | None] = mapped_column(sa.ForeignKey("region.code"), index=True)
    reject_reason: Mapped[str | None] = mapped_column(sa.Text)
    result: Mapped[str | None] = mapped_column(sa.Text)  # 处理结果, read by the complainant
    closed_at: Mapped[datetime | None]
    # kept at 办结 so the statistics are plain SQL aggregates
    handling_days: Mapped[int | None]  # working days from registration to 办结
    closed_on_time: Mapped[bool | None]
    rating: Mapped[str | None] = mapped_column(sa.String(20))  # of the latest 办结
    rated_at: Mapped[datetime | None]
    reopen_count: Mapped[int] = mapped_column(default=0)

    respondent_city = relationship("Region", foreign_keys=[respondent_city_code])
    assigned_city = relationship("Region", foreign_keys=[assigned_city_code])
    attachments = relationship("Attachment", secondary=complaint_attachment, order_by="Attachment.id")
    events: Mapped[list["ComplaintEvent"]] = relationship(
        back_populates="complaint", order_by="ComplaintEvent.id", cascade="all, delete-orphan"
    )

    @property
    def status_label(self):
        return STATUS_LABELS.get(self.status, "待验证")

    @property
    def rating_label(self):
        return RATING_LABELS.get(self.rating, "")

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES


class ComplaintEvent(db.Model):
    """One step in a complaint's history: who, when, what, and the note."""

    __tablename__ = "complaint_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(sa.ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(sa.String(20))
    from_status: Mapped[str | None] = mapped_column(sa.String(20))
    to_status: Mapped[str | None] = mapped_column(sa.String(20))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    # shown to the complainant on the 处理结果 page (不予受理理由, 处理结果, 延期理由)
    public_note: Mapped[bool] = mapped_column(default=False)
    due_on: Mapped[date | None]  # the 办理期限 after this step, when it changed
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))  # None: the complainant
    actor_name: Mapped[str] = mapped_column(sa.String(120), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    complaint: Mapped[Complaint] = relationship(back_populates="events")

    @property
    def action_label(self):
        return ACTION_LABELS.get(self.action, self.action)

    @property
    def to_status_label(self):
        return STATUS_LABELS.get(self.to_status, "")


class ComplaintTicketCounter(db.Model):
    """The last 受理编号 sequence number given on one day (row-locked while incremented)."""

    __tablename__ = "complaint_ticket_counter"

    day: Mapped[date] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


class ComplaintLookup(db.Model):
    """处理结果查询 state kept server-side: the cookie holds only a random token.

    A row is first a pending lookup (the code was sent to ``phone``), then, once the code was
    typed, a verified one until ``expires_at``.
    """

    __tablename__ = "complaint_lookup"

    token_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(20), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    code_sent_at: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]
    expires_at: Mapped[datetime]
