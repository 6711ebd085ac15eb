"""System administration rules: accounts, sessions, dictionaries, platforms, phone-change appeals.

Every function here is keyword-only, owns its commit and writes the audit trail; a request that
cannot be carried out raises ``AdminError`` with a message for the admin.
"""

import secrets
import string
from collections import namedtuple

import sqlalchemy as sa
from flask import url_for

from app.audit import audit, snapshot
from app.blueprints.admin.queries import open_sessions_select, session_ref, user_scope
from app.blueprints.auth.models import ROLE_LABELS, PhoneChangeRequest, User, UserSession
from app.blueprints.auth.sessions import sessions_end, sessions_end_for_user
from app.database import end_read_transaction
from app.extensions import db
from app.forms import is_mobile
from app.inbox import notify
from app.modules import wiring
from app.passwords import password_problem
from app.reference.models import DICT_KINDS, Platform, Region
from app.sms import send_sms
from app.utils import utcnow


class AdminError(ValueError):
    """A request an admin made cannot be carried out; the message is for the user.

    ``field`` names the form field the message belongs beside, when there is one.
    """

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


# --- 管理首页: counts of waiting work ------------------------------------------------------------

HomeCount = namedtuple("HomeCount", "label value url hint only_if_any", defaults=(None, None, False))
HomeCount.__doc__ = """One tile. ``value`` is a number, or a count SELECT (``sa.select(sa.func.count(...))``) that
home_counts answers together with every other tile's in one statement; a tile with ``only_if_any``
is left out when its count is 0."""


def home_counts(user):
    """The tiles of the admin home page for ``user``: each module's ``home_counts`` providers
    (``provider(user) -> iterable of HomeCount``: 申报初审, 调度审核, 投诉 ...), in the modules' order.

    The providers hand back their counts as SELECTs, and the page asks the database once for all
    of them (one SELECT of scalar subqueries) instead of once per module."""
    tiles = [tile for provider in wiring().home_counts for tile in provider(user) or ()]
    asked = [n for n, tile in enumerate(tiles) if isinstance(tile.value, sa.Select)]
    if asked:
        row = db.session.execute(sa.select(*(tiles[n].value.scalar_subquery().label(f"tile_{n}") for n in asked))).one()
        for n, value in zip(asked, row, strict=True):
            tiles[n] = tiles[n]._replace(value=value or 0)
    return [tile for tile in tiles if tile.value or not tile.only_if_any]


def phone_request_counts(user):
    if user.role != "province_admin":
        return []
    pending = sa.select(sa.func.count(PhoneChangeRequest.id)).where(PhoneChangeRequest.status == "pending")
    return [HomeCount("待审核手机号变更申诉", pending, url_for("admin.list_phone_requests"), "件")]


def account_counts(user):
    roles = ["institution", "expert", "enterprise", "city_admin"]
    if user.role == "province_admin":
        roles.append("province_admin")
    if user.role == "province_admin":
        labels = {role: f"{ROLE_LABELS[role]}帐户" for role in roles}
    else:
        labels = {role: f"本市州{ROLE_LABELS[role]}帐户" for role in roles} | {"city_admin": "本市州管理员帐户"}
    return [
        HomeCount(
            labels[role],
            sa.select(sa.func.count(User.id)).where(user_scope(user), User.role == role),
            url_for("admin.list_users", role=role),
            "个",
        )
        for role in roles
    ]


def online_counts(user):
    if user.role != "province_admin":
        return []

    sessions = open_sessions_select().order_by(None).subquery()
    online = sa.select(sa.func.count(sa.distinct(sessions.c.user_id)))
    return [HomeCount("在线用户", online, url_for("admin.list_online"), "人")]


# --- 用户管理 ----------------------------------------------------------------------------------


def admin_create(
    *, username, password, role, city_code=None, phone=None, display_name="", actor=None, must_change_password=False
):
    """Create a province or city admin account. Commits."""
    if role not in ("province_admin", "city_admin"):
        raise AdminError("管理员角色只能是 province 或 city。", "role")
    if role == "city_admin":
        region = db.session.get(Region, city_code) if city_code else None
        if region is None or region.level != "city":
            raise AdminError("市州管理员必须指定所属市州。", "city_code")
    else:
        city_code = None
    if db.session.scalar(sa.select(User.id).where(User.username_key == username.strip().lower())):
        raise AdminError("该帐户名称已被使用。", "username")
    problem = password_problem(password, username=username)
    if problem:
        raise AdminError(problem, "password")
    user = User(
        username=username,
        role=role,
        city_code=city_code,
        phone=phone or None,
        display_name=display_name or username,
        must_change_password=must_change_password,
    )
    end_read_transaction()  # the checks above only read; the hash below is slow
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit(
        "user.create_admin",
        summary=f"创建{ROLE_LABELS[role]} {user.username}",
        target=user,
        after={"role": role, "city_code": city_code, "phone": user.phone, "display_name": user.display_name},
        actor=actor,
    )
    db.session.commit()
    return user


