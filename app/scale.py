"""`flask seed-scale`: province-scale data for the benchmark (bulk inserts into a fresh database).

Everything is written with SQLAlchemy Core ``insert`` of lists of dicts (executemany), in a few
large transactions, so 2,000 institutions with 36 months of reports load in about a minute on
SQLite. The data is varied but deterministic (a seeded random generator): institutions in all 14
市州, recognitions, an application round with applications in every status, one 调度期 per month
with a report per institution (drafts, 待审核, 已退回 and 已通过 in the last months), the 服务类别
blocks of every report, attachments (small real files in UPLOAD_DIR), notices and complaints.
The 调度大数据 rollups are rebuilt at the end.
"""

import hashlib
import random
import secrets
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext
from werkzeug.security import generate_password_hash

from app.blueprints.applications.models import CoreApplication, Recognition
from app.blueprints.auth.models import Institution, User, institution_service_category
from app.blueprints.complaints.models import Complaint, ComplaintEvent
from app.blueprints.portal.models import Notice
from app.blueprints.reports.models import MonthlyReport, ReportActivity
from app.blueprints.reports.services import default_deadline, period_title
from app.blueprints.reports.stats import stats_rebuild
from app.extensions import db
from app.filings.models import Attachment, Filing, ReviewEvent, Round
from app.reference.models import InstitutionType, Platform, Region, ServiceCategory, UnitNature
from app.reference.services import load_reference
from app.upload_modes import make_folder, write_new_file
from app.utils import local_today, to_local, utcnow

PASSWORD = "Bench2026pass"
# Cheap on purpose: computed once and shared by every generated account (benchmark data only).
HASH_METHOD = "pbkdf2:sha256:1000"
CHUNK = 5000
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
WORDS = (
    "创新",
    "智汇",
    "远航",
    "众创",
    "金桥",
    "星城",
    "湘江",
    "信诚",
    "德润",
    "博远",
    "恒通",
    "新锐",
    "科达",
    "华信",
    "联创",
)
KINDS = (
    "企业管理咨询有限公司",
    "中小企业服务有限公司",
    "科技服务有限公司",
    "财税服务有限公司",
    "产业促进会",
    "创业服务中心",
)


class ScaleError(click.ClickException):
    pass


def _insert(table, rows):
    """Executemany in chunks (the caller commits)."""
    for start in range(0, len(rows), CHUNK):
        db.session.execute(sa.insert(table), rows[start : start + CHUNK])


def _next_id(table):
    return (db.session.scalar(sa.select(sa.func.max(table.c.id))) or 0) + 1


def _sync_sequences():
    """PostgreSQL: rows were inserted with explicit ids, so move each id sequence past them."""
    if db.engine.dialect.name != "postgresql":
        return
    for table in db.metadata.sorted_tables:
        column = table.c.get("id")
        if column is None or not column.primary_key or not isinstance(column.type, sa.Integer) or column.foreign_keys:
            continue
        db.session.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
            )
        )


def _months(count, today):
    """The last ``count`` months, oldest first, ending with ``today``'s month."""
    year, month = today.year, today.month
    out = []
    for _ in range(count):
        out.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def _uscc(n, prefix="91"):
    return f"{prefix}43{n:014d}"


def _phone(rng):
    return f"13{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}"


