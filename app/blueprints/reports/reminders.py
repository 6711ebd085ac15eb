"""催报 with a memory: 发送提醒 reminds each institution that has not reported, once per
``REMINDER_INTERVAL`` per period, whoever presses it (province or city), however often, at once.

Each reminder is recorded in ``ReportReminder`` (one row per 调度期 and institution: when, by whom,
at which level, to which phone); the 报送情况 page shows it.
"""

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

import sqlalchemy as sa
from flask import current_app, url_for
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload, selectinload

from app.audit import audit
from app.blueprints.auth.models import Institution
from app.blueprints.reports.completeness import STATEMENTS_KEPT, in_scope, missing_select, period_key
from app.blueprints.reports.models import ReportReminder
from app.extensions import db
from app.filings.services import reviewer_of
from app.forms import is_mobile
from app.inbox import notify
from app.reference.services import region_name
from app.sms import send_sms
from app.utils import local_today, utcnow

CLAIM_BATCH = 500  # rows per INSERT ... ON CONFLICT statement (well under SQLite's bound-parameter limit)


def reminder_interval():
    return current_app.config["REMINDER_INTERVAL"]


def interval_label(interval):
    """24 小时, 30 分钟, 2 天: how the interval reads in messages."""
    seconds = int(interval.total_seconds())
    if seconds and seconds % 86400 == 0 and seconds > 86400:
        return f"{seconds // 86400} 天"
    if seconds % 3600 == 0:
        return f"{seconds // 3600} 小时"
    return f"{max(1, seconds // 60)} 分钟"


@dataclass(frozen=True)
class SystemSender:
    """The 定时任务 as a sender: the province's reach, no account."""

    id = None
    role = "province_admin"
    city_code = None
    city = None
    username = ""
    display_name = "定时任务"


SYSTEM = SystemSender()


def sender_level(user):
    if user is SYSTEM:
        return "system"
    return "province" if user.role == "province_admin" else "city"


@dataclass
class ReminderSummary:
    """本期已提醒 N 家, the latest reminder, and how many of the missing were reminded too recently."""

    reminded: int
    latest: ReportReminder | None
    recent: int  # of the institutions still missing, reminded within the interval
    interval: timedelta

    @property
    def interval_label(self):
        return interval_label(self.interval)

    @property
    def latest_sender(self):
        user = self.latest.sent_by if self.latest else None
        return (user.display_name or user.username) if user else ""


def _reminders_in_scope(select, round, user, city_code):
    select = in_scope(
        select.join(Institution, Institution.id == ReportReminder.institution_id).where(
            ReportReminder.round_id == round.id
        ),
        user,
    )
    if city_code and user.role == "province_admin":
        select = select.where(Institution.city_code == city_code)
    return select


def reminder_summary(*, round, user, city_code=None):
    """The page's line near 发送提醒, in the same scope as the list (one query)."""
    interval = reminder_interval()
    latest = db.session.execute(
        _summary_select(period_key(round), reviewer_of(user), city_code), {"cutoff": utcnow() - interval}
    ).first()
    if latest is None:  # nobody reminded anyone in this scope: none can be recent either
        return ReminderSummary(reminded=0, latest=None, recent=0, interval=interval)
    return ReminderSummary(reminded=latest[1], latest=latest[0], recent=latest[2], interval=interval)


@lru_cache(maxsize=STATEMENTS_KEPT)
def _summary_select(round, user, city_code):
    """The summary's statement for a period and scope (kept per process: the moment that makes a
    reminder recent is its ``cutoff`` parameter)."""
    recent = (
        missing_select(round, user, city_code)
        .join(
            ReportReminder,
            sa.and_(ReportReminder.institution_id == Institution.id, ReportReminder.round_id == round.id),
        )
        .where(ReportReminder.last_sent_at >= sa.bindparam("cutoff"))
        .order_by(None)
        .subquery()
    )
    # the newest reminder, how many there are (a window count) and how many of the missing were
    # reminded too recently (an uncorrelated subquery: it has its own institution and reminder)
    recent_count = sa.select(sa.func.count()).select_from(recent).scalar_subquery().correlate(None)
    return (
        _reminders_in_scope(sa.select(ReportReminder, sa.func.count().over(), recent_count), round, user, city_code)
        .options(joinedload(ReportReminder.sent_by))
        .order_by(ReportReminder.last_sent_at.desc(), ReportReminder.id.desc())
        .limit(1)
    )


@dataclass
class ReminderResult:
    reminded: int  # institutions reminded now (a 站内消息 each)
    sms: int  # of them, with an SMS
    skipped: int  # not reminded: reminded within the interval already, by anyone
    interval: timedelta

    @property
    def interval_label(self):
        return interval_label(self.interval)


def _insert():
    """The dialect's INSERT, which has ON CONFLICT."""
    return postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert


