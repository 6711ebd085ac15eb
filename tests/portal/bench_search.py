"""Benchmark of 搜索 (not a test: pytest does not collect it). It fills a scratch database with
thousands of notices and recognised institutions and times ``search_public`` for typical terms.

    .venv/bin/python -m tests.portal.bench_search                      # SQLite in a temp folder
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python -m tests.portal.bench_search --trgm            # PostgreSQL, with pg_trgm indexes

The database named by BENCH_DATABASE_URL is emptied first. Results are in docs/search.md.
"""

import argparse
import os
import random
import statistics
import tempfile
import time

TERMS = ["融资", "融资担保", "数字化转型", "长沙", "知识产权服务", "ISO", "不存在的词语"]
# Filler of ordinary notice words; a few rows carry a topic, as real notices and institutions do.
FILLER = [
    "各市州",
    "工业和信息化局",
    "中小企业",
    "有关单位",
    "为进一步",
    "做好",
    "工作",
    "现将",
    "有关事项",
    "通知如下",
    "请",
    "按照",
    "要求",
    "认真组织",
    "及时报送",
    "联系人",
    "电话",
    "附件",
    "发展",
    "推进",
    "落实",
    "情况",
]
TOPICS = ["融资担保", "数字化转型", "知识产权服务", "检验检测", "管理咨询", "专精特新", "ISO 9001 认证", "长沙市"]


def text(rng, words, topic_rate=0.03):
    parts = [rng.choice(FILLER) for _ in range(words)]
    if rng.random() < topic_rate:
        parts.insert(rng.randrange(len(parts) + 1), rng.choice(TOPICS))
    return "，".join(parts) + "。"


TRGM_DDL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS ix_notice_title_trgm ON notice USING gin (title gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS ix_notice_body_trgm ON notice USING gin (body gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS ix_institution_name_trgm ON institution USING gin (name gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS ix_institution_intro_trgm ON institution USING gin (intro gin_trgm_ops)",
]


def fill(db, notices, institutions):
    from datetime import timedelta

    import sqlalchemy as sa
    from stdnum.cn import uscc
    from werkzeug.security import generate_password_hash

    from app.blueprints.applications.models import Recognition
    from app.blueprints.auth.models import Institution, User
    from app.blueprints.portal.models import Notice
    from app.reference.models import Platform, Region, UnitNature
    from app.utils import local_today, utcnow

    rng = random.Random(7)
    now = utcnow()
    db.session.execute(
        sa.insert(Notice),
        [
            {
                "title": text(rng, 6, 0.02).rstrip("。"),
                "category": rng.choice(["通知公告", "工作动态"]),
                "body": text(rng, 250),
                "pinned": False,
                "is_published": True,
                "published_at": now - timedelta(hours=n),
                "created_at": now,
                "updated_at": now,
            }
            for n in range(notices)
        ],
    )
    unit = db.session.scalar(sa.select(UnitNature.id))
    platform = db.session.scalar(sa.select(Platform.id))
    cities = db.session.scalars(sa.select(Region.code).where(Region.level == "city")).all()
    password = generate_password_hash("x", method="pbkdf2:sha256:1")
    users = [
        {
            "username": f"bench{n}",
            "username_key": f"bench{n}",
            "password_hash": password,
            "role": "institution",
            "display_name": "",
            "status": "active",
            "must_change_password": False,
            "failed_logins": 0,
            "created_at": now,
        }
        for n in range(institutions)
    ]
    db.session.execute(sa.insert(User), users)
    ids = dict(db.session.execute(sa.select(User.username, User.id).where(User.username.like("bench%"))).all())
    rows = []
    for n in range(institutions):
        body = f"91430100MC{n:07d}"[:17]
        rows.append(
            {
                "user_id": ids[f"bench{n}"],
                "name": text(rng, 2, 0.1).rstrip("。") + "有限公司",
                "uscc": body + uscc.calc_check_digit(body),
                "unit_nature_id": unit,
                "platform_id": platform,
                "contact": "张",
                "phone": "13800000000",
                "city_code": rng.choice(cities),
                "intro": text(rng, 60),
                "service_kind": "社会性服务类 (C)",
                "publish_contact": False,
                "created_at": now,
            }
        )
    db.session.execute(sa.insert(Institution), rows)
    year = local_today().year
    institution_ids = db.session.scalars(sa.select(Institution.id)).all()
    db.session.execute(
        sa.insert(Recognition),
        [
            {"institution_id": i, "term_start": year - 1, "term_end": year + 2, "created_at": now}
            for i in institution_ids
        ],
    )
    db.session.commit()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--notices", type=int, default=5000)
    parser.add_argument("--institutions", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--trgm", action="store_true", help="PostgreSQL: create the pg_trgm indexes first")
    args = parser.parse_args()

    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    from app import create_app
    from app.extensions import db

    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url})
    with app.test_request_context():
        import sqlalchemy as sa

        from app.blueprints.portal.services import search_public
        from app.reference.services import load_reference

        db.drop_all()
        db.create_all()
        load_reference()
        fill(db, args.notices, args.institutions)
        if args.trgm and db.engine.dialect.name == "postgresql":
            for statement in TRGM_DDL:
                db.session.execute(sa.text(statement))
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
        print(
            f"{db.engine.dialect.name}: {args.notices} notices, {args.institutions} recognised institutions"
            f"{' (pg_trgm indexes)' if args.trgm else ''}"
        )
        for term in TERMS:
            times = []
            for _ in range(args.runs):
                start = time.perf_counter()
                groups = search_public(q=term)
                times.append((time.perf_counter() - start) * 1000)
                db.session.rollback()
            times.sort()
            counts = ", ".join(f"{g.source.label} {g.total}" for g in groups)
            print(
                f"  {term:<8} median {statistics.median(times):6.1f} ms  p95 {times[int(len(times) * 0.95) - 1]:6.1f} ms  ({counts})"
            )
        db.session.remove()
        db.drop_all()


if __name__ == "__main__":
    main()
