"""优秀评选: the three kinds of nomination (filings), expert scoring and publication."""

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.cache import AWARDS, topics
from app.extensions import db
from app.filings import workflow
from app.filings.models import Filing
from app.utils import utcnow

CHARGE_MODES = ["免费", "低收费", "市场化收费"]
# statuses in which a nomination is with the province (scoring) or decided
PROVINCE_STAGE = (workflow.CITY_APPROVED,)
REVIEWABLE = (workflow.CITY_APPROVED, workflow.APPROVED, workflow.REJECTED)


class InstitutionNomination(Filing):
    """优秀服务机构申报: one per institution per 评选年度."""

    __tablename__ = "institution_nomination"
    __table_args__ = {"info": topics(AWARDS)}

    id: Mapped[int] = mapped_column(sa.ForeignKey("filing.id"), primary_key=True)
    staff_count: Mapped[int | None]  # 服务人员数 (人)
    served_count: Mapped[int | None]  # 上年度服务企业数 (家次)
    activity_count: Mapped[int | None]  # 上年度服务活动数 (场次)
    revenue: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))  # 上年度营业收入 (万元)
    honors: Mapped[str | None] = mapped_column(sa.Text)  # 荣誉资质, 300-500 字
    intro: Mapped[str | None] = mapped_column(sa.Text)  # 机构简介, ≤ 800 字

    __mapper_args__ = {"polymorphic_identity": "institution_nomination"}

    @property
    def display_name(self):
        return self.institution.name if self.institution else ""


class ProductNomination(Filing):
    """优秀服务产品申报: several per institution."""

    __tablename__ = "product_nomination"
    __table_args__ = {"info": topics(AWARDS)}

    id: Mapped[int] = mapped_column(sa.ForeignKey("filing.id"), primary_key=True)
    product_name: Mapped[str | None] = mapped_column(sa.String(100))
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("dict_item.id"))  # 服务类别
    charge_mode: Mapped[str | None] = mapped_column(sa.String(10))  # 免费 / 低收费 / 市场化收费
    served_count: Mapped[int | None]  # 上年度服务企业数 (家次)
    intro: Mapped[str | None] = mapped_column(sa.Text)  # 产品介绍, ≤ 500 字
    points: Mapped[str | None] = mapped_column(sa.Text)  # 产品说明: one point per line

    category = relationship("ServiceCategory", foreign_keys=[category_id])

    __mapper_args__ = {"polymorphic_identity": "product_nomination"}

    @property
    def display_name(self):
        return self.product_name or ""

    @property
    def point_list(self):
        return [line for line in (self.points or "").splitlines() if line.strip()]


class ExpertNomination(Filing):
    """优秀服务专家申报: by an institution, or by an expert for itself (nominee_id set)."""

    __tablename__ = "expert_nomination"
    __table_args__ = {"info": topics(AWARDS)}

    id: Mapped[int] = mapped_column(sa.ForeignKey("filing.id"), primary_key=True)
    # the expert account nominated, when an expert nominates itself
    nominee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    name: Mapped[str | None] = mapped_column(sa.String(40))
    gender: Mapped[str | None] = mapped_column(sa.String(4))
    age: Mapped[int | None]
    employer: Mapped[str | None] = mapped_column(sa.String(120))  # 工作单位
    title: Mapped[str | None] = mapped_column(sa.String(40))  # 职称
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("dict_item.id"))  # 专业领域
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    bio: Mapped[str | None] = mapped_column(sa.Text)  # 个人简介, ≤ 500 字
    achievements: Mapped[str | None] = mapped_column(sa.Text)  # 研究成果/荣誉/奖励

    category = relationship("ServiceCategory", foreign_keys=[category_id])
    nominee = relationship("User", foreign_keys=[nominee_id])

    __mapper_args__ = {"polymorphic_identity": "expert_nomination"}

    @property
    def display_name(self):
        return self.name or ""


class ScoringCriterion(db.Model):
    """One line of a kind's 评分标准 in one 评选年度: a name, its full score and its weight (%)."""

    __tablename__ = "award_criterion"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("round.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(30))  # the nomination's filing kind
    name: Mapped[str] = mapped_column(sa.String(40))
    max_score: Mapped[int]
    weight: Mapped[int]  # per cent; a kind's weights add up to 100
    position: Mapped[int] = mapped_column(default=0)


class ReviewAssignment(db.Model):
    """A 评审专家 assigned to score one nomination; submitted_at is set once its scores are final."""

    __tablename__ = "award_assignment"
    __table_args__ = (sa.UniqueConstraint("filing_id", "reviewer_id", name="uq_award_assignment_filing_reviewer"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    filing_id: Mapped[int] = mapped_column(sa.ForeignKey("filing.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    assigned_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    # the reviewer's 工作单位 when assigned: it keeps counting for conflicts whatever the expert types later
    reviewer_employer: Mapped[str | None] = mapped_column(sa.String(120))
    submitted_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    # set when a later change of the reviewer's 工作单位 (or an admin-verified one) makes this
    # unscored assignment a conflict of interest: why, and when; the province admin withdraws it
    conflict: Mapped[str | None] = mapped_column(sa.String(300))
    conflict_at: Mapped[datetime | None]

    filing = relationship("Filing")
    reviewer = relationship("User", foreign_keys=[reviewer_id])
    scores: Mapped[list["Score"]] = relationship(
        back_populates="assignment", cascade="all, delete-orphan", order_by="Score.id"
    )


EMPLOYER_SOURCES = {"declared": "曾填报的工作单位", "verified": "经核实的工作单位"}


class ExpertEmployer(db.Model):
    """A 工作单位 known for an expert besides the one in its profile: a value it declared before
    changing it ("declared"), or one the province admin verified ("verified"; the latest is the
    current verified employer). Every known employer counts for conflicts of interest."""

    __tablename__ = "award_expert_employer"

    id: Mapped[int] = mapped_column(primary_key=True)
    expert_id: Mapped[int] = mapped_column(sa.ForeignKey("expert.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    source: Mapped[str] = mapped_column(sa.String(10))  # a key of EMPLOYER_SOURCES
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    recorded_by = relationship("User")

    @property
    def source_label(self):
        return EMPLOYER_SOURCES.get(self.source, self.source)


class Score(db.Model):
    """A reviewer's score on one criterion, with an optional comment."""

    __tablename__ = "award_score"
    __table_args__ = (sa.UniqueConstraint("assignment_id", "criterion_id", name="uq_award_score_assignment_criterion"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(sa.ForeignKey("award_assignment.id"), index=True)
    criterion_id: Mapped[int] = mapped_column(sa.ForeignKey("award_criterion.id"))
    score: Mapped[int]
    comment: Mapped[str | None] = mapped_column(sa.String(500))

    assignment: Mapped[ReviewAssignment] = relationship(back_populates="scores")
    criterion = relationship("ScoringCriterion")


class AwardResult(db.Model):
    """The province admin's 入选 / 未入选 for a nomination, before it is published."""

    __tablename__ = "award_result"
    __table_args__ = {"info": topics(AWARDS)}

    filing_id: Mapped[int] = mapped_column(sa.ForeignKey("filing.id"), primary_key=True)
    selected: Mapped[bool]
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)


class AwardPublication(db.Model):
    """公示 and 发布 of one 评选年度's results (all three kinds together)."""

    __tablename__ = "award_publication"
    __table_args__ = {"info": topics(AWARDS)}

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("round.id"), unique=True)
    publicity_starts: Mapped[date]
    publicity_ends: Mapped[date]
    opened_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
    published_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    round = relationship("Round")
