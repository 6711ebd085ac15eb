"""Accounts, their profiles, server-side sessions and the login log."""

from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash

from app.cache import DIRECTORY, topics
from app.extensions import db
from app.reference.services import region_name
from app.utils import utcnow

ROLE_LABELS = {
    "enterprise": "企业用户",
    "institution": "服务机构",
    "expert": "服务专家",
    "city_admin": "市州管理员",
    "province_admin": "省级管理员",
}
ADMIN_ROLES = ("city_admin", "province_admin")
STATUS_LABELS = {"active": "正常", "disabled": "已停用"}


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(120))
    # lower-cased username: account names are unique case-insensitively
    username_key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(20), index=True)
    phone: Mapped[str | None] = mapped_column(sa.String(20), index=True)
    # the 市州 a city admin is scoped to; for other roles the 市州 of their profile
    city_code: Mapped[str | None] = mapped_column(sa.ForeignKey("region.code"), index=True)
    display_name: Mapped[str] = mapped_column(sa.String(120), default="")
    status: Mapped[str] = mapped_column(sa.String(10), default="active")
    must_change_password: Mapped[bool] = mapped_column(default=False)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]

    institution: Mapped["Institution | None"] = relationship(back_populates="user", uselist=False)
    expert: Mapped["Expert | None"] = relationship(back_populates="user", uselist=False)
    enterprise: Mapped["Enterprise | None"] = relationship(back_populates="user", uselist=False)
    city = relationship("Region", foreign_keys=[city_code])

    @validates("username")
    def _set_key(self, key, value):
        self.username_key = value.strip().lower()
        return value.strip()

    def set_password(self, password):
        # scrypt in production; the test suite sets a cheap method to stay quick.
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)
        self.password_changed_at = utcnow()

    def check_password(self, password):
        return check_password_hash(self.password_hash, password)

    # Set by the session loader (app/blueprints/auth/sessions.py) on the user it found active for
    # this request. Not a column, so a commit's expiry leaves it: asking whether the signed-in user
    # is authenticated after the request's commit (security headers, the layout) reads no row again.
    loaded_active = False

    @property
    def is_active(self):
        return self.status == "active"

    @property
    def is_authenticated(self):
        return self.loaded_active or self.is_active

    @property
    def is_admin(self):
        return self.role in ADMIN_ROLES

    @property
    def role_label(self):
        return ROLE_LABELS.get(self.role, self.role)

    @property
    def profile(self):
        """The account's 服务机构, 专家 or 企业 row (None for an admin): only the role's own
        relationship is read, so an admin's account loads none of the three."""
        return getattr(self, self.role) if self.role in ("institution", "expert", "enterprise") else None

    def is_locked(self, now=None):
        return self.locked_until is not None and self.locked_until > (now or utcnow())

    def __repr__(self):
        return f"<User {self.username} {self.role}>"


class RegionMixin:
    """所在地区: a 市州 and one of its 区县."""

    city_code: Mapped[str] = mapped_column(sa.ForeignKey("region.code"), index=True)
    county_code: Mapped[str | None] = mapped_column(sa.ForeignKey("region.code"))

    @property
    def region_label(self):
        return " ".join(n for n in (region_name(self.city_code), region_name(self.county_code)) if n)


