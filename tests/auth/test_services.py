"""The registration services refuse on their own (flask seed-demo and the CLI call them directly)."""

from datetime import date

import pytest
import sqlalchemy as sa

from app.blueprints.auth import services
from app.blueprints.auth.models import Institution, User
from app.blueprints.auth.services import AccountError
from app.extensions import db
from tests.auth.data import NEW_PASSWORD, category_id, code_with_check_digit, platform_id, unit_id
from tests.factories import make_enterprise, make_institution


def institution_args(**over):
    args = dict(
        username="svc@example.com",
        password=NEW_PASSWORD,
        unit_nature_id=unit_id(),
        platform_id=platform_id(),
        name="服务层测试机构",
        uscc=code_with_check_digit("91430100MA9000011"),
        contact="王五",
        phone="13800138000",
        city_code="430100",
        county_code="430102",
    )
    args.update(over)
    return args


def expert_args(**over):
    args = dict(
        username="svcexpert@example.com",
        password=NEW_PASSWORD,
        name="赵六",
        gender="女",
        birth_month="1985-07",
        employer="湖南师范大学",
        title="副教授",
        category_id=category_id(),
        phone="13800138001",
        city_code="430100",
        county_code="430102",
    )
    args.update(over)
    return args


def enterprise_args(**over):
    args = dict(
        username="svcfirm@example.com",
        password=NEW_PASSWORD,
        name="服务层测试企业",
        uscc=code_with_check_digit("91430100MA9000012"),
        contact="钱七",
        phone="13800138002",
        city_code="430100",
        county_code="430102",
    )
    args.update(over)
    return args


def test_each_service_creates_an_account(app_ctx):
    assert services.institution_register(**institution_args()).institution.name == "服务层测试机构"
    assert services.expert_register(**expert_args()).expert.bio is None
    assert services.enterprise_register(**enterprise_args()).enterprise.contact == "钱七"
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 3


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"username": "a b"}, "username"),
        ({"password": "password"}, "password"),
        ({"uscc": "91430100MA9000011Z"}, "uscc"),
        ({"unit_nature_id": 99999}, "unit_nature_id"),
        ({"platform_id": None}, "platform_id"),
        ({"phone": "12"}, "phone"),
        ({"county_code": "430202"}, "city_code"),
        ({"name": " "}, "name"),
    ],
)
def test_institution_service_refuses_bad_input(app_ctx, override, field):
    with pytest.raises(AccountError) as refused:
        services.institution_register(**institution_args(**override))
    assert refused.value.field == field
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"gender": "X"}, "gender"),
        ({"birth_month": "2020-01"}, "birth_month"),
        ({"category_id": 0}, "category_id"),
        ({"phone": "0731-88886666"}, "phone"),
        ({"bio": "字" * 501}, "bio"),
    ],
)
def test_expert_service_refuses_bad_input(app_ctx, override, field):
    with pytest.raises(AccountError) as refused:
        services.expert_register(**expert_args(**override))
    assert refused.value.field == field


def test_retired_unit_nature_is_refused(app_ctx):
    from app.reference.models import UnitNature

    db.session.get(UnitNature, unit_id()).active = False
    db.session.commit()
    with pytest.raises(AccountError):
        services.institution_register(**institution_args())


def test_services_refuse_duplicates_and_cross_type_codes(app_ctx):
    institution = make_institution(username="Dup@Example.com")
    firm = make_enterprise()
    with pytest.raises(AccountError, match="已被注册"):
        services.enterprise_register(**enterprise_args(username="dup@example.com"))
    with pytest.raises(AccountError, match="服务机构请选择服务机构注册，不要注册为企业"):
        services.enterprise_register(**enterprise_args(uscc=institution.institution.uscc))
    with pytest.raises(AccountError, match="已注册为企业"):
        services.institution_register(**institution_args(uscc=firm.enterprise.uscc))
    with pytest.raises(AccountError, match="已注册过服务机构帐户"):
        services.institution_register(**institution_args(uscc=institution.institution.uscc.lower()))


def test_a_race_on_the_unique_name_becomes_an_account_error(app_ctx, monkeypatch):
    """Two requests pass the checks at once; the database's unique index decides, and the loser
    gets the same message the form would have shown."""
    make_institution(username="race@example.com")
    real = services.username_taken
    calls = {"n": 0}

    def first_check_misses(name):
        calls["n"] += 1
        return False if calls["n"] == 1 else real(name)

    monkeypatch.setattr(services, "username_taken", first_check_misses)
    with pytest.raises(AccountError, match="已被注册") as refused:
        services.institution_register(**institution_args(username="race@example.com"))
    assert refused.value.field == "username"
    assert db.session.scalar(sa.select(sa.func.count(Institution.id))) == 1


def test_a_race_on_the_uscc_becomes_an_account_error(app_ctx, monkeypatch):
    existing = make_institution()
    real = services.uscc_owner
    calls = {"n": 0}

    def first_check_misses(code):
        calls["n"] += 1
        return None if calls["n"] == 1 else real(code)

    monkeypatch.setattr(services, "uscc_owner", first_check_misses)
    with pytest.raises(AccountError, match="已注册过服务机构帐户") as refused:
        services.institution_register(**institution_args(uscc=existing.institution.uscc))
    assert refused.value.field == "uscc"


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2008-06", True),  # 18 on 2026-06-15
        ("2008-07", False),  # 17
        ("1935-07", True),  # 90
        ("1935-06", False),  # 91
        ("2026-06", False),  # this month
        ("2030-01", False),  # future
        ("1980-00", False),
        ("1980-13", False),
        ("1980-5", False),
        ("May 1980", False),
    ],
)
def test_birth_month_rule(value, ok):
    problem = services.birth_month_problem(value, today=date(2026, 6, 15))
    assert (problem is None) is ok, problem


def test_seed_demo_uses_these_services_and_is_idempotent(app_ctx):
    from app.demo import seed_demo_data

    first = seed_demo_data()
    second = seed_demo_data()
    assert first == second
    roles = dict(db.session.execute(sa.select(User.username, User.role)).all())
    assert roles["jigou@example.com"] == "institution" and roles["zhuanjia@example.com"] == "expert"
    assert roles["qiye@example.com"] == "enterprise"