def _claim(*, round, user, phones, now):
    """Claim the reminder of each institution in ``phones`` ({id: phone or None}) that nobody
    reminded within the interval; return the ids claimed.

    One INSERT ... ON CONFLICT DO UPDATE ... WHERE last_sent_at < cutoff RETURNING per batch: a
    new pair is inserted, an old one updated only when it is due, so exactly one of two racing
    admins gets each institution. PostgreSQL makes the second wait on the first's row (or its
    uncommitted insert) and re-checks the WHERE against the committed row; SQLite runs writers
    one after the other (BEGIN IMMEDIATE). Ids go in ascending order, so two presses lock rows in
    the same order and cannot deadlock.
    """
    insert = _insert()
    cutoff = now - reminder_interval()
    level = sender_level(user)
    ids = sorted(phones)
    claimed = set()
    for start in range(0, len(ids), CLAIM_BATCH):
        statement = insert(ReportReminder).values(
            [
                dict(
                    round_id=round.id,
                    institution_id=i,
                    first_sent_at=now,
                    last_sent_at=now,
                    sent_by_id=user.id,
                    sender_level=level,
                    phone=phones[i],
                    times=1,
                )
                for i in ids[start : start + CLAIM_BATCH]
            ]
        )
        statement = statement.on_conflict_do_update(
            index_elements=["round_id", "institution_id"],
            set_={
                "last_sent_at": statement.excluded.last_sent_at,
                "sent_by_id": statement.excluded.sent_by_id,
                "sender_level": statement.excluded.sender_level,
                "phone": statement.excluded.phone,
                "times": ReportReminder.times + 1,
            },
            where=ReportReminder.last_sent_at < cutoff,
        ).returning(ReportReminder.institution_id)
        claimed.update(db.session.scalars(statement).all())
    return claimed


def _reminder_phone(institution):
    owner = institution.user
    phone = owner.phone if is_mobile(owner.phone) else institution.phone
    return phone if is_mobile(phone) else None


def reminders_send(*, round, user, city_code=None, progress=None):
    """催报 (a job, or a 定时任务 with ``user=SYSTEM``): an in-app message and an SMS (outbox) to each
    institution that has not reported and that nobody reminded for this period within
    ``REMINDER_INTERVAL``; to no one else. Records each reminder (``ReportReminder``). Commits; safe
    to repeat (the repeat reminds no one); the texts go out after the commit."""
    result = reminders_record(round=round, user=user, city_code=city_code, progress=progress)
    db.session.commit()
    return result


def reminders_record(*, round, user, city_code=None, progress=None):
    """What ``reminders_send`` does, in the caller's transaction (a schedule commits it with its claim)."""
    today = local_today()
    if today > round.closes_on:
        deadline = f"已于 {round.closes_on:%Y-%m-%d} 截止，请尽快申请补报"
    else:
        deadline = f"截止日期为 {round.closes_on:%Y-%m-%d}"
    title = f"请按时填报{round.year}年{round.month}月核心服务机构调度数据"
    body = f"贵机构尚未报送{round.year}年{round.month}月的调度数据（{deadline}）。请登录系统，在“基础信息 → 核心服务机构调度数据”中点击“基础数据填报”。"
    link = url_for("reports.list_reports")
    select = missing_select(round, user, city_code).order_by(Institution.id).options(selectinload(Institution.user))
    institutions = db.session.scalars(select).all()
    phones = {institution.id: _reminder_phone(institution) for institution in institutions}
    claimed = _claim(round=round, user=user, phones=phones, now=utcnow())
    sms = 0
    for number, institution in enumerate(institutions, start=1):
        if progress is not None:
            progress(number, len(institutions), f"已处理 {number} / {len(institutions)} 家机构")
        if institution.id not in claimed:
            continue
        notify(institution.user, title, body, link=link)
        if phones[institution.id]:
            send_sms(phones[institution.id], f"【湖南省中小企业服务中心】{institution.name}：{title}，{deadline}。")
            sms += 1
    result = ReminderResult(
        reminded=len(claimed), sms=sms, skipped=len(institutions) - len(claimed), interval=reminder_interval()
    )
    if user is SYSTEM:
        scope = "全省（定时提醒）"
    elif user.role == "province_admin" and not city_code:
        scope = "全省"
    else:
        scope = user.city.name if user.role == "city_admin" and user.city else region_name(city_code)
    audit(
        "report.remind",
        summary=(
            f"{round.title}催报：提醒 {result.reminded} 家未报送机构（{scope}）"
            + (f"，{result.skipped} 家 {result.interval_label}内已提醒过，未重复发送" if result.skipped else "")
        ),
        target=round,
        after={
            "reminded": result.reminded,
            "sms": sms,
            "skipped": result.skipped,
            "city_code": city_code or user.city_code,
        },
        actor=None if user is SYSTEM else user,
    )
    return result


def reminder_message(result):
    """The lines the page shows after a 催报: (category, text)."""
    lines = []
    if result.reminded:
        lines.append(
            (
                "success",
                f"已向 {result.reminded} 家未报送的机构发送提醒（站内消息 {result.reminded} 条，短信 {result.sms} 条）。",
            )
        )
    if result.skipped:
        lines.append(("info", f"{result.skipped} 家机构在 {result.interval_label}内已提醒过，本次未重复发送。"))
    if not result.reminded and not result.skipped:
        lines.append(("info", "所有应报机构均已报送，无需提醒。"))
    return lines
