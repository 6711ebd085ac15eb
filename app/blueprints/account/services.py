"""Account rules: the 工作台 overview, 基本资料, 站内消息 and 修改密码."""

from functools import cache

import sqlalchemy as sa

from app.audit import audit, snapshot
from app.blueprints.auth.sessions import sessions_end_for_user
from app.database import end_read_transaction, write_aside
from app.extensions import db
from app.forms import uscc_warnings
from app.inbox import Message, forget_unread, unread_count
from app.modules import wiring
from app.reference.models import ServiceCategory
from app.reference.services import dict_item
from app.utils import paginate, utcnow

# Editable 基本资料 fields per role (what the form may change; everything else is read-only).
PROFILE_FIELDS = {
    "institution": (
        "unit_nature_id",
        "platform_id",
        "institution_type_id",
        "contact",
        "city_code",
        "county_code",
        "address",
        "email",
        "intro",
        "publish_contact",
    ),
    "expert": ("name", "gender", "birth_month", "employer", "title", "category_id", "city_code", "county_code", "bio"),
    "enterprise": ("contact", "city_code", "county_code", "address"),
    "city_admin": ("display_name",),
    "province_admin": ("display_name",),
}

# Optional fields a complete profile has filled in: (field, label).
COMPLETENESS = {
    "institution": (
        ("institution_type_id", "机构类型"),
        ("service_categories", "服务类别"),
        ("address", "地址"),
        ("email", "电子邮箱"),
        ("intro", "机构简介"),
    ),
    "expert": (("bio", "个人简介"),),
    "enterprise": (("address", "地址"),),
}


# ---- 工作台 ----------------------------------------------------------------------------------


def profile_missing(*, user):
    """Labels of the optional 基本资料 fields the user has not filled in yet."""
    profile = user.profile
    if profile is None:
        return []
    return [label for name, label in COMPLETENESS.get(user.role, ()) if not getattr(profile, name)]


def profile_warnings(*, user):
    """Soft checks on an institution's 机构代码 (prefix vs 单位性质, registered outside Hunan)."""
    if user.role != "institution" or user.institution is None:
        return []
    institution = user.institution
    return uscc_warnings(institution.uscc, dict_item("unit_nature", institution.unit_nature_id))


@cache
def _recent_messages_select():
    """工作台's five latest messages, built once (every visit asks it)."""
    return (
        sa.select(Message)
        .where(Message.user_id == sa.bindparam("user_id"))
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(5)
    )


def workspace_overview(*, user):
    """What the 工作台 shows a non-admin user."""
    recent = db.session.scalars(_recent_messages_select(), {"user_id": user.id}).all()
    return {
        "unread": unread_count(user),
        "recent_messages": recent,
        "missing": profile_missing(user=user),
        "warnings": profile_warnings(user=user),
    }


# ---- 基本资料 --------------------------------------------------------------------------------


def _clean(value):
    return None if value == "" else value


def profile_update(*, user, data):
    """Save the role's editable 基本资料 fields from ``data`` (validated form data). Keeps
    User.display_name and User.city_code in step with the profile and audits what changed.
    Returns True when something changed. Commits."""
    fields = PROFILE_FIELDS[user.role]
    record = user.profile if user.profile is not None else user
    before = snapshot(record, fields)
    for name in fields:
        setattr(record, name, _clean(data.get(name)))
    after = snapshot(record, fields)
    if user.role == "institution" and "service_category_ids" in data:
        fields = (*fields, "service_categories")
        before["service_categories"], after["service_categories"] = _set_categories(
            record, data["service_category_ids"]
        )
    changed = [name for name in fields if before[name] != after[name]]
    if not changed:
        db.session.rollback()
        return False
    if user.role == "expert":
        user.display_name = record.name
    if user.role in ("institution", "expert", "enterprise"):
        user.city_code = record.city_code
    before, after = {name: before[name] for name in changed}, {name: after[name] for name in changed}
    audit(
        "account.profile_update",
        summary=f"修改基本资料：{user.username}",
        target=user,
        before=before,
        after=after,
        actor=user,
    )
    # each module's profile_hooks (app/modules.py) with the changed fields only, before the commit,
    # so a module can act in the same commit: 优秀评选 re-checks a 评审专家's assignments when its
    # 工作单位 changes
    for hook in wiring().profile_hooks:
        hook(user=user, before=before, after=after)
    db.session.commit()
    return True


def _set_categories(institution, ids):
    """Set the 服务类别 an institution offers; (before, after) as names for the audit trail."""
    before = "、".join(c.name for c in institution.service_categories)
    wanted = set(ids or ())
    if wanted != set(institution.service_category_ids):
        institution.service_categories = (
            db.session.scalars(
                sa.select(ServiceCategory).where(ServiceCategory.id.in_(wanted)).order_by(ServiceCategory.sort_order)
            ).all()
            if wanted
            else []
        )
    return before, "、".join(c.name for c in institution.service_categories)


# ---- 站内消息 --------------------------------------------------------------------------------


def messages_page(*, user, page=1, per_page=20):
    """The user's messages, newest first."""
    select = sa.select(Message).where(Message.user_id == user.id).order_by(Message.created_at.desc(), Message.id.desc())
    return paginate(select, page=page, per_page=per_page)


def message_open(*, user, message_id):
    """The user's own message, marked read (outside the page view's own transaction: a GET never
    writes in it); None for another user's or a missing message."""
    message = db.session.scalar(sa.select(Message).where(Message.id == message_id, Message.user_id == user.id))
    if message is not None and message.read_at is None:
        if write_aside(
            sa.update(Message).where(Message.id == message.id, Message.read_at.is_(None)).values(read_at=utcnow())
        ):
            db.session.rollback()  # a new read snapshot: the page's unread count sees the write
            forget_unread()
    return message


def messages_read_all(*, user):
    """Mark every unread message of the user read; returns how many. Commits."""
    result = db.session.execute(
        sa.update(Message).where(Message.user_id == user.id, Message.read_at.is_(None)).values(read_at=utcnow())
    )
    db.session.commit()
    return result.rowcount


# ---- 修改密码 --------------------------------------------------------------------------------


def password_change(*, user, new_password):
    """Set a new (validated) password, clear the forced change and end every other session. Commits."""
    end_read_transaction()  # the hash below is slow: not inside the write lock
    user.set_password(new_password)
    forced = user.must_change_password
    user.must_change_password = False
    sessions_end_for_user(user, reason="password_changed", keep_current=True)
    audit(
        "account.password_change",
        summary=f"修改密码：{user.username}" + ("（管理员重置后首次设置）" if forced else ""),
        target=user,
        actor=user,
    )
    db.session.commit()
