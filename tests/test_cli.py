"""The flask commands: create-admin, seed-demo, load-reference."""

import re

import pytest
import sqlalchemy as sa

from app.blueprints.auth.models import User
from app.extensions import db
from app.reference.models import Platform, Region


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_create_admin_province_and_city(app):
    result = run(app, "create-admin", "--username", "sheng01", "--password", "Strong2026pw", "--role", "province")
    assert result.exit_code == 0, result.output
    result = run(
        app, "create-admin", "--username", "cs01", "--password", "Strong2026pw", "--role", "city", "--city", "长沙市"
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        users = {u.username: u for u in db.session.scalars(sa.select(User))}
        assert users["sheng01"].role == "province_admin" and users["sheng01"].city_code is None
        assert users["cs01"].role == "city_admin" and users["cs01"].city_code == "430100"
        assert users["cs01"].check_password("Strong2026pw")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--role", "city"], "--city is required"),
        (["--role", "city", "--city", "火星市"], "unknown 市州"),
        (["--role", "province", "--password", "short1"], "密码至少 8 位"),
        (["--role", "province", "--password", "password123"], "过于常见"),
    ],
)
def test_create_admin_refuses_bad_input(app, args, message):
    base = {"--username": "x_admin", "--password": "Strong2026pw"}
    for flag, value in zip(args[::2], args[1::2]):
        base[flag] = value
    result = run(app, "create-admin", *[item for pair in base.items() for item in pair])
    assert result.exit_code != 0
    assert message in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_create_admin_refuses_a_taken_name_case_insensitively(app):
    assert (
        run(app, "create-admin", "--username", "Admin", "--password", "Strong2026pw", "--role", "province").exit_code
        == 0
    )
    result = run(app, "create-admin", "--username", "ADMIN", "--password", "Strong2026pw", "--role", "province")
    assert result.exit_code != 0 and "已被使用" in result.output


def test_seed_demo_prints_one_line_per_account_and_is_idempotent(app):
    first = run(app, "seed-demo")
    assert first.exit_code == 0, first.output
    lines = [line for line in first.output.splitlines() if line.startswith("demo ")]
    roles = [re.match(r"demo (\S+) (\S+) (\S+)$", line).group(1) for line in lines]
    assert roles == ["province_admin", "city_admin", "institution", "expert", "enterprise"]
    second = run(app, "seed-demo")
    assert second.exit_code == 0 and second.output == first.output
    with app.app_context():
        # the printed accounts, plus the province's institutions (app/demo_province.py), made once
        generated = sa.select(sa.func.count(User.id)).where(User.username_key.like("demo-jg-%"))
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 5 + db.session.scalar(generated)
        assert db.session.scalar(generated) >= 42


def test_seed_demo_refuses_production_settings(app, monkeypatch):
    monkeypatch.setitem(app.config, "APP_ENV", "production")
    result = run(app, "seed-demo")
    assert result.exit_code != 0 and "refuses" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_load_reference_is_idempotent(app):
    result = run(app, "load-reference")
    assert result.exit_code == 0 and "0 new entries" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Region.code)).where(Region.level == "city")) == 14
        assert db.session.scalar(sa.select(sa.func.count(Region.code)).where(Region.level == "county")) == 122
        names = set(db.session.scalars(sa.select(Platform.name)))
        assert "湖南省中小企业公共服务平台" in names and "长沙市中小企业公共服务平台" in names and len(names) == 15
