"""Demo data for a new installation: one account per user type, a dozen notices and a living province
(app/demo_province.py: institutions in every 市州, a year of approved reports, applications, awards, complaints)."""

from datetime import date, datetime

import sqlalchemy as sa

from app.blueprints.admin.services import admin_create
from app.blueprints.auth import services as accounts
from app.blueprints.auth.models import Institution, User
from app.blueprints.portal.models import Notice
from app.blueprints.reports.services import demo_setup
from app.demo_province import seed_province
from app.extensions import db
from app.filings.models import Round
from app.reference.models import InstitutionType, Platform, ServiceCategory, UnitNature
from app.reference.services import load_reference
from app.utils import local_today

PASSWORD = "Demo2026pass"

DEMO_NOTICES = [
    ("关于公布湖南省中小微企业核心服务机构（2023-2026）名单的通知", "通知公告", datetime(2023, 11, 21, 2), True),
    ("关于2023年度湖南省中小微企业核心服务机构拟认定单位的公示", "通知公告", datetime(2023, 11, 13, 2), False),
    ("关于调度2023年度湖南省中小微企业核心服务机构运营情况的通知", "通知公告", datetime(2024, 5, 16, 2), False),
    ("关于组织开展2024年湖南省中小微企业核心服务机构认定工作的通知", "通知公告", datetime(2024, 6, 26, 2), False),
    ("2023年全省中小微企业核心服务机构运营情况通报", "通知公告", datetime(2024, 7, 8, 2), False),
    ("全省中小企业数字化转型城市试点工作推进会召开", "工作动态", datetime(2024, 8, 14, 2), False),
    ("关于征集全省中小企业融资促进典型案例的通知", "通知公告", datetime(2024, 8, 15, 2), False),
    ("关于开展2024年度优秀服务机构、优秀服务产品、优秀服务专家评选的通知", "通知公告", datetime(2024, 8, 20, 2), False),
    ("竞跑数字化转型，湖南中小企业服务体系持续发力", "工作动态", datetime(2024, 8, 14, 6), False),
    ("湖南专精特新中小企业“一月一链”投融资路演活动举行", "工作动态", datetime(2024, 7, 29, 2), False),
    ("“智赋万企”行动稳步推进 湖南核心服务机构服务企业超万家次", "工作动态", datetime(2024, 7, 29, 6), False),
    ("2024年上半年全省中小微企业核心服务机构运营情况通报", "通知公告", datetime(2024, 7, 25, 2), False),
]

NOTICE_BODY = (
    "各市州工业和信息化局、各有关单位：\n\n"
    "为做好全省中小微企业核心服务机构管理工作，现将有关事项通知如下。请各单位登录湖南省中小微企业核心服务机构调度管理系统，"
    "按照操作手册的要求完成相关填报工作。\n\n"
    "联系电话：技术电话 0731-89706287，咨询电话 0731-89706283。\n\n"
    "湖南省中小企业服务中心"
)


def _exists(username):
    return db.session.scalar(sa.select(User.id).where(User.username_key == username.lower())) is not None


def seed_demo_data():
    """Create what is missing and return (role, username, password) for every demo account."""
    load_reference()
    unit = db.session.scalar(sa.select(UnitNature).where(UnitNature.name == "企业"))
    platform = db.session.scalar(sa.select(Platform).where(Platform.city_code == "430100"))
    category = db.session.scalar(sa.select(ServiceCategory).where(ServiceCategory.name == "融资服务"))
    accounts_made = [
        (
            "province_admin",
            "admin",
            lambda: admin_create(
                username="admin", password=PASSWORD, role="province_admin", display_name="省中心管理员"
            ),
        ),
        (
            "city_admin",
            "changsha",
            lambda: admin_create(
                username="changsha",
                password=PASSWORD,
                role="city_admin",
                city_code="430100",
                display_name="长沙市工信局",
            ),
        ),
        (
            "institution",
            "jigou@example.com",
            lambda: accounts.institution_register(
                username="jigou@example.com",
                password=PASSWORD,
                unit_nature_id=unit.id,
                platform_id=platform.id,
                name="湖南示范中小企业服务有限公司",
                uscc="91430100707211638W",
                contact="李明",
                phone="13800000001",
                city_code="430100",
                county_code="430104",
            ),
        ),
        (
            "expert",
            "zhuanjia@example.com",
            lambda: accounts.expert_register(
                username="zhuanjia@example.com",
                password=PASSWORD,
                name="王芳",
                gender="女",
                birth_month="1978-05",
                employer="湖南大学",
                title="教授",
                category_id=category.id,
                phone="13800000002",
                city_code="430100",
                county_code="430104",
                bio="长期从事中小企业融资与管理研究。",
            ),
        ),
        (
            "enterprise",
            "qiye@example.com",
            lambda: accounts.enterprise_register(
                username="qiye@example.com",
                password=PASSWORD,
                name="长沙示例科技有限公司",
                uscc="91430100MA4L16JX7C",
                contact="张强",
                phone="13800000003",
                city_code="430100",
                county_code="430102",
            ),
        ),
    ]
    for _role, username, make in accounts_made:
        if not _exists(username):
            make()
    _complete_demo_institution()
    _open_demo_rounds()

    demo_setup()  # this month's 调度期; the demo institution recognised 2023-2026
    if not db.session.scalar(sa.select(sa.func.count(Notice.id))):
        for title, category_name, when, pinned in DEMO_NOTICES:
            db.session.add(
                Notice(title=title, category=category_name, body=NOTICE_BODY, published_at=when, pinned=pinned)
            )
        db.session.commit()
    seed_province(password=PASSWORD)
    return [(role, username, PASSWORD) for role, username, _ in accounts_made]


def _open_demo_rounds():
    """A 申报批次 and a 评选年度 for the current year, so a new user can try 机构申报 and 优秀评选 at once."""
    year = local_today().year
    if not db.session.scalar(sa.select(Round.id).where(Round.kind == "application", Round.year == year)):
        db.session.add(
            Round(
                kind="application",
                title=f"{year}年核心服务机构申报",
                year=year,
                opens_on=date(year, 1, 1),
                closes_on=date(year, 12, 31),
            )
        )
        db.session.commit()
    # 评选年度, so 优秀评选 can be tried at once too
    if not db.session.scalar(sa.select(Round.id).where(Round.kind == "award", Round.year == year)):
        db.session.add(
            Round(
                kind="award",
                title=f"{year}年度优秀评选",
                year=year,
                opens_on=date(year, 1, 1),
                closes_on=date(year, 12, 31),
            )
        )
        db.session.commit()


def _complete_demo_institution():
    """Give the demo institution what a real one fills in 基本资料, so the directory reads well."""
    institution = db.session.scalar(sa.select(Institution).join(User).where(User.username_key == "jigou@example.com"))
    if institution is None or institution.institution_type_id:
        return
    institution.institution_type = db.session.scalar(
        sa.select(InstitutionType).where(InstitutionType.name == "综合服务机构")
    )
    institution.service_categories = list(
        db.session.scalars(
            sa.select(ServiceCategory).where(ServiceCategory.name.in_(("融资服务", "管理咨询服务", "政策服务")))
        )
    )
    institution.address = "长沙市岳麓区麓谷大道 100 号"
    institution.intro = "本公司为长沙及周边中小企业提供政策解读、融资对接和管理咨询服务，年服务企业 300 余家次。"
    institution.publish_contact = True
    db.session.commit()
