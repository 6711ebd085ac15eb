"""定时任务 settings and the 管理首页 count of failed text messages."""

import sqlalchemy as sa
from flask import url_for

from app.audit import audit
from app.blueprints.admin.services import HomeCount
from app.extensions import db
from app.jobs import Schedule, next_run, registry, schedule_params, schedule_row, schedule_shown
from app.sms import FAILED, SmsMessage
from app.utils import utcnow


def schedules_all():
    """[(kind, row, params, next run)] in the declared order (a schedule without its row yet shows
    its defaults)."""
    items = []
    for name, kind in registry().schedules.items():
        row = schedule_shown(name)
        items.append((kind, row, schedule_params(row), next_run(row)))
    return items


def schedule_get(name):
    kind = registry().schedules.get(name)
    if kind is None:
        return None, None
    return kind, schedule_shown(name)


def schedule_update(*, name, enabled, params, actor):
    """Save a schedule's settings under a row lock (the row made first if the worker has not yet);
    audited. Commits."""
    schedule_row(name)
    row = db.session.scalar(
        sa.select(Schedule).where(Schedule.name == name).with_for_update().execution_options(populate_existing=True)
    )
    before = {"enabled": row.enabled, **schedule_params(row)}
    row.enabled = enabled
    row.params = params
    row.updated_at = utcnow()
    row.updated_by_id = actor.id
    kind = registry().schedules[name]
    audit(
        "schedule.update",
        summary=f"修改定时任务“{kind.label}”：{'启用' if enabled else '停用'}",
        target=row,
        before=before,
        after={"enabled": enabled, **params},
        actor=actor,
    )
    db.session.commit()
    return row


def failed_sms_counts(user):
    """管理首页: text messages that could not be sent (the province reads the 短信日志)."""
    if user.role != "province_admin":
        return []
    failed = sa.select(sa.func.count(SmsMessage.id)).where(SmsMessage.status == FAILED)
    return [HomeCount("发送失败的短信", failed, url_for("admin.list_sms", status=FAILED), "条")]
