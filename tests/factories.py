"""Test data factories (CTFd-style gen_*). Objects are written straight to the database."""

import itertools

import sqlalchemy as sa

from app.blueprints.auth.models import Enterprise, Expert, Institution, User
from app.extensions import db
from app.reference.models import Platform, ServiceCategory, UnitNature

PASSWORD = "Test2026pass"
_seq = itertools.count(1)


# Valid 统一社会信用代码 (check digits verified with python-stdnum), one per test object.
def uscc_for(n, prefix="91"):
    from stdnum.cn import uscc

    body = f"{prefix}430100MA{n:07d}"[:17]
    return body + uscc.calc_check_digit(body)


def _user(role, username=None, password=PASSWORD, **fields):
    n = next(_seq)
    user = User(
        username=username or f"{role}{n}@example.com",
        role=role,
        display_name=fields.pop("display_name", f"{role}{n}"),
        **fields,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def make_province_admin(username=None, **fields):
    user = _user("province_admin", username, **fields)
    db.session.commit()
    return user


def make_city_admin(city_code="430100", username=None, **fields):
    user = _user("city_admin", username, city_code=city_code, **fields)
    db.session.commit()
    return user


def make_institution(username=None, city_code="430100", county_code="430102", phone=None, name=None, **fields):
    n = next(_seq)
    phone = phone or f"139{n:08d}"
    user = _user("institution", username, phone=phone, city_code=city_code, display_name=name or f"测试服务机构{n}")
    unit = db.session.scalar(sa.select(UnitNature).where(UnitNature.name == "企业"))
    platform = db.session.scalar(sa.select(Platform).order_by(Platform.id))
    db.session.add(
        Institution(
            user_id=user.id,
            name=name or f"测试服务机构{n}",
            uscc=fields.pop("uscc", uscc_for(n)),
            unit_nature_id=unit.id,
            platform_id=platform.id,
            contact="联系人",
            phone=phone,
            city_code=city_code,
            county_code=county_code,
            **fields,
        )
    )
    db.session.commit()
    return user


def make_expert(username=None, city_code="430100", county_code="430102", phone=None, **fields):
    n = next(_seq)
    phone = phone or f"137{n:08d}"
    user = _user("expert", username, phone=phone, city_code=city_code, display_name=f"专家{n}")
    category = db.session.scalar(sa.select(ServiceCategory).order_by(ServiceCategory.id))
    db.session.add(
        Expert(
            user_id=user.id,
            name=f"专家{n}",
            gender="男",
            birth_month="1975-03",
            employer="湖南大学",
            title="教授",
            category_id=category.id,
            phone=phone,
            city_code=city_code,
            county_code=county_code,
            **fields,
        )
    )
    db.session.commit()
    return user


def make_enterprise(username=None, city_code="430100", county_code="430102", phone=None, **fields):
    n = next(_seq)
    phone = phone or f"136{n:08d}"
    user = _user("enterprise", username, phone=phone, city_code=city_code, display_name=f"测试企业{n}")
    db.session.add(
        Enterprise(
            user_id=user.id,
            name=f"测试企业{n}",
            uscc=fields.pop("uscc", uscc_for(n, "91")),
            contact="联系人",
            phone=phone,
            city_code=city_code,
            county_code=county_code,
            **fields,
        )
    )
    db.session.commit()
    return user


ROLE_FACTORIES = {
    "province_admin": make_province_admin,
    "city_admin": make_city_admin,
    "institution": make_institution,
    "expert": make_expert,
    "enterprise": make_enterprise,
}


def make_round(kind="application", year=None, month=None, opens_on=None, closes_on=None, title=None):
    """A round open today unless dates say otherwise."""
    from datetime import timedelta

    from app.filings.models import Round
    from app.utils import local_today

    today = local_today()
    year = year or today.year
    round = Round(
        kind=kind,
        year=year,
        month=month,
        title=title or f"{year}年{kind}批次",
        opens_on=opens_on or today - timedelta(days=1),
        closes_on=closes_on or today + timedelta(days=30),
    )
    db.session.add(round)
    db.session.commit()
    return round
