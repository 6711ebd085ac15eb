"""Fixtures for 优秀评选: an open 评选年度, people, and nominations made straight in the database."""

from types import SimpleNamespace

import pytest

from app.extensions import db
from tests.factories import make_city_admin, make_expert, make_institution, make_province_admin, make_round

HONORS = "获评省级中小企业公共服务示范平台，" * 20  # 320 字
INSTITUTION_BASIC = {
    "staff_count": "35",
    "served_count": "420",
    "activity_count": "60",
    "revenue": "1250.50",
    "honors": HONORS,
    "intro": "本中心成立于2012年，为中小企业提供政策咨询、融资对接、管理培训等服务。\n第二段简介。",
}
PRODUCT_BASIC = {
    "product_name": "中小企业融资服务包",
    "category_id": None,  # set per test from the reference data
    "charge_mode": "低收费",
    "served_count": "180",
    "intro": "为中小企业提供融资诊断、银行对接和担保服务。",
    "points": "1. 首创线上融资诊断\n2、银企对接会每月一次\n\n（3）担保费率低于市场平均",
}
EXPERT_BASIC = {
    "name": "李教授",
    "gender": "男",
    "age": "52",
    "employer": "中南大学",
    "title": "教授",
    "category_id": None,
    "phone": "13900001111",
    "bio": "长期从事中小企业管理研究。",
    "achievements": "主持国家自然科学基金项目3项。",
}


def _who(user):
    return SimpleNamespace(id=user.id, username=user.username)


def category_id():
    import sqlalchemy as sa

    from app.reference.models import ServiceCategory

    return db.session.scalar(sa.select(ServiceCategory.id).order_by(ServiceCategory.sort_order))


@pytest.fixture
def people(app):
    """An institution in 长沙市, one in 株洲市, an expert, the city admins, a province admin; an open 评选年度."""
    with app.app_context():
        round = make_round("award", year=2026, title="2026年度优秀评选")
        return SimpleNamespace(
            round_id=round.id,
            institution=_who(make_institution(name="长沙示范服务中心", city_code="430100", county_code="430102")),
            other_institution=_who(make_institution(name="株洲创新服务公司", city_code="430200", county_code="430202")),
            expert=_who(expert_at("湘潭大学", city_code="430200", county_code="430202")),
            city=_who(make_city_admin("430100")),
            other_city=_who(make_city_admin("430200")),
            province=_who(make_province_admin()),
            category_id=category_id(),
        )


def make_nomination(kind, owner_id, round_id, status="city_approved", **fields):
    """A nomination in ``status`` with its content filled (no attachments needed past submission)."""
    from app.blueprints.auth.models import User
    from app.blueprints.awards.models import ExpertNomination, InstitutionNomination, ProductNomination

    owner = db.session.get(User, owner_id)
    model = {"institution": InstitutionNomination, "product": ProductNomination, "expert": ExpertNomination}[kind]
    defaults = {
        "institution": dict(
            staff_count=10, served_count=100, activity_count=20, revenue=500, honors="荣" * 300, intro="简介"
        ),
        "product": dict(
            product_name="产品",
            category_id=category_id(),
            charge_mode="免费",
            served_count=10,
            intro="介绍",
            points="一\n二",
        ),
        "expert": dict(
            name="专家",
            gender="女",
            age=45,
            employer="某大学",
            title="教授",
            category_id=category_id(),
            phone="13800009999",
            bio="简介",
            achievements="成果",
        ),
    }[kind]
    defaults.update(fields)
    institution = owner.institution
    filing = model(
        owner_id=owner.id,
        institution_id=institution.id if institution else None,
        round_id=round_id,
        city_code=institution.city_code if institution else owner.city_code,
        status=status,
        steps_done=["basic"],
        **defaults,
    )
    db.session.add(filing)
    db.session.commit()
    return filing.id


def expert_at(employer, reviewer=False, name=None, **fields):
    """An expert account working at ``employer`` (optionally a 评审专家)."""
    user = make_expert(**fields)
    user.expert.employer = employer
    user.expert.is_reviewer = reviewer
    if name:
        user.expert.name = user.display_name = name
    db.session.commit()
    return user
