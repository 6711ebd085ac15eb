"""站内消息: in-app messages with an unread count in the header."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

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


def unread_count(user):
    return db.session.scalar(
        sa.select(sa.func.count(Message.id)).where(Message.user_id == user.id, Message.read_at.is_(None))
    )
