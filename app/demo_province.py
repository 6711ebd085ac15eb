"""Demo data that shows a living province (`flask seed-demo`, after the demo accounts).

Three recognised institutions in each of the 14 市州 (42, with the demo institution 43), twelve
closed 调度期 of approved monthly reports before the open one (so 调度大数据 has a year of figures
and the demo institution a previous month to carry its standing figures over from), the open month
part filed (待审核, 已退回, drafts, 已通过), six applicants in this year's 申报批次 in every status, last
year's 优秀评选 published through the awards services, complaints in every state. Bulk rows are
written with Core inserts as app/scale.py does (fast on a first `make run`); the 调度大数据 rollups are
rebuilt at the end (``stats_rebuild``). Runs once: the first generated account marks it done.
"""

import hashlib
import random
import secrets
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from stdnum.cn import uscc as uscc_check
from werkzeug.security import generate_password_hash

from app.blueprints.applications.models import CoreApplication, Recognition
from app.blueprints.applications.services import china_midnight_utc
from app.blueprints.auth.models import Institution, User
from app.blueprints.awards.models import AwardResult, ExpertNomination, InstitutionNomination, ProductNomination
from app.blueprints.awards.publication import publicity_open, results_publish
from app.blueprints.complaints.models import Complaint, ComplaintEvent
from app.blueprints.reports.models import MonthlyReport, ReportActivity
from app.blueprints.reports.recognitions import default_term
from app.blueprints.reports.services import default_deadline, default_opening, period_title, previous_month
from app.blueprints.reports.stats import stats_rebuild
from app.extensions import db
from app.filings.models import Attachment, Filing, ReviewEvent, Round
from app.reference.models import InstitutionType, Platform, Region, ServiceCategory, UnitNature
from app.scale import _application_fields, _sync_sequences
from app.upload_modes import make_folder, write_new_file
from app.utils import local_today, to_local, utcnow

