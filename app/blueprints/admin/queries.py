"""Read side of system administration: the selects behind each list, with their filters.

Each ``*_select`` returns a SQLAlchemy select that ``app.utils.paginate`` pages; relationships the
page shows are loaded eagerly so a page's query count does not grow with its rows.
"""

import hashlib
from datetime import datetime, time, timedelta, timezone

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload, selectinload

from app.audit import AuditLog
from app.blueprints.auth.models import Enterprise, Expert, Institution, LoginLog, PhoneChangeRequest, User, UserSession
from app.extensions import db
from app.reference.models import DICT_KINDS, DictItem, Platform
from app.sms import STATUS_LABELS, SmsMessage
from app.utils import CHINA, utcnow


def utc_bounds(date_from=None, date_to=None):
    """China-time dates (both inclusive) as naive-UTC datetimes [start, end)."""

    def start_of(day):
        return datetime.combine(day, time.min, tzinfo=CHINA).astimezone(timezone.utc).replace(tzinfo=None)

    start = start_of(date_from) if date_from else None
    end = start_of(date_to + timedelta(days=1)) if date_to else None
    return start, end


def _in_range(column, date_from, date_to):
    start, end = utc_bounds(date_from, date_to)
    criteria = []
    if start:
        criteria.append(column >= start)
    if end:
        criteria.append(column < end)
    return criteria


# --- 用户管理 ---------------------------------------------------------------------------------


def user_scope(viewer):
    """The accounts an admin may see: all for a province admin, its 市州's for a city admin."""
    if viewer.role == "province_admin":
        return sa.true()
    return User.city_code == viewer.city_code


def users_select(*, viewer, role=None, city_code=None, status=None, keyword=None):
    query = sa.select(User).where(user_scope(viewer))
    if role:
        query = query.where(User.role == role)
    if city_code and viewer.role == "province_admin":
        query = query.where(User.city_code == city_code)
    if status:
        query = query.where(User.status == status)
    if keyword:
        query = query.where(
            sa.or_(
                User.username.icontains(keyword, autoescape=True),
                User.display_name.icontains(keyword, autoescape=True),
                User.phone.contains(keyword, autoescape=True),
                User.institution.has(Institution.name.contains(keyword, autoescape=True)),
                User.expert.has(Expert.name.contains(keyword, autoescape=True)),
                User.enterprise.has(Enterprise.name.contains(keyword, autoescape=True)),
            )
        )
    return query.order_by(User.created_at.desc(), User.id.desc())


def users_page_options():
    return (selectinload(User.institution), selectinload(User.expert), selectinload(User.enterprise))


def user_for_viewer(*, viewer, user_id):
    """The account, or None when it does not exist or lies outside the viewer's 市州."""
    return db.session.scalar(
        sa.select(User)
        .where(User.id == user_id, user_scope(viewer))
        .options(
            selectinload(User.institution).joinedload(Institution.unit_nature),
            selectinload(User.institution).joinedload(Institution.institution_type),
            selectinload(User.institution).joinedload(Institution.platform),
            selectinload(User.expert).joinedload(Expert.category),
            selectinload(User.enterprise),
        )
    )


def user_recent_logins(user, limit=10):
    return db.session.scalars(
        sa.select(LoginLog)
        .where(LoginLog.user_id == user.id)
        .order_by(LoginLog.created_at.desc(), LoginLog.id.desc())
        .limit(limit)
    ).all()


def user_open_sessions(user):
    return db.session.scalars(open_sessions_select().where(UserSession.user_id == user.id)).all()


# --- 登录日志, 在线用户, 操作日志, 短信日志 ---------------------------------------------------------


def login_logs_select(*, success=None, username=None, date_from=None, date_to=None):
    query = sa.select(LoginLog)
    if success is not None:
        query = query.where(LoginLog.success.is_(success))
    if username:
        query = query.where(LoginLog.username.icontains(username, autoescape=True))
    query = query.where(*_in_range(LoginLog.created_at, date_from, date_to))
    return query.order_by(LoginLog.created_at.desc(), LoginLog.id.desc())


def open_sessions_select():
    """Sessions not ended and within the idle and absolute timeouts."""
    now = utcnow()
    config = current_app.config
    return (
        sa.select(UserSession)
        .where(
            UserSession.ended_at.is_(None),
            UserSession.last_seen_at > now - config["SESSION_IDLE_TIMEOUT"],
            UserSession.created_at > now - config["SESSION_ABSOLUTE_TIMEOUT"],
        )
        .options(joinedload(UserSession.user))
        .order_by(UserSession.last_seen_at.desc(), UserSession.id)
    )


