"""核心服务机构调度: the monthly report (MonthlyReport + ReportActivity) and 补报 requests."""

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.cache import BIG_DATA, topics
from app.extensions import db
from app.filings import workflow
from app.filings.models import Filing
from app.utils import utcnow

SITE_TYPES = ("自有", "租用")


class MonthlyReport(Filing):
    """基础数据填报: one institution's figures for one month (one 调度期 Round)."""

    __tablename__ = "monthly_report"
    __table_args__ = (
        # covering index of the 调度大数据 queries that need single reports (distinct institutions)
        sa.Index(
            "ix_monthly_report_stats",
            "counted",
            "year",
            "month",
            "stats_city_code",
            "institution_type_id",
            "stats_institution_id",
            "served_total",
            "activities_total",
        ),
        sa.Index("ix_monthly_report_approved", "counted", "approved_at"),
    )

    id: Mapped[int] = mapped_column(sa.ForeignKey("filing.id"), primary_key=True)
    # 填报年度 / 月份, copied from the round so aggregates need no join
    year: Mapped[int]
    month: Mapped[int]
    institution_type_id: Mapped[int | None] = mapped_column(sa.ForeignKey("dict_item.id"))  # 机构类型
    floor_area: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 2))  # 服务场所(平方米)
    service_assets: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))  # 服务资产(万元)
    site_type: Mapped[str | None] = mapped_column(sa.String(4))  # 服务场所类型: 自有 / 租用
    staff_count: Mapped[int | None]  # 服务人员数
    bachelor_count: Mapped[int | None]  # 本科人数
    intermediate_count: Mapped[int | None]  # 中级职称人数
    revenue: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))  # 营业收入(万元)
    service_expense: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))  # 服务支出(万元)
    profit: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))  # 利润总额(万元), may be negative
    # 异常说明: required when a figure moves more than ×3 against the previous month
    anomaly_note: Mapped[str | None] = mapped_column(sa.String(200))
    # sums over the 服务类别 blocks, kept on save so dashboards need no join
    activities_total: Mapped[int] = mapped_column(default=0)
    participants_total: Mapped[int] = mapped_column(default=0)
    served_total: Mapped[int] = mapped_column(default=0)
    first_submitted_at: Mapped[datetime | None]
    late: Mapped[bool] = mapped_column(default=False)  # first submitted after the deadline
    # approved: part of 调度大数据 (approved reports are locked, so this never goes back)
    counted: Mapped[bool] = mapped_column(default=False)
    approved_at: Mapped[datetime | None]
    # copies of the filing's city_code and institution_id (fixed when the draft is made), so the
    # 调度大数据 queries read this table alone
    stats_city_code: Mapped[str | None] = mapped_column(sa.String(12))
    stats_institution_id: Mapped[int | None]

    institution_type = relationship("InstitutionType", foreign_keys=[institution_type_id])
    activities: Mapped[list["ReportActivity"]] = relationship(
        back_populates="report", order_by="(ReportActivity.sort_order, ReportActivity.id)", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"polymorphic_identity": "monthly_report"}

    @property
    def period_label(self):
        return f"{self.year}年{self.month}月"