# 服务类别 an institution offers (基本资料), shown and filtered in the 核心服务机构 directory.
institution_service_category = sa.Table(
    "institution_service_category",
    db.metadata,
    sa.Column("institution_id", sa.ForeignKey("institution.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("category_id", sa.ForeignKey("dict_item.id"), primary_key=True, index=True),
    info=topics(DIRECTORY),
)


class Institution(RegionMixin, db.Model):
    """服务机构 (社会服务帐户): the organisation behind an institution account."""

    __tablename__ = "institution"
    __table_args__ = (
        # 报送情况 counts each 市州's institutions that had their account by a month's end
        sa.Index("ix_institution_city_code_created_at", "city_code", "created_at"),
        # 报送情况's 未报送 list is in this order: a page of it reads 30 institutions in order and
        # stops, rather than sorting every missing one (924 of 2,000 in the benchmark's period)
        sa.Index("ix_institution_city_code_name", "city_code", "name", "id"),
        {"info": topics(DIRECTORY)},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), unique=True)
    service_kind: Mapped[str] = mapped_column(sa.String(40), default="社会性服务类 (C)")
    name: Mapped[str] = mapped_column(sa.String(120))
    uscc: Mapped[str] = mapped_column(sa.String(18), unique=True)
    unit_nature_id: Mapped[int] = mapped_column(sa.ForeignKey("dict_item.id"))
    platform_id: Mapped[int] = mapped_column(sa.ForeignKey("platform.id"))
    institution_type_id: Mapped[int | None] = mapped_column(sa.ForeignKey("dict_item.id"))
    contact: Mapped[str] = mapped_column(sa.String(40))
    phone: Mapped[str] = mapped_column(sa.String(20))
    email: Mapped[str | None] = mapped_column(sa.String(120))
    address: Mapped[str | None] = mapped_column(sa.String(200))
    intro: Mapped[str | None] = mapped_column(sa.Text)
    # 对外公开联系方式: the directory shows 联系人, 电话, 电子邮箱 and 地址 only when the institution chose so
    publish_contact: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="institution")
    service_categories = relationship(
        "ServiceCategory", secondary=institution_service_category, order_by="ServiceCategory.sort_order"
    )
    unit_nature = relationship("UnitNature", foreign_keys=[unit_nature_id])
    institution_type = relationship("InstitutionType", foreign_keys=[institution_type_id])
    platform = relationship("Platform")

    @property
    def service_category_ids(self):
        return [category.id for category in self.service_categories]


class Expert(RegionMixin, db.Model):
    """服务专家."""

    __tablename__ = "expert"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), unique=True)
    name: Mapped[str] = mapped_column(sa.String(40))
    gender: Mapped[str] = mapped_column(sa.String(4))
    birth_month: Mapped[str] = mapped_column(sa.String(7))  # 出生年月 as 1980-05
    employer: Mapped[str] = mapped_column(sa.String(120))
    title: Mapped[str] = mapped_column(sa.String(40))  # 职称
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("dict_item.id"))  # 专业领域
    phone: Mapped[str] = mapped_column(sa.String(20))
    bio: Mapped[str | None] = mapped_column(sa.Text)  # 个人简介
    # 评审专家: the province admin lets this expert score 优秀评选 nominations
    is_reviewer: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="expert")
    category = relationship("ServiceCategory", foreign_keys=[category_id])


class Enterprise(RegionMixin, db.Model):
    """企业."""

    __tablename__ = "enterprise"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    uscc: Mapped[str] = mapped_column(sa.String(18), unique=True)
    contact: Mapped[str] = mapped_column(sa.String(40))
    phone: Mapped[str] = mapped_column(sa.String(20))
    address: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="enterprise")


class UserSession(db.Model):
    """A login, recorded server-side so that logout, 强退 and timeouts are real."""

    __tablename__ = "user_session"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    user_agent: Mapped[str | None] = mapped_column(sa.String(300))
    ended_at: Mapped[datetime | None] = mapped_column(index=True)
    end_reason: Mapped[str | None] = mapped_column(sa.String(20))

    user: Mapped[User] = relationship()


class LoginLog(db.Model):
    """登录日志: every login attempt, successful or not."""

    __tablename__ = "login_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(120))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    success: Mapped[bool]
    detail: Mapped[str] = mapped_column(sa.String(60), default="")
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    user_agent: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    user: Mapped[User | None] = relationship()


class PhoneChangeRequest(db.Model):
    """手机号变更申诉, approved or rejected by a province admin."""

    __tablename__ = "phone_change_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(120))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    old_phone: Mapped[str] = mapped_column(sa.String(20))
    new_phone: Mapped[str] = mapped_column(sa.String(20))
    reason: Mapped[str] = mapped_column(sa.Text)
    attachment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("attachment.id"))
    status: Mapped[str] = mapped_column(sa.String(10), default="pending", index=True)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    attachment = relationship("Attachment")

    STATUS_LABELS = {"pending": "待审核", "approved": "已通过", "rejected": "已驳回"}

    @property
    def status_label(self):
        return self.STATUS_LABELS[self.status]
