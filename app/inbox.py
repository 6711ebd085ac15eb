"""站内消息: in-app messages with an unread count in the header."""

from datetime import datetime

import sqlalchemy as sa
from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.extensions import db
from app.utils import utcnow


class Message(db.Model):
    __tablename__ = "message"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text, default="")
    link: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    read_at: Mapped[datetime | None]


def notify(user, title, body="", link=None):
    """Queue a message to a user in the current transaction; the caller commits."""
    message = Message(user_id=user.id, title=title, body=body, link=link)
    db.session.add(message)
    return message


def unread_of(user_id):
    """SQL: how many of the user's messages are unread (a scalar subquery another query may carry:
    the session loader reads it with the user, so the header's count costs no query of its own)."""
    return (
        sa.select(sa.func.count(Message.id))
        .where(Message.user_id == user_id, Message.read_at.is_(None))
        .scalar_subquery()
    )


def unread_count(user):
    """The header's unread count: what the session loader read with the user for this request
    (``remember_unread``), else one query. A commit that wrote messages (one read, one sent)
    makes it read again."""
    # the user's id from its identity: after the request's commit its attributes are expired,
    # and reading ``user.id`` would load the whole row again just to compare
    identity = sa.inspect(user).identity
    user_id = identity[0] if identity else user.id
    if has_request_context():
        kept = getattr(request, "_unread_messages", None)
        if kept is not None and kept[0] == user_id:
            return kept[1]
    return db.session.scalar(sa.select(unread_of(user_id)))


def remember_unread(user_id, count):
    if has_request_context():
        request._unread_messages = (user_id, count)


def forget_unread():
    """A message was marked read or sent outside the request's transaction: count again."""
    if has_request_context():
        request._unread_messages = None


_WROTE = "wrote_messages"  # session.info: this transaction wrote the message table


@event.listens_for(Session, "after_flush")
def _flushed_messages(session, _context):
    if any(isinstance(instance, Message) for instance in (*session.new, *session.dirty, *session.deleted)):
        session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _bulk_messages(state):
    if (state.is_insert or state.is_update or state.is_delete) and getattr(
        state.statement, "table", None
    ) is Message.__table__:
        state.session.info[_WROTE] = True


@event.listens_for(Session, "after_commit")
def _forget_unread(session):
    # a savepoint's commit is not the request's (SQLAlchemy 2.1 fires this for nested transactions too)
    if not session.in_nested_transaction() and session.info.pop(_WROTE, False):
        forget_unread()


@event.listens_for(Session, "after_rollback")
def _rolled_back(session):
    if not session.in_nested_transaction():
        session.info.pop(_WROTE, None)