def session_ref(sid):
    """A stable reference to a session for pages and forms; the session id itself never leaves
    the server, since together with the secret key it is what the login cookie carries."""
    return hashlib.sha256(sid.encode()).hexdigest()[:24]


def audit_select(*, actor=None, action=None, target_type=None, institution=None, date_from=None, date_to=None):
    """``action``: one code, or several joined by "," (codes that share a name); ``institution``:
    part of an institution's name (the institution the action concerned)."""
    query = sa.select(AuditLog)
    if actor:
        query = query.where(AuditLog.actor_name.icontains(actor, autoescape=True))
    if action:
        query = query.where(AuditLog.action.in_(action.split(",")))
    if target_type:
        query = query.where(AuditLog.target_type == target_type)
    if institution:
        named = sa.select(Institution.id).where(Institution.name.icontains(institution, autoescape=True))
        query = query.where(AuditLog.institution_id.in_(named))
    query = query.where(*_in_range(AuditLog.created_at, date_from, date_to))
    return query.order_by(AuditLog.created_at.desc(), AuditLog.id.desc())


def institution_names(ids):
    """{institution id: name} of the institutions still there among ``ids`` (one query; none without ids)."""
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(Institution.id, Institution.name).where(Institution.id.in_(ids))).all())


def audit_actions_present():
    return db.session.scalars(sa.select(AuditLog.action).distinct().order_by(AuditLog.action)).all()


def sms_select(*, phone=None, status=None):
    query = sa.select(SmsMessage)
    if status in STATUS_LABELS:
        query = query.where(SmsMessage.status == status)
    if phone:
        query = query.where(SmsMessage.phone.contains(phone, autoescape=True))
    return query.order_by(SmsMessage.created_at.desc(), SmsMessage.id.desc())


# --- 手机号变更申诉 ------------------------------------------------------------------------------


def phone_requests_select(*, status=None):
    query = sa.select(PhoneChangeRequest).options(joinedload(PhoneChangeRequest.user))
    if status:
        query = query.where(PhoneChangeRequest.status == status)
    return query.order_by(PhoneChangeRequest.created_at.desc(), PhoneChangeRequest.id.desc())


def phone_request_get(request_id):
    return db.session.scalar(
        sa.select(PhoneChangeRequest)
        .where(PhoneChangeRequest.id == request_id)
        .options(
            joinedload(PhoneChangeRequest.user),
            joinedload(PhoneChangeRequest.decided_by),
            joinedload(PhoneChangeRequest.attachment),
        )
    )


def phone_bound_elsewhere(req):
    """Other accounts already bound to the appeal's new number (shown as a warning)."""
    criteria = [User.phone == req.new_phone]
    if req.user_id:
        criteria.append(User.id != req.user_id)
    return db.session.scalars(sa.select(User.username).where(*criteria).order_by(User.id).limit(5)).all()


# --- 字典管理 and 所属平台 -----------------------------------------------------------------------


def dict_items_select(kind):
    cls = DICT_KINDS[kind]
    return sa.select(cls).order_by(cls.sort_order, cls.id)


def dict_next_sort_order(kind):
    cls = DICT_KINDS[kind]
    return (db.session.scalar(sa.select(sa.func.max(cls.sort_order))) or 0) + 1


def dict_item_get(item_id):
    item = db.session.get(DictItem, item_id)
    return item if item is not None and item.kind in DICT_KINDS else None


def platforms_select():
    return sa.select(Platform).order_by(Platform.sort_order, Platform.id)


def platform_next_sort_order():
    return (db.session.scalar(sa.select(sa.func.max(Platform.sort_order))) or 0) + 1


def platform_get(platform_id):
    return db.session.get(Platform, platform_id)


def platform_usage(platform_ids):
    """{platform id: number of institutions on it} for the platforms on a page."""
    if not platform_ids:
        return {}
    return dict(
        db.session.execute(
            sa.select(Institution.platform_id, sa.func.count(Institution.id))
            .where(Institution.platform_id.in_(platform_ids))
            .group_by(Institution.platform_id)
        ).all()
    )


def audit_get(entry_id):
    return db.session.get(AuditLog, entry_id)
