"""Explicit wiring (app/modules.py): an app built from a subset of the modules has only their pages,
menu entries and 首页 blocks, and nothing of a module is registered by importing it."""

from app import create_app
from app.blueprints import (
    MODULES,
    account_module,
    admin_module,
    auth_module,
    portal_module,
)
from app.cache import topics_renew
from app.extensions import db
from app.modules import wiring
from tests.factories import make_province_admin
from tests.helpers import login, page, text_of


def _subset_app(tmp_path, modules):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'subset.db'}",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "CAPTCHA_TEST_CODE": "TEST",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "UPLOAD_DIR": str(tmp_path / "uploads"),
        },
        modules=modules,
    )
    with app.app_context():
        db.create_all()
        topics_renew()
    return app


def test_an_app_from_a_subset_of_modules(tmp_path):
    app = _subset_app(tmp_path, (portal_module, auth_module, account_module, admin_module))
    blueprints = {rule.endpoint.partition(".")[0] for rule in app.url_map.iter_rules()}
    assert blueprints == {"portal", "auth", "account", "admin", "health", "static"}
    contributed = wiring(app)
    assert [group for group, _ in contributed.menu] == ["基础信息", "内容管理", "系统管理", "帐户"]
    assert contributed.big_data is None and not contributed.directory_sources
    assert [source.key for source in contributed.search_sources] == ["notices", "institutions"]
    assert "report.submit" not in contributed.action_labels and "notice.publish" in contributed.action_labels
    with app.app_context():
        client = app.test_client()
        home = text_of(page(client.get("/")))
        assert "暂无调度数据" in home and "暂无已公布的优秀评选结果" in home
        login(client, make_province_admin())
        soup = page(client.get("/admin/"))
        menu = text_of(soup.select_one("nav.side-menu") or soup)
        assert "用户管理" in menu and "调度数据审核" not in menu and "投诉列表" not in menu
        db.session.remove()
        db.engine.dispose()


def test_the_full_app_wires_every_module_in_order(app):
    assert [module.name for module in wiring(app).modules] == [module.name for module in MODULES]
    assert [module.name for module in MODULES] == [
        "portal",
        "auth",
        "account",
        "admin",
        "applications",
        "complaints",
        "reports",
        "rounds",
        "awards",
        "jobs",
    ]
