"""Engine models: Round, Filing (workflow state for every kind), ReviewEvent, Attachment."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from app.cache import NOTICES
from app.extensions import db
from app.utils import local_today, utcnow

ROUND_KINDS = {"application": "申报批次", "report": "调度期", "award": "评选年度"}


class Round(db.Model):
    """申报批次 / 调度期 / 评选年度: a window with opening and closing dates."""

    __tablename__ = "round"
    __table_args__ = (sa.UniqueConstraint("kind", "year", "month", name="uq_round_kind_year_month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20), index=True)
    title: Mapped[str] = mapped_column(sa.String(120))
    year: Mapped[int]
    month: Mapped[int | None]
    opens_on: Mapped[date]
    closes_on: Mapped[date]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def is_open(self, today=None):
        today = today or local_today()
        return self.opens_on <= today <= self.closes_on

    @property
    def kind_label(self):
        return ROUND_KINDS.get(self.kind, self.kind)

    def __str__(self):
        return self.title


class Filing(db.Model):
    """Workflow state shared by every kind of filing; modules subclass it (joined-table inheritance).

    The draft IS the record: each 下一步 saves that step's fields into it.
    """

    __tablename__ = "filing"
    # review queues and 管理首页's counts ask for one kind in one state, often in one 市州; the
    # province's queue of one state reads its newest submissions first, in index order
    __table_args__ = (
        sa.Index("ix_filing_kind_status_city_code", "kind", "status", "city_code"),
        sa.Index("ix_filing_kind_status_submitted_at", "kind", "status", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(30))
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    institution_id: Mapped[int | None] = mapped_column(sa.ForeignKey("institution.id"), index=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("round.id"), index=True)
    # the 市州 whose admin does the first review; copied from the profile when the draft is made
    city_code: Mapped[str | None] = mapped_column(sa.ForeignKey("region.code"), index=True)
    status: Mapped[str] = mapped_column(sa.String(20), default="draft", index=True)
    steps_done: Mapped[list] = mapped_column(sa.JSON, default=list)
    # bumped by every save and transition (compare-and-set): a step form carries the version it
    # was rendered from, so a stale tab cannot silently overwrite newer values
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    # set by modules that allow one filing per institution and round ("<kind>:<institution>:<round>")
    unique_key: Mapped[str | None] = mapped_column(sa.String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]

    owner = relationship("User", foreign_keys=[owner_id])
    institution = relationship("Institution")
    round = relationship("Round")
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="filing", order_by="Attachment.id", cascade="all, delete-orphan"
    )
    events: Mapped[list["ReviewEvent"]] = relationship(
        back_populates="filing", order_by="ReviewEvent.id", cascade="all, delete-orphan"
    )
    # how many files it has, read with the filing by the pages of one filing (not a column:
    # app/filings/services.py, ``_parents_of`` and ``attachment_count``)
    attachments_counted: Mapped[int | None] = query_expression()

    __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "filing"}

    @property
    def audit_name(self):
        """How the 操作日志 names it: the institution (or the nominee) and the round."""
        who = self.institution.name if self.institution is not None else getattr(self, "display_name", "")
        return " ".join(part for part in (who, self.round.title if self.round is not None else "") if part)


class ReviewEvent(db.Model):
    """One transition of a filing: who, when, from, to, the comment and what it pins."""

    __tablename__ = "review_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    filing_id: Mapped[int] = mapped_column(sa.ForeignKey("filing.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    action: Mapped[str] = mapped_column(sa.String(30))
    from_status: Mapped[str] = mapped_column(sa.String(20))
    to_status: Mapped[str] = mapped_column(sa.String(20))
    comment: Mapped[str | None] = mapped_column(sa.Text)
    # names of fields ("field:注册资本" style keys) and attachments a reviewer pointed at
    pinned: Mapped[list | None] = mapped_column(sa.JSON)
    # on a submission: {key: [label, value as shown]} of every field, to show what a resubmission changed
    submitted_values: Mapped[dict | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    filing: Mapped[Filing] = relationship(back_populates="events")
    actor = relationship("User", lazy="joined")  # every history shows who acted: read with the events


class Attachment(db.Model):
    """An uploaded file: random name on disk, original (often Chinese) name kept here."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    filing_id: Mapped[int | None] = mapped_column(sa.ForeignKey("filing.id"), index=True)
    # a 通知公告's attachment (published with the notice, downloadable by visitors)
    notice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("notice.id"), index=True)
    original_name: Mapped[str] = mapped_column(sa.String(255))
    stored_name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    size: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    filing: Mapped[Filing | None] = relationship(back_populates="attachments")
    uploaded_by = relationship("User")

    def cache_topics_of(self):
        """A notice's file is on the public notice page (app/cache.py); a filing's is not."""
        return (NOTICES,) if self.notice_id else ()

    @property
    def size_label(self):
        if self.size >= 1024 * 1024:
            return f"{self.size / 1024 / 1024:.1f} MB"
        return f"{max(1, round(self.size / 1024))} KB"