def user_disable(*, user, actor):
    """停用: the account can no longer log in and its open sessions end now."""
    if user.id == actor.id:
        raise AdminError("不能停用自己的帐户。")
    if user.status == "disabled":
        raise AdminError(f"帐户 {user.username} 已是停用状态。")
    user.status = "disabled"
    sessions_end_for_user(user, reason="disabled")
    audit(
        "user.disable",
        summary=f"停用帐户 {user.username}",
        target=user,
        before={"status": "active"},
        after={"status": "disabled"},
        actor=actor,
    )
    db.session.commit()


def user_enable(*, user, actor):
    """启用: a disabled account may log in again (its login lock is cleared too)."""
    if user.status == "active":
        raise AdminError(f"帐户 {user.username} 已是正常状态。")
    user.status = "active"
    user.failed_logins = 0
    user.locked_until = None
    audit(
        "user.enable",
        summary=f"启用帐户 {user.username}",
        target=user,
        before={"status": "disabled"},
        after={"status": "active"},
        actor=actor,
    )
    db.session.commit()


TEMP_PASSWORD_ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")


def temporary_password(length=10):
    """A random password that passes the policy: letters and digits, no look-alike characters."""
    while True:
        candidate = "".join(secrets.choice(TEMP_PASSWORD_ALPHABET) for _ in range(length))
        if password_problem(candidate) is None:
            return candidate


def user_reset_password(*, user, actor):
    """重置密码: a temporary password the user must change at the next login.

    Ends the user's sessions, clears a login lock, texts the password to a bound mobile.
    Returns ``(password, sms_sent)``; the password is shown once and never stored in clear.
    """
    password = temporary_password()
    before = {"must_change_password": user.must_change_password}
    end_read_transaction()  # the hash below is slow: not inside the write lock
    user.set_password(password)
    user.must_change_password = True
    user.failed_logins = 0
    user.locked_until = None
    sessions_end_for_user(user, reason="password_reset")
    sms_sent = is_mobile(user.phone)
    if sms_sent:
        send_sms(
            user.phone,
            f"您的帐户 {user.username} 的密码已由管理员重置，临时密码：{password} ，请登录后立即修改密码。",
            secret=password,
        )
    audit(
        "user.reset_password",
        summary=f"重置帐户 {user.username} 的密码" + ("，临时密码已短信发送" if sms_sent else ""),
        target=user,
        before=before,
        after={"must_change_password": True},
        actor=actor,
    )
    db.session.commit()
    return password, sms_sent


# --- 在线用户 ----------------------------------------------------------------------------------


def session_force_end(*, ref, actor, current_sid=None):
    """强退: end the open session whose reference is ``ref``; the admin's own one is refused."""
    row = next((s for s in db.session.scalars(open_sessions_select()) if session_ref(s.id) == ref), None)
    if row is None:
        raise AdminError("该会话已结束或已超时，无需强退。")
    if current_sid and row.id == current_sid:
        raise AdminError("不能强退自己的当前会话，请使用“退出”。")
    sessions_end(UserSession.id == row.id, reason="forced")
    audit(
        "session.force_logout",
        summary=f"强制 {row.user.username} 下线（登录 IP {row.ip or '未知'}）",
        target=row.user,
        before={"session": "open"},
        after={"session": "forced"},
        actor=actor,
    )
    db.session.commit()
    return row.user


# --- 手机号变更申诉 -----------------------------------------------------------------------------

SMS_SIGNATURE = "【湖南省中小微企业核心服务机构调度管理系统】"


