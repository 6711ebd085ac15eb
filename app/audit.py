"""The audit trail (操作日志): one helper writes every admin action and account change."""

from datetime import datetime

import sqlalchemy as sa
from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.utils import utcnow


class AuditLog(db.Model):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    actor_name: Mapped[str] = mapped_column(sa.String(120), default="")
    action: Mapped[str] = mapped_column(sa.String(60), index=True)
    target_type: Mapped[str] = mapped_column(sa.String(40), default="", index=True)
    target_id: Mapped[str] = mapped_column(sa.String(40), default="")
    # the object's readable name and the institution it concerns, as they were then
    target_name: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    institution_id: Mapped[int | None] = mapped_column(index=True)  # no foreign key: the log outlives rows
    summary: Mapped[str] = mapped_column(sa.String(300), default="")
    before: Mapped[dict | None] = mapped_column(sa.JSON)
    after: Mapped[dict | None] = mapped_column(sa.JSON)
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


def audit(action, *, summary="", target=None, before=None, after=None, actor=None):
    """Record an action in the current transaction; the caller's service commits it.

    ``target`` is a model instance; ``before``/``after`` are dicts of the changed fields.
    """
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    target = _unwrapped(target)
    actor = _unwrapped(actor)
    entry = AuditLog(
        actor_id=getattr(actor, "id", None),
        actor_name=getattr(actor, "username", "") or "系统",
        action=action,
        target_type=type(target).__name__ if target is not None else "",
        target_id=str(getattr(target, "id", "") or ""),
        target_name=target_name(target)[:200],
        institution_id=institution_of(target),
        summary=summary[:300],
        before=_jsonable(before),
        after=_jsonable(after),
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    return entry


def _unwrapped(obj):
    """The object behind a proxy (``current_user``), so the log names a User, not a LocalProxy."""
    getter = getattr(obj, "_get_current_object", None)
    return getter() if callable(getter) else obj


def target_name(target):
    """A readable name for the object: its ``audit_name`` when the model has one, else its
    name, title or username."""
    if target is None:
        return ""
    for attribute in ("audit_name", "name", "title", "display_name", "username"):
        value = getattr(target, attribute, None)
        if isinstance(value, str) and value:
            return value
    return ""


def institution_of(target):
    """The institution an action concerns: the institution itself, a row that belongs to one, or
    an institution's account."""
    if target is None:
        return None
    if type(target).__name__ == "Institution":
        return target.id
    found = getattr(target, "institution_id", None)
    if isinstance(found, int):
        return found
    institution = getattr(target, "institution", None) if type(target).__name__ == "User" else None
    return getattr(institution, "id", None)


def snapshot(obj, fields):
    """The named fields of a model, for ``before``/``after``."""
    return {name: getattr(obj, name) for name in fields}


def _jsonable(data):
    if data is None:
        return None
    return {
        key: (value if isinstance(value, (str, int, float, bool, type(None))) else str(value))
        for key, value in data.items()
    }