class ReportActivity(db.Model):
    """One 服务类别 block of a report: 活动数, 参与企业数, 服务企业数.

    The category's name and order at the time of filing are kept, so a renamed or retired
    category still reads as it was filed.
    """

    __tablename__ = "report_activity"
    __table_args__ = (sa.UniqueConstraint("report_id", "category_id", name="uq_report_activity_category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("monthly_report.id", ondelete="CASCADE"), index=True)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("dict_item.id"))
    category_name: Mapped[str] = mapped_column(sa.String(60))
    sort_order: Mapped[int] = mapped_column(default=0)
    activities: Mapped[int | None]  # 服务活动数 (场次)
    participants: Mapped[int | None]  # 参与企业数 (家)
    served: Mapped[int | None]  # 服务企业数 (家次, "一对一"精准服务)

    report: Mapped[MonthlyReport] = relationship(back_populates="activities")


class ReportMonthStat(db.Model):
    """调度大数据 rollup: sums of the approved reports of one month, 市州 and 机构类型 (0 = none).

    Written in the approval's transaction (``stats.stats_add``); ``flask reports rebuild-stats``
    recomputes it from the reports (e.g. after loading data straight into the tables).
    """

    __tablename__ = "report_month_stat"
    __table_args__ = {"info": topics(BIG_DATA)}

    year: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[int] = mapped_column(primary_key=True)
    city_code: Mapped[str] = mapped_column(sa.String(12), primary_key=True)
    institution_type_id: Mapped[int] = mapped_column(primary_key=True)
    reports: Mapped[int] = mapped_column(default=0)
    activities: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    participants: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    served: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    revenue: Mapped[Decimal] = mapped_column(sa.Numeric(18, 2), default=0)
    expense: Mapped[Decimal] = mapped_column(sa.Numeric(18, 2), default=0)
    profit: Mapped[Decimal] = mapped_column(sa.Numeric(18, 2), default=0)


class ReportCategoryStat(db.Model):
    """调度大数据 rollup per 服务类别: the same key plus the category."""

    __tablename__ = "report_category_stat"
    __table_args__ = (
        # the sums per 服务类别 over a range of months, read in category order from the index alone
        sa.Index(
            "ix_report_category_stat_year_category",
            "year",
            "category_id",
            "month",
            "city_code",
            "institution_type_id",
            "activities",
            "participants",
            "served",
        ),
        {"info": topics(BIG_DATA)},
    )

    year: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[int] = mapped_column(primary_key=True)
    city_code: Mapped[str] = mapped_column(sa.String(12), primary_key=True)
    institution_type_id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(primary_key=True)
    activities: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    participants: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    served: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class ReportInstitutionStat(db.Model):
    """调度大数据 rollup of who reported: one row per year, 市州, 机构类型 and institution, with one bit
    per month that has an approved report (bit 0 = January). Distinct institutions over a range of
    months do not add up month by month; here they are the rows whose bits meet the range's
    (``months & mask != 0``), at most one row per institution a year instead of one per report.

    ``served`` and ``activities`` are the year's 服务企业数 and 服务活动数 on that row: the 排行 of
    调度数据统计 over a range that holds every month with data of the year (its default) sums
    these instead of a year's reports.

    Written with the other rollups (``stats.stats_add``: the month's bit OR-ed in and the figures
    added by one upsert, so two approvals at once keep both) and recomputed by
    ``flask reports rebuild-stats``.
    """

    __tablename__ = "report_institution_stat"
    __table_args__ = (
        # the 排行's sums per institution for a year, read in institution order from the index alone
        sa.Index(
            "ix_report_institution_stat_year_institution", "year", "institution_id", "months", "served", "activities"
        ),
        {"info": topics(BIG_DATA)},
    )

    year: Mapped[int] = mapped_column(primary_key=True)
    city_code: Mapped[str] = mapped_column(sa.String(12), primary_key=True)
    institution_type_id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(primary_key=True)
    months: Mapped[int] = mapped_column(default=0)
    served: Mapped[int] = mapped_column(default=0)
    activities: Mapped[int] = mapped_column(default=0)


REOPEN_PENDING, REOPEN_GRANTED, REOPEN_REFUSED = "pending", "granted", "refused"
# how the monthly report names the engine's statuses (its wizard and its export)
STATUS_LABELS = {workflow.SUBMITTED: "待审核", workflow.APPROVED: "已通过", workflow.RETURNED: "已退回"}


def status_label(status):
    return STATUS_LABELS.get(status) or workflow.STATUS_LABELS[status]


def category_field_names(category_id):
    """The 服务活动 step's field names of one 服务类别: (activities, participants, served)."""
    return (f"cat{category_id}_activities", f"cat{category_id}_participants", f"cat{category_id}_served")


REOPEN_LABELS = {REOPEN_PENDING: "待处理", REOPEN_GRANTED: "已同意", REOPEN_REFUSED: "未同意"}


class ReportReopenRequest(db.Model):
    """补报申请: after the deadline an institution asks to file (or correct) a month; an admin
    grants a time-limited exception (``until``) or refuses it."""

    __tablename__ = "report_reopen_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institution.id"), index=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("round.id"), index=True)
    city_code: Mapped[str | None] = mapped_column(sa.ForeignKey("region.code"), index=True)
    reason: Mapped[str] = mapped_column(sa.String(300))
    status: Mapped[str] = mapped_column(sa.String(10), default=REOPEN_PENDING, index=True)
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    until: Mapped[date | None]  # the exception lasts to the end of this day
    decision_note: Mapped[str | None] = mapped_column(sa.String(300))
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None]

    institution = relationship("Institution")
    round = relationship("Round")
    requested_by = relationship("User", foreign_keys=[requested_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])

    @property
    def status_label(self):
        return REOPEN_LABELS.get(self.status, self.status)


REMINDER_LEVELS = {"province": "省级", "city": "市级", "system": "定时提醒"}


