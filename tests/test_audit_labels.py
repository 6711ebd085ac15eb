"""操作日志 names: every action code the app writes has a name, no two codes share one, the
filter offers each name once, and the log names the object (never a proxy) and its institution."""

import re
from pathlib import Path

from app.audit import audit
from app.blueprints.admin import display
from app.extensions import db
from app.modules import wiring
from tests.factories import make_institution, make_province_admin

APP = Path(__file__).resolve().parent.parent / "app"
CODE = re.compile(r'audit\(\s*f?"([a-z_.{}]+)"')


def written_codes(app):
    """Every code passed to audit() in app/, the engine's f-strings expanded for each filing kind."""
    codes = set()
    for path in APP.rglob("*.py"):
        codes.update(CODE.findall(path.read_text(encoding="utf-8")))
    with app.app_context():
        kinds = [wizard.kind for module in wiring().modules for wizard in module.wizards]
    expanded = set()
    for code in codes:
        if "{wizard.kind}" in code:
            expanded.update(code.replace("{wizard.kind}", kind) for kind in kinds)
        else:
            expanded.add(code)
    # what is still a pattern ("{kind}.{action}": the transitions) is named by each wizard's audit_labels
    return {code for code in expanded if "{" not in code}


def test_every_code_the_app_writes_has_a_name_and_names_are_unique(app):
    codes = written_codes(app)
    assert len(codes) > 40
    with app.app_context():
        labels = wiring().action_labels
    assert sorted(code for code in codes if code not in labels) == []
    by_name = {}
    for code, name in labels.items():
        by_name.setdefault(name, []).append(code)
    assert {name: found for name, found in by_name.items() if len(found) > 1} == {}


def test_the_filter_offers_each_name_once(app):
    with app.test_request_context():
        choices = display.audit_action_choices(["custom.code", "user.disable"])
    names = [name for _value, name in choices]
    assert len(names) == len(set(names)) and "custom.code" in names and "停用帐户" in names


def test_a_proxy_target_is_logged_as_what_it_stands_for(app, app_ctx):
    from flask_login import current_user, login_user

    admin = make_province_admin()
    with app.test_request_context():
        login_user(admin)
        entry = audit("user.disable", target=current_user, actor=current_user)
        assert entry.target_type == "User" and entry.target_name and entry.actor_id == admin.id
    db.session.rollback()


def test_an_institution_and_its_account_carry_its_id(app_ctx):
    user = make_institution(name="日志测试服务中心")
    entry = audit("user.disable", target=user)
    assert entry.institution_id == user.institution.id and entry.target_name
    entry = audit("institution.import", target=user.institution)
    assert entry.institution_id == user.institution.id and entry.target_name == "日志测试服务中心"
    db.session.rollback()
