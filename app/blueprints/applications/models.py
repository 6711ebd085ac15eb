"""核心服务机构申报 (CoreApplication) and the recognition it leads to."""

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.cache import DIRECTORY, topics
from app.extensions import db
from app.filings.models import Filing
from app.utils import local_today, utcnow

RECOGNITION_YEARS = 3  # a recognition lasts three years: a 2023 round gives 2023-2026


class CoreApplication(Filing):
    __tablename__ = "core_application"

    id: Mapped[int] = mapped_column(sa.ForeignKey("filing.id"), primary_key=True)
    # 基本信息
    registered_capital: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))
    total_assets: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))
    facilities_value: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))
    equipment_count: Mapped[int | None]
    floor_area: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 2))
    equipment_ratio: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    own_area_ratio: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    site_nature: Mapped[str | None] = mapped_column(sa.String(4))
    intro: Mapped[str | None] = mapped_column(sa.Text)
    # 服务经营情况, for the two years before the round's year
    served_prev2: Mapped[int | None]
    served_prev1: Mapped[int | None]
    activities_prev2: Mapped[int | None]
    activities_prev1: Mapped[int | None]

    __mapper_args__ = {"polymorphic_identity": "core_application"}


class Recognition(db.Model):
    """A 核心服务机构 recognition for a term of years (from an application, set directly or imported).

    ``effective_on`` is the day (China time) it was made: the institution is 应报 for a month only
    if it was recognised by that month's last day (and not revoked before the month began), so a
    recognition made later never changes an earlier month's 报送情况.
    """

    __tablename__ = "recognition"
    __table_args__ = (
        # 应报 for a month (institution_expected) asks each institution's terms: read from the index alone
        sa.Index(
            "ix_recognition_institution_terms", "institution_id", "term_start", "term_end", "effective_on", "revoked_at"
        ),
        {"info": topics(DIRECTORY)},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institution.id"))
    application_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_application.id"), unique=True)
    term_start: Mapped[int]
    term_end: Mapped[int]
    effective_on: Mapped[date] = mapped_column(default=local_today)  # 生效日期
    revoked_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    institution = relationship("Institution")
    application = relationship("CoreApplication")

    @property
    def term_label(self):
        return f"{self.term_start}-{self.term_end}"
