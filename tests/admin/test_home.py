"""管理首页: tiles come from the modules' declared providers, scoped to the admin's role and 市州."""

from app.blueprints.admin.services import HomeCount
from tests.factories import make_institution
from tests.helpers import page, with_module


def _tiles(soup):
    return {
        tile.find("b").next_sibling.strip(): tile.find("b").get_text(" ").split()[0]
        for tile in soup.select(".stats a.stat")
    }


def test_province_home_counts(province, app_ctx):
    make_institution(city_code="430100")
    make_institution(city_code="430200", county_code="430202")
    tiles = _tiles(page(province.get("/admin/")))
    assert tiles["服务机构帐户"] == "2"
    assert tiles["省级管理员帐户"] == "1"
    assert tiles["待审核手机号变更申诉"] == "0"
    assert tiles["在线用户"] == "1"


def test_city_home_counts_its_city_only(city, app_ctx):
    make_institution(city_code="430100")
    make_institution(city_code="430200", county_code="430202")
    soup = page(city.get("/admin/"))
    tiles = _tiles(soup)
    assert tiles["本市州服务机构帐户"] == "1"
    assert tiles["本市州管理员帐户"] == "1"
    assert "待审核手机号变更申诉" not in tiles and "在线用户" not in tiles
    link = soup.find("a", class_="stat", href=lambda h: h and "role=institution" in h)
    assert link is not None


def test_a_module_adds_its_own_count(app, province, monkeypatch):
    with_module(app, monkeypatch, home_counts=(lambda user: [HomeCount("待初审申报", 7, "/elsewhere", "件")],))
    tiles = _tiles(page(province.get("/admin/")))
    assert tiles["待初审申报"] == "7"
