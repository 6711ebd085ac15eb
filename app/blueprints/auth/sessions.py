"""Server-side sessions: the cookie holds only a random id; the row decides whether it is valid."""

import secrets
from datetime import timedelta
from functools import cache

import sqlalchemy as sa
from flask import current_app, g, request, session
from sqlalchemy.orm import joinedload

from app.blueprints.auth.models import User, UserSession
from app.cache import token_columns, tokens_read
from app.database import write_aside
from app.extensions import db
from app.inbox import remember_unread, unread_of
from app.utils import utcnow

TOUCH_EVERY = timedelta(minutes=1)  # write last_seen_at at most once a minute


@cache
def _session_and_user():
    """Every signed-in request runs this: one statement, built once (on first use: the loader option
    needs every model mapped), for the session row and its user. It carries what nearly every page
    needs next: an institution account's 服务机构 (eager, so the lists that show "its" institution
    find it in the session), the header's unread count and the cache topics' tokens (which the
    reference lists and the 首页's figures are checked against)."""
    return (
        sa.select(UserSession, User, unread_of(User.id).label("unread"), *token_columns())
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.id == sa.bindparam("sid"))
        .options(joinedload(User.institution))
    )


def session_start(user):
    """Record a new session for ``user`` and put its id in the cookie (caller commits)."""
    session.clear()
    sid = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(
            id=sid,
            user_id=user.id,
            ip=request.remote_addr,
            user_agent=(request.user_agent.string or "")[:300],
        )
    )
    session["sid"] = sid
    session.permanent = False
    return sid


def session_end(reason="logout"):
    """End the current session (退出). Caller commits."""
    sid = session.pop("sid", None)
    if sid:
        sessions_end(UserSession.id == sid, reason=reason)
    session.clear()


def sessions_end(*criteria, reason):
    """End every open session matching ``criteria`` (强退, password change). Caller commits."""
    db.session.execute(
        sa.update(UserSession)
        .where(UserSession.ended_at.is_(None), *criteria)
        .values(ended_at=utcnow(), end_reason=reason)
    )


def sessions_end_for_user(user, *, reason, keep_current=False):
    criteria = [UserSession.user_id == user.id]
    if keep_current and session.get("sid"):
        criteria.append(UserSession.id != session["sid"])
    sessions_end(*criteria, reason=reason)


def session_is_open(row, now):
    config = current_app.config
    return (
        row.ended_at is None
        and row.last_seen_at > now - config["SESSION_IDLE_TIMEOUT"]
        and row.created_at > now - config["SESSION_ABSOLUTE_TIMEOUT"]
    )


def load_user(user_id):
    """Flask-Login's loader (create_app installs it): the user only while its server-side session is open."""
    sid = session.get("sid")
    if not sid:
        return None
    found = db.session.execute(_session_and_user(), {"sid": sid}).first()
    now = utcnow()
    if found is None or str(found.UserSession.user_id) != str(user_id):
        return None
    tokens_read(found)
    row, user, unread = found[:3]
    if not session_is_open(row, now):
        # for this request's answer (app/saved_forms.py): whose session ended, and how
        g.ended_session = (row.user_id, row.end_reason or "timeout")
        if row.ended_at is None:
            write_aside(
                sa.update(UserSession)
                .where(UserSession.id == sid, UserSession.ended_at.is_(None))
                .values(ended_at=now, end_reason="timeout")
            )
        session.clear()
        return None
    if not user.is_active:
        return None
    user.loaded_active = True
    remember_unread(user.id, unread)
    if now - row.last_seen_at > TOUCH_EVERY:
        write_aside(
            sa.update(UserSession)
            .where(UserSession.id == sid, UserSession.last_seen_at < now - TOUCH_EVERY)
            .values(last_seen_at=now)
        )
    return user