class ReportReminder(db.Model):
    """催报 memory: the last reminder an institution got for a 调度期 (one row per pair).

    The row is claimed with one ``INSERT ... ON CONFLICT DO UPDATE ... WHERE last_sent_at < :cutoff``
    (``reminders.reminders_send``), so however many admins press 发送提醒, province or city, at
    once or twice, an institution is reminded at most once per ``REMINDER_INTERVAL``.
    """

    __tablename__ = "report_reminder"
    __table_args__ = (sa.UniqueConstraint("round_id", "institution_id", name="uq_report_reminder_round_institution"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("round.id"))
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institution.id"), index=True)
    first_sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    # who pressed 发送提醒 last; None when a 定时任务 (schedule) sent it
    sent_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    sender_level: Mapped[str] = mapped_column(sa.String(10))  # province / city / system (定时任务)
    phone: Mapped[str | None] = mapped_column(sa.String(20))  # the last SMS went here; None: 站内消息 only
    times: Mapped[int] = mapped_column(default=1)  # reminders sent for this period

    institution = relationship("Institution")
    round = relationship("Round")
    sent_by = relationship("User")

    @property
    def level_label(self):
        return REMINDER_LEVELS.get(self.sender_level, self.sender_level)


class PeriodSnapshot(db.Model):
    """报送情况 and totals of one 调度期 as they stood when it closed (``snapshots.period_freeze``).

    A period closes when its deadline has passed and every granted 补报 window for it has ended.
    It is frozen once: one current snapshot per period (``superseded_at`` empty), held by a unique
    constraint. A 补报 granted afterwards reopens the period: the snapshot is kept but superseded,
    and a new one (``seq`` + 1) is frozen when the window ends.
    """

    __tablename__ = "report_period_snapshot"
    __table_args__ = (
        sa.UniqueConstraint("round_id", "seq", name="uq_report_period_snapshot_round_seq"),
        sa.Index(
            "uq_report_period_snapshot_current",
            "round_id",
            unique=True,
            sqlite_where=sa.text("superseded_at IS NULL"),
            postgresql_where=sa.text("superseded_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("round.id"))
    seq: Mapped[int] = mapped_column(default=1)
    year: Mapped[int]
    month: Mapped[int]
    closes_on: Mapped[date]  # the deadline it was frozen under
    last_until: Mapped[date | None]  # the last granted 补报 window's end, if any
    frozen_at: Mapped[datetime] = mapped_column(default=utcnow)
    superseded_at: Mapped[datetime | None]
    superseded_reason: Mapped[str | None] = mapped_column(sa.String(300))
    # 报送情况
    expected: Mapped[int] = mapped_column(default=0)
    received: Mapped[int] = mapped_column(default=0)
    late: Mapped[int] = mapped_column(default=0)
    # the approved reports' totals (as 调度大数据 counts them), and those still awaiting review then
    reports: Mapped[int] = mapped_column(default=0)
    pending_review: Mapped[int] = mapped_column(default=0)
    activities: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    participants: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    served: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    revenue: Mapped[Decimal] = mapped_column(sa.Numeric(18, 2), default=0)
    expense: Mapped[Decimal] = mapped_column(sa.Numeric(18, 2), default=0)
    profit: Mapped[Decimal] = mapped_column(sa.Numeric(18, 2), default=0)

    round = relationship("Round")


class PeriodSnapshotRow(db.Model):
    """One institution in a snapshot: every institution 应报 then, and any other with an approved
    report. Name, 市州 and 机构类型 as they were; the report's state and approved figures."""

    __tablename__ = "report_period_snapshot_row"

    snapshot_id: Mapped[int] = mapped_column(
        sa.ForeignKey("report_period_snapshot.id", ondelete="CASCADE"), primary_key=True
    )
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institution.id"), primary_key=True, index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    city_code: Mapped[str | None] = mapped_column(sa.String(12))
    institution_type_id: Mapped[int | None]
    expected: Mapped[bool] = mapped_column(default=False)
    received: Mapped[bool] = mapped_column(default=False)  # submitted (not a draft)
    late: Mapped[bool] = mapped_column(default=False)
    has_draft: Mapped[bool] = mapped_column(default=False)
    counted: Mapped[bool] = mapped_column(default=False)  # approved: its figures below count
    activities: Mapped[int] = mapped_column(default=0)
    participants: Mapped[int] = mapped_column(default=0)
    served: Mapped[int] = mapped_column(default=0)
    revenue: Mapped[Decimal] = mapped_column(sa.Numeric(14, 2), default=0)
    expense: Mapped[Decimal] = mapped_column(sa.Numeric(14, 2), default=0)
    profit: Mapped[Decimal] = mapped_column(sa.Numeric(14, 2), default=0)


class PeriodSnapshotCategory(db.Model):
    """The approved reports' 服务类别 sums in a snapshot, with the category's name and order then."""

    __tablename__ = "report_period_snapshot_category"

    snapshot_id: Mapped[int] = mapped_column(
        sa.ForeignKey("report_period_snapshot.id", ondelete="CASCADE"), primary_key=True
    )
    category_id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    sort_order: Mapped[int] = mapped_column(default=0)
    activities: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    participants: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    served: Mapped[int] = mapped_column(sa.BigInteger, default=0)