def phone_request_decide(*, request_id, approve, note, actor):
    """通过 or 驳回 a pending appeal; 驳回 needs a 处理意见.

    通过 binds the new number to the account (and its profile) and ends its sessions. Either
    way the outcome goes by SMS to the new number and, when the account exists, to its inbox.
    """
    note = (note or "").strip()
    if not approve and not note:
        raise AdminError("驳回时请填写处理意见。", "note")
    req = db.session.get(PhoneChangeRequest, request_id)
    if req is None:
        raise AdminError("申诉不存在。")
    if req.status != "pending":
        raise AdminError("该申诉已处理，不能重复处理。")
    user = req.user
    if approve and user is None:
        raise AdminError("申诉的帐户不存在，只能驳回。")
    now = utcnow()
    # Claim the request atomically: of two admins deciding at once, only one succeeds.
    claimed = db.session.execute(
        sa.update(PhoneChangeRequest)
        .where(PhoneChangeRequest.id == req.id, PhoneChangeRequest.status == "pending")
        .values(
            status="approved" if approve else "rejected",
            decided_by_id=actor.id,
            decided_at=now,
            decision_note=note or None,
        )
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        raise AdminError("该申诉已处理，不能重复处理。")
    before = {"status": "pending"}
    after = {"status": req.status, "decision_note": note}
    if approve:
        profile = user.profile
        before["phone"] = user.phone
        user.phone = req.new_phone
        if profile is not None:
            profile.phone = req.new_phone
        after["phone"] = req.new_phone
        sessions_end_for_user(user, reason="phone_change")
        text = f"{SMS_SIGNATURE}您提交的手机号变更申诉已通过，帐户 {req.username} 绑定的手机号已变更为本号码。"
        title, body = (
            "手机号变更申诉已通过",
            f"您的帐户绑定手机号已由 {req.old_phone} 变更为 {req.new_phone}，请使用新手机号登录和找回密码。",
        )
    else:
        text = f"{SMS_SIGNATURE}您提交的帐户 {req.username} 手机号变更申诉未通过，处理意见：{note}"
        title, body = "手机号变更申诉未通过", "您提交的手机号变更申诉未通过。"
    if note:
        body += f"处理意见：{note}"
    send_sms(req.new_phone, text)
    if user is not None:
        notify(user, title, body)
    audit(
        "phone_request.approve" if approve else "phone_request.reject",
        summary=f"{'通过' if approve else '驳回'} {req.username} 的手机号变更申诉（{req.old_phone} → {req.new_phone}）",
        target=req,
        before=before,
        after=after,
        actor=actor,
    )
    db.session.commit()
    return req


# --- 字典管理 and 所属平台 -----------------------------------------------------------------------

DICT_FIELDS = ("name", "code", "sort_order", "active")
PLATFORM_FIELDS = ("name", "city_code", "sort_order", "active")


def _dict_name_taken(cls, name, exclude_id=None):
    criteria = [cls.name == name]
    if exclude_id:
        criteria.append(cls.id != exclude_id)
    return db.session.scalar(sa.select(sa.func.count(cls.id)).where(*criteria)) > 0


def dict_item_save(*, kind, item=None, name, code=None, sort_order, active, actor):
    """Add (``item`` None) or edit an entry of a list; names are unique within the list."""
    cls = DICT_KINDS.get(kind)
    if cls is None:
        raise AdminError("字典类别不存在。")
    name = name.strip()
    if _dict_name_taken(cls, name, item.id if item else None):
        raise AdminError(f"{cls.label}中已有“{name}”。", "name")
    before = snapshot(item, DICT_FIELDS) if item else None
    if item is None:
        item = cls()
        db.session.add(item)
    item.name = name
    item.code = (code or None) if kind == "unit_nature" else item.code
    item.sort_order = sort_order
    item.active = active
    return _commit_change(item, before, DICT_FIELDS, action="dict", label=f"{cls.label}“{item.name}”", actor=actor)


def dict_item_set_active(*, item, active, actor):
    """停用 / 启用 an entry: records that use it keep it; only new choices hide a retired one."""
    _set_active(item, active, action="dict", label=f"{type(item).label}“{item.name}”", actor=actor)


def platform_save(*, platform=None, name, city_code=None, sort_order, active, actor):
    """Add (``platform`` None) or edit a 所属平台; names are unique."""
    name = name.strip()
    criteria = [Platform.name == name]
    if platform is not None:
        criteria.append(Platform.id != platform.id)
    if db.session.scalar(sa.select(sa.func.count(Platform.id)).where(*criteria)):
        raise AdminError(f"已有名为“{name}”的平台。", "name")
    if city_code:
        region = db.session.get(Region, city_code)
        if region is None or region.level != "city":
            raise AdminError("请选择所属市州。", "city_code")
    before = snapshot(platform, PLATFORM_FIELDS) if platform else None
    if platform is None:
        platform = Platform()
        db.session.add(platform)
    platform.name = name
    platform.city_code = city_code or None
    platform.sort_order = sort_order
    platform.active = active
    return _commit_change(
        platform, before, PLATFORM_FIELDS, action="platform", label=f"所属平台“{platform.name}”", actor=actor
    )


def platform_set_active(*, platform, active, actor):
    """停用 / 启用 a platform: institutions on it keep it; new registrations cannot pick it."""
    _set_active(platform, active, action="platform", label=f"所属平台“{platform.name}”", actor=actor)


def _commit_change(obj, before, fields, *, action, label, actor):
    """Commit a create (``before`` None) or an edit with an audit entry of the changed fields;
    an edit that changes nothing is rolled back and leaves no entry."""
    db.session.flush()
    after = snapshot(obj, fields)
    if before == after:
        db.session.rollback()
        return obj
    changed_before, changed_after = _changed(before, after) if before else (None, after)
    audit(
        f"{action}.update" if before else f"{action}.create",
        summary=f"{'修改' if before else '新增'}{label}",
        target=obj,
        before=changed_before,
        after=changed_after,
        actor=actor,
    )
    db.session.commit()
    return obj


def _set_active(obj, active, *, action, label, actor):
    if obj.active == active:
        raise AdminError(f"{label}已是{'启用' if active else '停用'}状态。")
    obj.active = active
    audit(
        f"{action}.restore" if active else f"{action}.retire",
        summary=f"{'启用' if active else '停用'}{label}",
        target=obj,
        before={"active": not active},
        after={"active": active},
        actor=actor,
    )
    db.session.commit()


def _changed(before, after):
    """Only the fields that differ, for a readable audit entry."""
    keys = [key for key in after if before.get(key) != after.get(key)]
    return {key: before.get(key) for key in keys}, {key: after[key] for key in keys}
