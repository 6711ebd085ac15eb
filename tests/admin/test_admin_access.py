"""Who reaches the admin pages: province admins everything, city admins their 市州's accounts."""

import pytest

from tests.admin.conftest import signed_in
from tests.factories import make_enterprise, make_expert, make_institution
from tests.helpers import page, text_of

PROVINCE_ONLY_PAGES = [
    "/admin/login-logs",
    "/admin/online",
    "/admin/audit",
    "/admin/sms",
    "/admin/dicts",
    "/admin/dicts/institution_type",
    "/admin/dicts/service_category",
    "/admin/dicts/unit_nature/new",
    "/admin/platforms",
    "/admin/platforms/new",
    "/admin/phone-requests",
    "/admin/users/new-admin",
]
ADMIN_PAGES = ["/admin/", "/admin/users"]


@pytest.mark.parametrize("path", ADMIN_PAGES + PROVINCE_ONLY_PAGES)
def test_province_admin_opens_every_page(province, path):
    soup = page(province.get(path))
    assert soup.find("h1")


@pytest.mark.parametrize("path", PROVINCE_ONLY_PAGES)
def test_city_admin_is_refused_province_pages(city, path):
    assert city.get(path).status_code == 403


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_city_admin_opens_home_and_users(city, path):
    page(city.get(path))


def test_city_admin_menu_offers_only_what_it_may_open(city):
    soup = page(city.get("/admin/"))
    menu = text_of(soup.find("nav", class_="sidemenu"))
    assert "用户管理" in menu and "管理首页" in menu
    for label in ("字典管理", "登录日志", "在线用户", "操作日志", "短信日志", "手机号变更申诉", "所属平台"):
        assert label not in menu


@pytest.mark.parametrize("factory", [make_institution, make_expert, make_enterprise])
def test_other_roles_are_refused(app_ctx, client, factory):
    signed_in(client, factory())
    for path in ADMIN_PAGES + PROVINCE_ONLY_PAGES:
        assert client.get(path).status_code == 403, path


def test_anonymous_is_sent_to_login(client):
    for path in ADMIN_PAGES + PROVINCE_ONLY_PAGES:
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/auth/login" in response.headers["Location"]


def test_city_admin_cannot_use_province_actions(city, app_ctx):
    target = make_institution(city_code="430100")
    for action in ("disable", "enable", "reset-password"):
        assert city.post(f"/admin/users/{target.id}/{action}").status_code == 403
    assert city.post("/admin/online/force-logout", data={"session": "x"}).status_code == 403
    assert city.post("/admin/users/new-admin", data={}).status_code == 403


def test_city_admin_sees_only_its_city(city, app_ctx):
    mine = make_institution(city_code="430100", county_code="430102", name="长沙本地服务机构")
    theirs = make_institution(city_code="430200", county_code="430202", name="株洲服务机构")
    soup = page(city.get("/admin/users"))
    text = text_of(soup)
    assert "长沙本地服务机构" in text
    assert "株洲服务机构" not in text
    assert "changsha" in text  # itself: a 长沙市 account
    # a 市州 filter from the query string cannot widen the scope
    assert "株洲服务机构" not in text_of(page(city.get("/admin/users?city_code=430200")))
    page(city.get(f"/admin/users/{mine.id}"))
    assert city.get(f"/admin/users/{theirs.id}").status_code == 404


def test_city_admin_user_page_is_read_only(city, app_ctx):
    mine = make_institution(city_code="430100")
    soup = page(city.get(f"/admin/users/{mine.id}"))
    buttons = [b.get_text(strip=True) for b in soup.select("main button")]
    assert not {"停用", "启用", "重置密码", "强退"} & set(buttons)
    assert not soup.select("a[href='/admin/users/new-admin']")


def test_unknown_user_is_404_for_province(province):
    assert province.get("/admin/users/99999").status_code == 404