PER_CITY = 3
HISTORY_MONTHS = 12  # closed 调度期 with approved reports, before the open one
WORDS = ("星城", "湘江", "信诚", "德润", "博远", "恒通", "新锐", "科达", "华信", "联创", "智汇", "众创", "金桥", "远航")
# (name ending, 单位性质, USCC prefix): the prefix matches the nature, so no mismatch warning
KINDS = (
    ("中小企业服务有限公司", "企业", "91"),
    ("企业管理咨询有限公司", "企业", "91"),
    ("中小企业服务中心", "事业单位", "12"),
    ("科技服务有限公司", "企业", "91"),
    ("中小企业发展促进会", "社会团体", "51"),
    ("财税服务有限公司", "企业", "91"),
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
APPLICATION_STATUSES = ("draft", "submitted", "city_approved", "approved", "returned", "rejected")
COMPLAINTS = (  # (status, 投诉事项): every state of 企业投诉
    ("submitted", "签订代理记账合同后服务机构长期未按约定报税，导致企业被税务部门提醒，多次联系未果。"),
    ("submitted", "机构承诺的融资对接服务收取了前期费用，但三个月内未安排任何对接活动。"),
    ("accepted", "培训课程内容与宣传不符，要求退还部分培训费用。"),
    ("accepted", "知识产权代理申请材料多次出错，延误了专利申报时间。"),
    ("transferred", "服务机构对政策申报结果作出不实承诺，申报失败后拒绝沟通。"),
    ("processing", "检验检测报告出具时间远超合同约定期限，影响企业投标。"),
    ("processing", "数字化转型诊断服务仅提供模板化报告，未按约定到企业现场调研。"),
    ("closed", "服务收费与合同约定不符，多次沟通未果，请求协调处理。"),
    ("closed", "管理咨询项目中途更换顾问且未告知企业，服务质量明显下降。"),
    ("closed", "创业辅导活动取消后报名费用未退还。"),
    ("rejected", "与合作企业之间的货款纠纷，请求服务中心协调追讨。"),
)


def _months_before(year, month, count):
    """``count`` months ending with (year, month), oldest first."""
    out = []
    for _ in range(count):
        out.append((year, month))
        year, month = previous_month(year, month)
    return out[::-1]


def _uscc(prefix, city_code, serial):
    body = f"{prefix}{city_code}{serial:09d}"
    return body + uscc_check.calc_check_digit(body)


def _phone(rng):
    return f"13{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}"


def _next_id(table):
    return (db.session.scalar(sa.select(sa.func.max(table.c.id))) or 0) + 1


def seed_province(*, password):
    """Fill the demo province once (the demo accounts exist already). Commits."""
    if db.session.scalar(sa.select(User.id).where(User.username_key == "demo-jg-01@example.com")):
        return
    with current_app.test_request_context():  # the services' messages link to pages (url_for)
        _seed(password)


def _seed(password):
    rng = random.Random(20261201)
    today, now = local_today(), utcnow()
    admin = db.session.scalar(sa.select(User).where(User.username_key == "admin"))
    # once, shared by the generated accounts
    password_hash = generate_password_hash(password, method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"))
    cities = db.session.execute(
        sa.select(Region.code, Region.name).where(Region.level == "city").order_by(Region.sort_order)
    ).all()
    counties = {}
    for code, parent in db.session.execute(
        sa.select(Region.code, Region.parent_code).where(Region.level == "county").order_by(Region.sort_order)
    ):
        counties.setdefault(parent, []).append(code)
    natures = {u.name: u.id for u in db.session.scalars(sa.select(UnitNature))}
    types = db.session.scalars(sa.select(InstitutionType.id).order_by(InstitutionType.sort_order)).all()
    categories = db.session.execute(
        sa.select(ServiceCategory.id, ServiceCategory.name, ServiceCategory.sort_order)
        .where(ServiceCategory.active.is_(True))
        .order_by(ServiceCategory.sort_order, ServiceCategory.id)
    ).all()
    platforms = dict(db.session.execute(sa.select(Platform.city_code, Platform.id)).all())

    # ---- institutions: three per 市州, and six applicants in 长沙 -----------------------------------
    made = []  # (Institution, recognised)
    serial = 0
    for c_index, (city_code, city_name) in enumerate(cities):
        short = city_name.removesuffix("市").removesuffix("自治州").removesuffix("土家族苗族")
        for k in range(PER_CITY + (6 if city_code == "430100" else 0)):
            serial += 1
            ending, nature, prefix = KINDS[(c_index + k) % len(KINDS)]
            name = f"{short}{WORDS[(c_index * 3 + k) % len(WORDS)]}{ending}"
            phone = _phone(rng)
            user = User(
                username=f"demo-jg-{serial:02d}@example.com",
                username_key=f"demo-jg-{serial:02d}@example.com",
                password_hash=password_hash,
                role="institution",
                phone=phone,
                city_code=city_code,
                display_name=name,
                password_changed_at=now,
            )
            institution = Institution(
                user=user,
                name=name,
                uscc=_uscc(prefix, city_code, 70_000_000 + serial * 7919),
                unit_nature_id=natures[nature],
                platform_id=platforms.get(city_code) or platforms[None],
                institution_type_id=types[serial % len(types)],
                contact=rng.choice(SURNAMES) + rng.choice("明芳强伟军丽静磊洋"),
                phone=phone,
                email=f"service{serial}@example.com",
                address=f"{city_name}{rng.choice(('人民', '建设', '解放', '迎宾', '芙蓉'))}路{rng.randint(1, 399)}号",
                intro=f"{name}面向{city_name}中小微企业，提供政策解读、融资对接、人才培训和管理咨询等服务。",
                publish_contact=k % 2 == 0,
                city_code=city_code,
                county_code=(counties.get(city_code) or [None])[k % max(1, len(counties.get(city_code) or [None]))],
            )
            offered = rng.sample(categories, rng.randint(2, 5))
            institution.service_categories = list(
                db.session.scalars(sa.select(ServiceCategory).where(ServiceCategory.id.in_([c.id for c in offered])))
            )
            db.session.add(institution)
            made.append((institution, k < PER_CITY, [c.id for c in offered]))
    db.session.flush()
    recognised = [(i, offered) for i, ok, offered in made if ok]
    applicants = [i for i, ok, _ in made if not ok]

    # the demo institution files with the others
    demo = db.session.scalar(sa.select(Institution).join(User).where(User.username_key == "jigou@example.com"))
    demo_offered = [c.id for c in demo.service_categories] if demo else []

    # ---- recognitions: the current list's term (and the one before, for months before it) ----------
    start, end = default_term(today)
    (last_year, last_month) = previous_month(today.year, today.month)
    history = _months_before(*previous_month(last_year, last_month), HISTORY_MONTHS)
    first_year = history[0][0]
    # 应报 for a month counts only institutions recognised, and with an account, by its end: the
    # province's institutions have had both since before the first month of the history
    since = date(first_year, history[0][1], 1)
    opened = china_midnight_utc(since) - timedelta(days=30)
    for institution, _, _ in made:
        institution.created_at = institution.user.created_at = opened
    if demo is not None:
        demo.created_at = demo.user.created_at = min(demo.created_at, opened)
        for recognition in db.session.scalars(sa.select(Recognition).where(Recognition.institution_id == demo.id)):
            recognition.effective_on = min(recognition.effective_on, since)
    for institution, _ in recognised:
        db.session.add(
            Recognition(
                institution_id=institution.id,
                term_start=start,
                term_end=end,
                effective_on=since,
                created_by_id=admin.id,
            )
        )
        if first_year < start:
            db.session.add(
                Recognition(
                    institution_id=institution.id,
                    term_start=start - 4,
                    term_end=start - 1,
                    effective_on=since,
                    created_by_id=admin.id,
                )
            )
    db.session.flush()

    # ---- 调度期: twelve closed months before the open one ---------------------------------------------
    rounds = {}
    for year, month in history:
        found = db.session.scalar(
            sa.select(Round).where(Round.kind == "report", Round.year == year, Round.month == month)
        )
        if found is None:
            found = Round(
                kind="report",
                title=period_title(year, month),
                year=year,
                month=month,
                opens_on=default_opening(year, month),
                closes_on=default_deadline(year, month),
                created_by_id=admin.id,
            )
            db.session.add(found)
        rounds[(year, month)] = found
    open_round = db.session.scalar(
        sa.select(Round).where(Round.kind == "report", Round.year == last_year, Round.month == last_month)
    )
    db.session.flush()

    # ---- monthly reports ------------------------------------------------------------------------------
    filings, reports, activities, events = (
        Filing.__table__,
        MonthlyReport.__table__,
        ReportActivity.__table__,
        ReviewEvent.__table__,
    )
    next_filing = [_next_id(filings)]
    f_rows, r_rows, a_rows, e_rows = [], [], [], []
    city_admin = db.session.scalar(sa.select(User).where(User.username_key == "changsha")) or admin

    def filing_row(kind, institution, round_id, status, created, submitted, decided, key, steps):
        filing_id = next_filing[0]
        next_filing[0] += 1
        f_rows.append(
            {
                "id": filing_id,
                "kind": kind,
                "owner_id": institution.user_id,
                "institution_id": institution.id,
                "round_id": round_id,
                "city_code": institution.city_code,
                "status": status,
                "steps_done": steps,
                "unique_key": key,
                "version": 1,
                "created_at": created,
                "updated_at": decided or submitted or created,
                "submitted_at": submitted,
                "decided_at": decided,
            }
        )
        return filing_id

    def event(filing_id, actor_id, action, source, target, when, comment=None):
        e_rows.append(
            {
                "filing_id": filing_id,
                "actor_id": actor_id,
                "action": action,
                "from_status": source,
                "to_status": target,
                "comment": comment,
                "pinned": None,
                "created_at": when,
            }
        )

    reporters = [*recognised, *([(demo, demo_offered)] if demo else [])]
    for institution, offered in reporters:
        scale = rng.randint(4, 30)  # activities a month in each offered category, roughly
        revenue = rng.uniform(30, 600)  # 万元 a month
        area, assets = Decimal(rng.randint(12, 300) * 10), Decimal(rng.randint(50, 3000))
        site = rng.choice(("自有", "租用"))
        staff = rng.randint(8, 90)
        bachelor, intermediate = rng.randint(3, staff), rng.randint(1, staff // 2 + 1)
        for index, (year, month) in enumerate([*history, (last_year, last_month)]):
            is_open = index == len(history)
            if is_open:
                if institution is demo:
                    continue  # the demo account files this month itself (沿用上月 from the month before)
                roll = rng.random()
                status = (
                    None
                    if roll < 0.2
                    else "draft"
                    if roll < 0.3
                    else "submitted"
                    if roll < 0.6
                    else "returned"
                    if roll < 0.67
                    else "approved"
                )
                if status is None:
                    continue
                round_id = open_round.id
                deadline = open_round.closes_on
            else:
                status, round_id, deadline = "approved", rounds[(year, month)].id, rounds[(year, month)].closes_on
            opened = datetime.combine(default_opening(year, month), datetime.min.time()) + timedelta(
                days=rng.randint(0, 6), hours=rng.randint(0, 8)
            )
            created = min(opened, now - timedelta(hours=2))
            late = not is_open and rng.random() < 0.06
            submitted = None if status == "draft" else created + timedelta(days=1 if not late else 12)
            submitted = min(submitted, now - timedelta(hours=1)) if submitted else None
            approved_at = min(submitted + timedelta(days=rng.randint(1, 4)), now) if status == "approved" else None
            decided = approved_at or (min(submitted + timedelta(days=2), now) if status == "returned" else None)
            filing_id = filing_row(
                "monthly_report",
                institution,
                round_id,
                status,
                created,
                submitted,
                decided,
                f"report:{institution.id}:{round_id}",
                ["basic"],
            )
            totals = [0, 0, 0]
            for category in categories:
                if category.id in offered:
                    a = max(1, int(rng.gauss(scale, scale / 4)))
                    p = a * rng.randint(3, 12)
                    s = max(1, int(p * rng.uniform(0.2, 0.6)))
                else:
                    a = p = s = 0
                totals = [totals[0] + a, totals[1] + p, totals[2] + s]
                a_rows.append(
                    {
                        "report_id": filing_id,
                        "category_id": category.id,
                        "category_name": category.name,
                        "sort_order": category.sort_order,
                        "activities": a,
                        "participants": p,
                        "served": s,
                    }
                )
            rev = Decimal(str(round(revenue * rng.uniform(0.8, 1.2) * (1 + index / 40), 2)))
            expense = Decimal(str(round(float(rev) * rng.uniform(0.4, 0.75), 2)))
            r_rows.append(
                {
                    "id": filing_id,
                    "year": year,
                    "month": month,
                    "institution_type_id": institution.institution_type_id,
                    "floor_area": area,
                    "service_assets": assets,
                    "site_type": site,
                    "staff_count": staff,
                    "bachelor_count": bachelor,
                    "intermediate_count": intermediate,
                    "revenue": rev,
                    "service_expense": expense,
                    "profit": rev - expense,
                    "anomaly_note": None,
                    "activities_total": totals[0],
                    "participants_total": totals[1],
                    "served_total": totals[2],
                    "first_submitted_at": submitted,
                    "late": bool(submitted) and to_local(submitted).date() > deadline,
                    "counted": status == "approved",
                    "approved_at": approved_at,
                    "stats_city_code": institution.city_code,
                    "stats_institution_id": institution.id,
                }
            )
            if submitted:
                event(filing_id, institution.user_id, "submit", "draft", "submitted", submitted)
            if decided:
                approved = status == "approved"
                event(
                    filing_id,
                    city_admin.id if institution.city_code == "430100" else admin.id,
                    "approve" if approved else "return",
                    "submitted",
                    status,
                    decided,
                    None if approved else "请补充本月服务活动的说明和佐证材料。",
                )

    # ---- this year's 申报批次: an applicant in every status ----------------------------------------------
    application_round = db.session.scalar(
        sa.select(Round).where(Round.kind == "application", Round.year == today.year).order_by(Round.id)
    )
    upload_dir = Path(current_app.config["UPLOAD_DIR"])
    att_rows = []
    app_rows = []
    approved_applications = []
    for institution, status in zip(applicants, APPLICATION_STATUSES, strict=False):
        created = now - timedelta(days=rng.randint(20, 40))
        submitted = None if status == "draft" else created + timedelta(days=3)
        decided = (
            created + timedelta(days=12) if status in ("city_approved", "approved", "returned", "rejected") else None
        )
        filing_id = filing_row(
            "core_application",
            institution,
            application_round.id,
            status,
            created,
            submitted,
            decided,
            f"application:{institution.id}:{application_round.id}",
            ["basic"] if status == "draft" else ["basic", "operations"],
        )
        app_rows.append(_application_fields(rng, filing_id, today.year))
        if submitted:
            event(filing_id, institution.user_id, "submit", "draft", "submitted", submitted)
            body = f"{institution.name}\n核心服务机构申请报告（演示附件）。\n".encode() * 20
            stored = secrets.token_hex(16) + ".txt"
            make_folder(upload_dir)
            write_new_file(upload_dir / stored, body)  # as an upload is written (app/upload_modes.py)
            att_rows.append(
                {
                    "filing_id": filing_id,
                    "notice_id": None,
                    "original_name": "核心服务机构申请报告.txt",
                    "stored_name": stored,
                    "size": len(body),
                    "sha256": hashlib.sha256(body).hexdigest(),
                    "uploaded_by_id": institution.user_id,
                    "created_at": submitted,
                }
            )
        if status in ("city_approved", "approved", "returned", "rejected"):
            city_step = {"returned": ("return", "returned"), "rejected": ("reject", "rejected")}.get(
                status, ("city_approve", "city_approved")
            )
            event(filing_id, city_admin.id, city_step[0], "submitted", city_step[1], decided, "材料齐全，同意推荐。")
        if status == "approved":
            event(filing_id, admin.id, "province_approve", "city_approved", "approved", decided + timedelta(days=5))
            approved_applications.append((institution, filing_id))

    db.session.execute(sa.insert(filings), f_rows)
    db.session.execute(sa.insert(reports), r_rows)
    db.session.execute(sa.insert(activities), a_rows)
    db.session.execute(sa.insert(CoreApplication.__table__), app_rows)
    db.session.execute(sa.insert(events), e_rows)
    if att_rows:
        db.session.execute(sa.insert(Attachment.__table__), att_rows)
    _sync_sequences()
    for institution, filing_id in approved_applications:
        db.session.add(
            Recognition(
                institution_id=institution.id,
                application_id=filing_id,
                term_start=start,
                term_end=end,
                effective_on=today,  # approved in this year's round: 应报 from this month on
                created_by_id=admin.id,
            )
        )
    db.session.flush()

    _published_awards(rng=rng, admin=admin, recognised=[i for i, _ in recognised], categories=categories)
    _complaints(rng=rng, cities=cities, recognised=[i for i, _ in recognised])
    stats_rebuild()


def _published_awards(*, rng, admin, recognised, categories):
    """Last year's 优秀评选, decided and published through the awards services."""
    year = local_today().year - 1
    round = db.session.scalar(sa.select(Round).where(Round.kind == "award", Round.year == year))
    if round is None:
        round = Round(
            kind="award", title=f"{year}年度优秀评选", year=year, opens_on=date(year, 3, 1), closes_on=date(year, 6, 30)
        )
        db.session.add(round)
        db.session.flush()
    submitted = datetime(year, 6, 1, 2)
    picked = rng.sample(recognised, 9)
    nominations = []
    for n, institution in enumerate(picked[:4]):
        nominations.append(
            (
                InstitutionNomination(
                    staff_count=rng.randint(20, 80),
                    served_count=rng.randint(300, 1500),
                    activity_count=rng.randint(40, 200),
                    revenue=Decimal(rng.randint(800, 6000)),
                    honors="获评省级中小企业公共服务示范平台，连续三年调度考核优秀。" * 12,
                    intro=institution.intro,
                ),
                institution,
                n < 3,
            )
        )
    products = ("中小企业政策直通车", "融资对接服务包", "数字化转型诊断", "专精特新培育辅导")
    for n, institution in enumerate(picked[4:7]):
        category_id = rng.choice(categories).id
        nominations.append(
            (
                ProductNomination(
                    product_name=products[n],
                    category_id=category_id,
                    charge_mode=("免费", "低收费", "市场化收费")[n % 3],
                    served_count=rng.randint(100, 800),
                    intro=f"{products[n]}为中小企业提供一站式服务，线上线下结合，服务响应快、成效明显。",
                    points="服务流程标准化\n线上线下结合\n服务成效可量化",
                ),
                institution,
                n < 2,
            )
        )
    for n, (name, gender, title) in enumerate((("陈建华", "男", "研究员"), ("刘敏", "女", "高级经济师"))):
        institution = picked[7 + n]
        nominations.append(
            (
                ExpertNomination(
                    name=name,
                    gender=gender,
                    age=rng.randint(40, 58),
                    employer=institution.name,
                    title=title,
                    category_id=rng.choice(categories).id,
                    phone=f"1390731{rng.randint(1000, 9999)}",
                    bio=f"{name}长期从事中小企业服务工作，累计为 300 余家企业提供咨询服务。",
                    achievements="主持省级课题 3 项，获省科技进步奖二等奖。",
                ),
                institution,
                True,
            )
        )
    for nomination, institution, selected in nominations:
        nomination.owner_id, nomination.institution_id = institution.user_id, institution.id
        nomination.round_id, nomination.city_code = round.id, institution.city_code
        nomination.status, nomination.steps_done = "city_approved", ["basic"]
        nomination.submitted_at, nomination.decided_at = submitted, submitted + timedelta(days=10)
        db.session.add(nomination)
        db.session.flush()
        db.session.add(AwardResult(filing_id=nomination.id, selected=selected, decided_by_id=admin.id))
    db.session.flush()
    today = local_today()
    publicity_open(round=round, starts=today - timedelta(days=30), ends=today - timedelta(days=23), actor=admin)
    results_publish(round=round, actor=admin)


def _complaints(*, rng, cities, recognised):
    now = utcnow()
    for n, (status, content) in enumerate(COMPLAINTS):
        respondent = recognised[(n * 5) % len(recognised)]
        created = now - timedelta(days=3 + n * 4, hours=rng.randint(0, 8))
        closed = created + timedelta(days=rng.randint(3, 9)) if status == "closed" else None
        complaint = Complaint(
            ticket_no=f"TS{to_local(created):%Y%m%d}-{n + 1:04d}",
            status=status,
            company_name=f"{cities[n % len(cities)][1].removesuffix('市')}{rng.choice(('宏达', '恒兴', '瑞丰'))}科技有限公司",
            contact_name=rng.choice(SURNAMES) + "先生",
            phone=_phone(rng),
            respondent_name=respondent.name,
            respondent_city_code=respondent.city_code,
            respondent_address=respondent.address or "",
            respondent_contact=respondent.contact,
            respondent_phone=respondent.phone,
            content=content,
            created_at=created,
            registered_at=created,
            registered_on=to_local(created).date(),
            due_on=to_local(created).date() + timedelta(days=21),
            assigned_city_code=respondent.city_code if status in ("transferred", "processing", "closed") else None,
            reject_reason="属于企业间经济纠纷，不属于本平台受理范围，建议通过法律途径解决。"
            if status == "rejected"
            else None,
            result="经协调，服务机构已退还相关费用并书面致歉，企业表示认可。" if status == "closed" else None,
            closed_at=closed,
            handling_days=(closed - created).days if closed else None,
            closed_on_time=True if closed else None,
            rating=rng.choice(("satisfied", "basic")) if closed else None,
            rated_at=closed + timedelta(days=1) if closed else None,
        )
        complaint.events.append(
            ComplaintEvent(
                action="register", from_status=None, to_status="submitted", actor_name="投诉人", created_at=created
            )
        )
        db.session.add(complaint)
    db.session.commit()
