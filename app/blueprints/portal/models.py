"""通知公告 / 工作动态."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.cache import NOTICES, topics
from app.extensions import db
from app.utils import utcnow

NOTICE_CATEGORIES = ("通知公告", "工作动态")


class Notice(db.Model):
    __tablename__ = "notice"
    __table_args__ = {"info": topics(NOTICES)}

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    category: Mapped[str] = mapped_column(sa.String(20), default="通知公告", index=True)
    body: Mapped[str] = mapped_column(sa.Text, default="")
    pinned: Mapped[bool] = mapped_column(default=False)  # the headline notice on 首页
    is_published: Mapped[bool] = mapped_column(default=True)
    published_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    author = relationship("User")
    attachments = relationship("Attachment", order_by="Attachment.id", cascade="all, delete-orphan")

    @property
    def is_public(self):
        """Visible to visitors: published and its time has come."""
        return self.is_published and self.published_at <= utcnow()

    @property
    def status_label(self):
        if not self.is_published:
            return "未发布"
        return "已发布" if self.published_at <= utcnow() else "定时发布"