def seed_scale(*, institutions=2000, months=36, echo=print):
    """Fill an empty database; returns a dict of counts. Refuses when institutions exist already."""
    if db.session.scalar(sa.select(sa.func.count()).select_from(Institution)):
        raise ScaleError("seed-scale 只能用于空数据库：已有服务机构数据。")
    load_reference()
    rng = random.Random(20261126)
    today = local_today()
    now = utcnow()
    password_hash = generate_password_hash(PASSWORD, method=HASH_METHOD)
    cities = db.session.execute(
        sa.select(Region.code, Region.name).where(Region.level == "city").order_by(Region.sort_order)
    ).all()
    counties = {}
    for code, parent in db.session.execute(sa.select(Region.code, Region.parent_code).where(Region.level == "county")):
        counties.setdefault(parent, []).append(code)
    units = db.session.scalars(sa.select(UnitNature.id).order_by(UnitNature.sort_order)).all()
    types = db.session.scalars(sa.select(InstitutionType.id).order_by(InstitutionType.sort_order)).all()
    categories = db.session.execute(
        sa.select(ServiceCategory.id, ServiceCategory.name, ServiceCategory.sort_order)
        .where(ServiceCategory.active.is_(True))
        .order_by(ServiceCategory.sort_order, ServiceCategory.id)
    ).all()
    platforms = dict(db.session.execute(sa.select(Platform.city_code, Platform.id)).all())
    users, insts = User.__table__, Institution.__table__

    # ---- accounts ------------------------------------------------------------------------------
    def user_row(username, role, city_code, display_name, phone=None):
        return {
            "username": username,
            "username_key": username.lower(),
            "password_hash": password_hash,
            "role": role,
            "phone": phone,
            "city_code": city_code,
            "display_name": display_name,
            "status": "active",
            "must_change_password": False,
            "failed_logins": 0,
            "created_at": now,
            "password_changed_at": now,
        }

    first_user = _next_id(users)
    admin_rows = [user_row("bench-admin", "province_admin", None, "省中心管理员")]
    admin_rows += [user_row(f"bench-city-{code}", "city_admin", code, f"{name}工信局") for code, name in cities]
    inst_users, inst_rows, cat_rows = [], [], []
    first_inst = _next_id(insts)
    # the institutions had their accounts before the first 调度期 and the recognition that makes
    # them 应报 (a month counts only institutions with an account and a recognition by its end)
    first_year, first_month = _months(months, today)[0]
    opened = datetime(min(first_year, today.year - 1), 5, 1, 2)
    for n in range(institutions):
        city_code, city_name = cities[n % len(cities)]
        user_id = first_user + len(admin_rows) + n
        inst_id = first_inst + n
        phone = _phone(rng)
        inst_users.append(user_row(f"bench-inst-{n + 1:05d}", "institution", city_code, "", phone))
        inst_users[-1]["created_at"] = opened
        name = f"{city_name[:-1] if city_name.endswith('市') else city_name}{rng.choice(WORDS)}{rng.choice(KINDS)}{n + 1}号"
        inst_users[-1]["display_name"] = name
        inst_rows.append(
            {
                "id": inst_id,
                "user_id": user_id,
                "service_kind": "社会性服务类 (C)",
                "name": name,
                "uscc": _uscc(n),
                "unit_nature_id": rng.choice(units),
                "platform_id": platforms.get(city_code) or platforms[None],
                "institution_type_id": rng.choice(types),
                "contact": rng.choice(SURNAMES) + rng.choice("明芳强伟军丽静磊洋"),
                "phone": phone,
                "email": f"inst{n + 1}@example.com",
                "address": f"{city_name}某区某路{rng.randint(1, 999)}号",
                "intro": f"{name}是一家面向中小微企业的综合性服务机构，提供政策咨询、融资对接、人才培训等服务。",
                "publish_contact": rng.random() < 0.5,
                "created_at": opened,
                "city_code": city_code,
                "county_code": rng.choice(counties.get(city_code) or [None]),
            }
        )
        for category in rng.sample(categories, rng.randint(2, 5)):
            cat_rows.append({"institution_id": inst_id, "category_id": category.id})
    # Explicit ids: the rows that point at these accounts are built before they are inserted.
    for offset, row in enumerate(admin_rows + inst_users):
        row["id"] = first_user + offset
    _insert(users, admin_rows + inst_users)
    _insert(insts, inst_rows)
    _insert(institution_service_category, cat_rows)
    db.session.commit()
    echo(f"accounts: {len(admin_rows)} admins, {institutions} institutions")
    inst_ids = [row["id"] for row in inst_rows]
    inst_city = {row["id"]: row["city_code"] for row in inst_rows}
    inst_type = {row["id"]: row["institution_type_id"] for row in inst_rows}
    inst_owner = {row["id"]: row["user_id"] for row in inst_rows}
    admin_id = first_user

    # ---- rounds --------------------------------------------------------------------------------
    rounds = Round.__table__
    period_months = _months(months, today)
    round_rows = []
    first_round = _next_id(rounds)
    for index, (year, month) in enumerate(period_months):
        opens = date(year, month, 1)
        round_rows.append(
            {
                "id": first_round + index,
                "kind": "report",
                "title": period_title(year, month),
                "year": year,
                "month": month,
                "opens_on": opens,
                "closes_on": default_deadline(year, month),
                "created_by_id": admin_id,
                "created_at": now,
            }
        )
    old_year = min(period_months[0][0], today.year - 1)  # the first recognitions come from an earlier round
    app_rounds = {}
    for year in sorted({old_year, today.year}):
        app_rounds[year] = first_round + len(round_rows)
        round_rows.append(
            {
                "id": app_rounds[year],
                "kind": "application",
                "title": f"{year}年核心服务机构申报",
                "year": year,
                "month": None,
                "opens_on": date(year, 1, 1),
                "closes_on": date(year, 12, 31),
                "created_by_id": admin_id,
                "created_at": now,
            }
        )
    _insert(rounds, round_rows)
    db.session.commit()

    filings, events, attachments = Filing.__table__, ReviewEvent.__table__, Attachment.__table__
    upload_dir = Path(current_app.config["UPLOAD_DIR"])
    make_folder(upload_dir)
    next_filing = [_next_id(filings)]
    att_rows = []

    def attachment(filing_id, name, owner_id):
        body = f"{name}\n基准测试附件（seed-scale）。\n".encode() * 8
        stored = secrets.token_hex(16) + ".txt"
        write_new_file(upload_dir / stored, body)  # as an upload is written (app/upload_modes.py)
        att_rows.append(
            {
                "filing_id": filing_id,
                "notice_id": None,
                "original_name": name,
                "stored_name": stored,
                "size": len(body),
                "sha256": hashlib.sha256(body).hexdigest(),
                "uploaded_by_id": owner_id,
                "created_at": now,
            }
        )

    def filing_row(kind, inst_id, round_id, status, created, submitted=None, decided=None, key=None, steps=None):
        filing_id = next_filing[0]
        next_filing[0] += 1
        return {
            "id": filing_id,
            "kind": kind,
            "owner_id": inst_owner[inst_id],
            "institution_id": inst_id,
            "round_id": round_id,
            "city_code": inst_city[inst_id],
            "status": status,
            "steps_done": steps or [],
            "unique_key": key,
            "created_at": created,
            "updated_at": decided or submitted or created,
            "submitted_at": submitted,
            "decided_at": decided,
        }

    def event(filing_id, actor_id, action, source, target, when, comment=None):
        return {
            "filing_id": filing_id,
            "actor_id": actor_id,
            "action": action,
            "from_status": source,
            "to_status": target,
            "comment": comment,
            "pinned": None,
            "created_at": when,
        }

    # ---- applications and recognitions ---------------------------------------------------------
    apps = CoreApplication.__table__
    f_rows, a_rows, e_rows, rec_rows = [], [], [], []
    old_round = app_rounds[old_year]
    old_time = datetime(old_year, 6, 1, 2)
    for inst_id in inst_ids:  # every institution recognised from the first round (term of 3 years)
        f = filing_row(
            "core_application",
            inst_id,
            old_round,
            "approved",
            old_time,
            old_time,
            old_time + timedelta(days=60),
            f"application:{inst_id}:{old_round}",
            ["basic", "operations"],
        )
        f_rows.append(f)
        a_rows.append(_application_fields(rng, f["id"], old_year))
        e_rows.append(event(f["id"], inst_owner[inst_id], "submit", "draft", "submitted", old_time))
        e_rows.append(event(f["id"], admin_id, "approve", "city_approved", "approved", old_time + timedelta(days=60)))
        rec_rows.append(
            {
                "institution_id": inst_id,
                "application_id": f["id"],
                "term_start": old_year,
                "term_end": old_year + 3,
                "revoked_at": None,
                "effective_on": min((old_time + timedelta(days=60)).date(), date(first_year, first_month, 1)),
                "created_by_id": admin_id,
                "created_at": old_time + timedelta(days=60),
            }
        )
    statuses = ("draft", "submitted", "city_approved", "approved", "returned", "rejected")
    new_round = app_rounds[today.year]
    current_apps = inst_ids[: max(len(statuses), institutions // 4)]
    for index, inst_id in enumerate(current_apps):
        status = statuses[index % len(statuses)] if index else "draft"  # the first institution keeps a draft
        created = now - timedelta(days=rng.randint(5, 120))
        submitted = None if status == "draft" else created + timedelta(days=2)
        decided = (
            created + timedelta(days=20) if status in ("approved", "rejected", "returned", "city_approved") else None
        )
        f = filing_row(
            "core_application",
            inst_id,
            new_round,
            status,
            created,
            submitted,
            decided,
            f"application:{inst_id}:{new_round}",
            ["basic"] if status == "draft" else ["basic", "operations"],
        )
        f_rows.append(f)
        a_rows.append(_application_fields(rng, f["id"], today.year))
        if submitted:
            e_rows.append(event(f["id"], inst_owner[inst_id], "submit", "draft", "submitted", submitted))
        if decided:
            action = {
                "approved": "province_approve",
                "rejected": "province_reject",
                "returned": "city_return",
                "city_approved": "city_approve",
            }[status]
            e_rows.append(event(f["id"], admin_id, action, "submitted", status, decided, "基准测试审核意见"))
        for label in ("营业执照.txt", "场地证明.txt"):
            attachment(f["id"], label, inst_owner[inst_id])
    _insert(filings, f_rows)
    _insert(apps, a_rows)
    _insert(events, e_rows)
    _insert(Recognition.__table__, rec_rows)
    db.session.commit()
    echo(f"applications: {len(f_rows)} ({len(current_apps)} in the {today.year} round, every status)")

    # ---- monthly reports -----------------------------------------------------------------------
    reports, activities = MonthlyReport.__table__, ReportActivity.__table__
    base = {inst_id: (rng.randint(3, 40), rng.uniform(20, 800)) for inst_id in inst_ids}  # activity scale, revenue 万元
    report_count = 0
    last = len(round_rows) - len(app_rounds) - 1
    for index, (year, month) in enumerate(period_months):
        round_id = first_round + index
        closes = round_rows[index]["closes_on"]
        f_rows, r_rows, act_rows, e_rows = [], [], [], []
        for inst_id in inst_ids:
            roll = rng.random()
            if index == last:  # the open month: many drafts and reports waiting for review
                status = (
                    "draft" if roll < 0.45 else "submitted" if roll < 0.8 else "returned" if roll < 0.85 else "approved"
                )
            elif index == last - 1:
                status = "submitted" if roll < 0.25 else "returned" if roll < 0.3 else "approved"
            else:
                status = "approved"
            if inst_id == inst_ids[0] and index == last:
                status = "draft"  # the benchmark's institution uploads into this month's draft
            created = datetime(year, month, 1, 2) + timedelta(days=rng.randint(0, 20), hours=rng.randint(0, 8))
            late = status != "draft" and rng.random() < 0.08
            submitted = None if status == "draft" else created + timedelta(days=1 if not late else 25)
            approved_at = submitted + timedelta(days=rng.randint(1, 6)) if status == "approved" else None
            decided = approved_at or (submitted + timedelta(days=3) if status == "returned" else None)
            f = filing_row(
                "monthly_report",
                inst_id,
                round_id,
                status,
                created,
                submitted,
                decided,
                f"report:{inst_id}:{round_id}",
                ["basic"],
            )
            f_rows.append(f)
            scale, revenue = base[inst_id]
            totals = [0, 0, 0]
            for category in categories:
                a = max(0, int(rng.gauss(scale / 6, scale / 10)))
                p = a * rng.randint(1, 6)
                s = max(0, int(p * rng.uniform(0.3, 0.9)))
                totals = [totals[0] + a, totals[1] + p, totals[2] + s]
                act_rows.append(
                    {
                        "report_id": f["id"],
                        "category_id": category.id,
                        "category_name": category.name,
                        "sort_order": category.sort_order,
                        "activities": a,
                        "participants": p,
                        "served": s,
                    }
                )
            rev = Decimal(str(round(revenue * rng.uniform(0.7, 1.3), 2)))
            expense = Decimal(str(round(float(rev) * rng.uniform(0.3, 0.8), 2)))
            r_rows.append(
                {
                    "id": f["id"],
                    "year": year,
                    "month": month,
                    "institution_type_id": inst_type[inst_id],
                    "floor_area": Decimal(rng.randint(100, 3000)),
                    "service_assets": Decimal(rng.randint(50, 5000)),
                    "site_type": rng.choice(("自有", "租用")),
                    "staff_count": rng.randint(5, 120),
                    "bachelor_count": rng.randint(2, 60),
                    "intermediate_count": rng.randint(0, 30),
                    "revenue": rev,
                    "service_expense": expense,
                    "profit": rev - expense,
                    "anomaly_note": None,
                    "activities_total": totals[0],
                    "participants_total": totals[1],
                    "served_total": totals[2],
                    "first_submitted_at": submitted,
                    "late": late and submitted is not None and to_local(submitted).date() > closes,
                    "counted": status == "approved",
                    "approved_at": approved_at,
                    "stats_city_code": inst_city[inst_id],
                    "stats_institution_id": inst_id,
                }
            )
            if submitted:
                e_rows.append(event(f["id"], inst_owner[inst_id], "submit", "draft", "submitted", submitted))
            if decided:
                e_rows.append(
                    event(
                        f["id"],
                        admin_id,
                        "approve" if status == "approved" else "return",
                        "submitted",
                        status,
                        decided,
                        None if status == "approved" else "请补充服务活动说明。",
                    )
                )
            if index >= last - 1 and rng.random() < 0.5:
                attachment(f["id"], f"{year}年{month}月服务活动照片.txt", inst_owner[inst_id])
        _insert(filings, f_rows)
        _insert(reports, r_rows)
        _insert(activities, act_rows)
        _insert(events, e_rows)
        db.session.commit()
        report_count += len(r_rows)
    echo(
        f"monthly reports: {report_count} in {len(period_months)} 调度期, {report_count * len(categories)} category blocks"
    )

    # ---- notices -------------------------------------------------------------------------------
    notice_rows = []
    first_notice = _next_id(Notice.__table__)
    for n in range(400):
        published = now - timedelta(days=n * 3 + rng.randint(0, 2), hours=rng.randint(0, 20))
        category = "通知公告" if n % 3 else "工作动态"
        notice_rows.append(
            {
                "id": first_notice + n,
                "title": f"关于做好{published.year}年中小微企业核心服务机构相关工作的{category}（第{400 - n}号）",
                "category": category,
                "body": ("各市州工业和信息化局、各有关单位：\n\n" + "现将有关事项通知如下。" * 40),
                "pinned": n == 0,
                "is_published": n != 5,
                "published_at": published,
                "author_id": admin_id,
                "created_at": published,
                "updated_at": published,
            }
        )
    _insert(Notice.__table__, notice_rows)
    for n in range(0, 400, 10):
        attachment(None, f"通知附件{n}.txt", admin_id)
        att_rows[-1]["filing_id"], att_rows[-1]["notice_id"] = None, first_notice + n
    _insert(attachments, att_rows)
    db.session.commit()
    echo(f"notices: {len(notice_rows)}; attachments: {len(att_rows)} (files in {upload_dir})")

    # ---- complaints ----------------------------------------------------------------------------
    complaint_rows, complaint_events = [], []
    first_complaint = _next_id(Complaint.__table__)
    c_statuses = ("submitted", "accepted", "transferred", "processing", "closed", "closed", "closed", "rejected")
    for n in range(1500):
        status = c_statuses[n % len(c_statuses)]
        created = now - timedelta(days=rng.randint(0, 700), hours=rng.randint(0, 23))
        city_code = cities[n % len(cities)][0]
        closed = created + timedelta(days=rng.randint(3, 20)) if status == "closed" else None
        complaint_id = first_complaint + n
        complaint_rows.append(
            {
                "id": complaint_id,
                "ticket_no": f"TS{created:%Y%m%d}-{n + 1:04d}",
                "status": status,
                "company_name": f"某某科技有限公司{n + 1}",
                "contact_name": rng.choice(SURNAMES) + "先生",
                "phone": _phone(rng),
                "respondent_name": f"某某服务机构{n % 300 + 1}",
                "respondent_city_code": city_code,
                "respondent_address": "某区某路1号",
                "respondent_contact": rng.choice(SURNAMES) + "经理",
                "respondent_phone": "0731-88888888",
                "content": "服务收费与合同约定不符，多次沟通未果，请求协调处理。" * 3,
                "created_at": created,
                "registered_at": created,
                "registered_on": to_local(created).date(),
                "due_on": to_local(created).date() + timedelta(days=21),
                "assigned_city_code": city_code if status in ("transferred", "processing", "closed") else None,
                "reject_reason": "不属于受理范围。" if status == "rejected" else None,
                "result": "已协调双方达成一致。" if status == "closed" else None,
                "closed_at": closed,
                "handling_days": (closed - created).days if closed else None,
                "closed_on_time": bool(closed) and rng.random() < 0.9 if closed else None,
                "rating": rng.choice(("satisfied", "basic", "dissatisfied", None)) if closed else None,
                "rated_at": closed + timedelta(days=1) if closed else None,
                "reopen_count": 0,
            }
        )
        complaint_events.append(
            {
                "complaint_id": complaint_id,
                "action": "register",
                "from_status": None,
                "to_status": "submitted",
                "note": "",
                "public_note": False,
                "due_on": None,
                "actor_id": None,
                "actor_name": "投诉人",
                "created_at": created,
            }
        )
    _insert(Complaint.__table__, complaint_rows)
    _insert(ComplaintEvent.__table__, complaint_events)
    _sync_sequences()
    db.session.commit()
    echo(f"complaints: {len(complaint_rows)}")

    stats_rebuild()
    echo("调度大数据汇总已重新计算 (reports rebuild-stats)")
    if db.session.get_bind().dialect.name == "postgresql":
        # What autovacuum does on a live server, done now for the bulk-loaded tables (as
        # PostgreSQL's manual advises after a bulk load): planner statistics (without them it
        # guessed 9 institutions instead of 2,000 and planned 报送情况's count as a nested loop,
        # 80 ms instead of 8) and the visibility map (without it no index-only scan: 调度大数据's
        # count of reporting institutions read the table, 18 ms instead of 6).
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
        echo("PostgreSQL 统计信息与可见性映射已更新 (VACUUM ANALYZE)")
    return {
        "institutions": institutions,
        "reports": report_count,
        "rounds": len(round_rows),
        "notices": len(notice_rows),
        "complaints": len(complaint_rows),
        "attachments": len(att_rows),
        "password": PASSWORD,
    }


def _application_fields(rng, filing_id, year):
    return {
        "id": filing_id,
        "registered_capital": Decimal(rng.randint(50, 5000)),
        "total_assets": Decimal(rng.randint(100, 20000)),
        "facilities_value": Decimal(rng.randint(10, 2000)),
        "equipment_count": rng.randint(5, 200),
        "floor_area": Decimal(rng.randint(200, 5000)),
        "equipment_ratio": Decimal(rng.randint(10, 90)),
        "own_area_ratio": Decimal(rng.randint(0, 100)),
        "site_nature": rng.choice(("自有", "租用")),
        "intro": "面向中小微企业提供综合服务。",
        "served_prev2": rng.randint(50, 900),
        "served_prev1": rng.randint(50, 900),
        "activities_prev2": rng.randint(5, 90),
        "activities_prev1": rng.randint(5, 90),
    }


@click.command("seed-scale")
@with_appcontext
@click.option("--institutions", default=2000, show_default=True, type=click.IntRange(14, 100_000))
@click.option("--months", default=36, show_default=True, type=click.IntRange(2, 120))
def seed_scale_command(institutions, months):
    """Fill a FRESH database with province-scale benchmark data; refuses production settings."""
    if current_app.config["APP_ENV"] == "production":
        raise click.ClickException("seed-scale refuses to run with production settings (APP_ENV=production).")
    started = time.perf_counter()
    counts = seed_scale(institutions=institutions, months=months, echo=click.echo)
    click.echo(f"seed-scale done in {time.perf_counter() - started:.0f} s: {counts}")
