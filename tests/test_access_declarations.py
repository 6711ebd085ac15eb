"""The access declarations themselves, applied to probe views at test time (the app's own views are
declared at import, before any test runs): what each one lets through and what it refuses."""

import pytest

from app.access import login as login_required
from app.access import public, roles
from app.extensions import db
from tests.factories import make_city_admin, make_institution, make_province_admin
from tests.helpers import login


@pytest.fixture
def probe(app):
    """A second app on the same database with four probe views, one per kind of declaration."""
    from app import create_app

    other = create_app(
        {
            **{
                k: app.config[k]
                for k in (
                    "SQLALCHEMY_DATABASE_URI",
                    "SECRET_KEY",
                    "TESTING",
                    "WTF_CSRF_ENABLED",
                    "CAPTCHA_TEST_CODE",
                    "RATELIMIT_ENABLED",
                    "PASSWORD_HASH_METHOD",
                )
            }
        }
    )

    @public
    def open_view():
        return "open"

    @login_required
    def member_view():
        return "member"

    @roles("city_admin")
    def city_view():
        return "city"

    @roles("city_admin", "province_admin")
    def admin_view():
        return "admin"

    for name, view in (("open", open_view), ("member", member_view), ("city", city_view), ("admin", admin_view)):
        other.add_url_rule(f"/__probe/{name}", f"probe_{name}", view)
    yield other
    with other.app_context():
        db.session.remove()
        other.extensions["sqlalchemy"].engine.dispose()


def _get(client, name):
    response = client.get(f"/__probe/{name}")
    return response.status_code, response.get_data(
        as_text=True
    ) if response.status_code == 200 else response.headers.get("Location")


def test_a_visitor_opens_public_views_and_is_sent_to_login_elsewhere(probe):
    client = probe.test_client()
    assert _get(client, "open") == (200, "open")
    for name in ("member", "city", "admin"):
        status, location = _get(client, name)
        assert status == 302 and "/auth/login" in location and f"next=/__probe/{name}" in location.replace("%2F", "/")


@pytest.mark.parametrize(
    "make, expected",
    [
        (make_institution, {"open": 200, "member": 200, "city": 403, "admin": 403}),
        (lambda: make_city_admin("430100"), {"open": 200, "member": 200, "city": 200, "admin": 200}),
        (make_province_admin, {"open": 200, "member": 200, "city": 403, "admin": 200}),
    ],
)
def test_each_declaration_lets_through_exactly_its_roles(app, probe, make, expected):
    with app.app_context():
        username = make().username
    client = probe.test_client()
    assert login(client, username).status_code in (302, 303)
    got = {name: _get(client, name) for name in expected}
    assert {name: status for name, (status, _) in got.items()} == expected
    assert all(body == name for name, (status, body) in got.items() if status == 200)  # the view itself answered


def test_a_declaration_with_an_unknown_role_is_refused_at_once():
    with pytest.raises(ValueError, match="unknown roles: {'admin'}"):
        roles("admin", "city_admin")
    with pytest.raises(ValueError, match="unknown roles"):
        roles("Province_Admin")
    assert roles("expert")(lambda: None).access_policy == ("expert",)
    assert public(lambda: None).access_policy == "public"
    assert login_required(lambda: None).access_policy == "login"


def test_the_refusals_say_why(app, client):
    """A visitor sent to 登录 is told to sign in; an account whose password was reset is told to set one."""
    from bs4 import BeautifulSoup

    def said(response):
        return " ".join(BeautifulSoup(response.data, "html.parser").get_text(" ").split())

    notice = BeautifulSoup(client.get("/workspace/", follow_redirects=True).data, "html.parser").find(
        "p", class_="flash"
    )
    assert notice.get_text(strip=True) == "请先登录。"
    # a signed-out POST with nothing typed has nothing to come back to: no next=
    response = client.post("/workspace/profile", data={})
    assert (
        response.status_code == 303
        and "/auth/login" in response.headers["Location"]
        and "next" not in response.headers["Location"]
    )
    # with something typed, it is kept and the login leads back to the page (tests/test_saved_forms.py)
    response = client.post("/workspace/profile", data={"contact": "张三"})
    assert response.status_code == 303 and "restore%3D" in response.headers["Location"]
    with app.app_context():
        user = make_institution()
        user.must_change_password = True
        username = user.username
        db.session.commit()
    login(client, username)
    response = client.get("/workspace/messages", follow_redirects=True)
    assert "您的密码是管理员设置的（新建帐户或重置密码），请先设置只有您自己知道的新密码。" in said(response)
    warning = BeautifulSoup(response.data, "html.parser").find(
        "p", string="您的密码是管理员设置的（新建帐户或重置密码），请先设置只有您自己知道的新密码。"
    )
    assert "flash-warning" in warning["class"] and warning["role"] == "alert"  # shown as a warning, not a note
