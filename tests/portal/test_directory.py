"""核心服务机构 directory: current recognitions only, filters, keyword, detail page, published contacts."""

import sqlalchemy as sa

from app.blueprints.auth.models import Institution
from app.extensions import db
from app.reference.models import InstitutionType, ServiceCategory
from app.utils import local_today
from tests.factories import make_institution
from tests.helpers import login, page, text_of
from tests.portal.conftest import offer, recognise

YEAR = local_today().year


def _names(soup):
    return [a.get_text() for a in soup.select("#results td.name-col a")]


def _type(name):
    return db.session.scalar(sa.select(InstitutionType).where(InstitutionType.name == name))


def test_only_current_recognitions_are_listed(client, app_ctx):
    current = make_institution(name="湖南在期服务中心")
    recognise(current, start=YEAR - 3, end=YEAR)  # ends this year: still current
    starts = make_institution(name="今年起认定的机构")
    recognise(starts, start=YEAR, end=YEAR + 3)
    expired = make_institution(name="已过期的机构")
    recognise(expired, start=YEAR - 4, end=YEAR - 1)
    future = make_institution(name="明年才生效的机构")
    recognise(future, start=YEAR + 1, end=YEAR + 4)
    revoked = make_institution(name="已撤销的机构")
    recognise(revoked, revoked=True)
    make_institution(name="未认定的机构")
    soup = page(client.get("/institutions"))
    assert sorted(_names(soup)) == sorted(["湖南在期服务中心", "今年起认定的机构"])
    assert "当前显示第 1 页 共 2 条记录" in text_of(soup)
    for user in (expired, future, revoked):
        page(client.get(f"/institutions/{user.institution.id}"), status=404)
    page(client.get(f"/institutions/{current.institution.id}"))


def test_one_line_per_institution_with_its_term(client, app_ctx):
    user = make_institution(name="两次认定的机构")
    recognise(user, start=YEAR - 3, end=YEAR)
    recognise(user, start=YEAR, end=YEAR + 3)
    soup = page(client.get("/institutions"))
    assert _names(soup) == ["两次认定的机构"]
    assert "共 1 条记录" in text_of(soup)  # counted once however many recognitions it has in force
    assert soup.select_one("td[data-label=认定期限]").get_text() == f"{YEAR - 3}-{YEAR + 3}"


def test_columns_and_contact_only_when_published(client, app_ctx):
    shown = make_institution(
        name="公开联系方式的机构",
        city_code="430300",
        county_code="430302",
        phone="0731-88886666",
        institution_type_id=_type("专业服务机构").id,
        publish_contact=True,
    )
    hidden = make_institution(name="不公开联系方式的机构", phone="13900001111")
    offer(shown, "融资服务", "政策服务")
    for user in (shown, hidden):
        recognise(user)
    soup = page(client.get("/institutions"))
    headers = [th.get_text() for th in soup.select("#results th")]
    assert headers == ["序号", "机构名称", "所在市州", "机构类型", "服务类别", "联系人", "电话", "认定期限"]
    rows = {tr.select_one("td.name-col").get_text(strip=True): tr for tr in soup.select("#results tbody tr")}
    cells = {td["data-label"]: td.get_text(strip=True) for td in rows["公开联系方式的机构"].find_all("td")}
    assert cells["所在市州"] == "湘潭市" and cells["机构类型"] == "专业服务机构"
    assert cells["服务类别"] == "政策服务、融资服务"  # in the list's order
    assert cells["联系人"] == "联系人" and cells["电话"] == "0731-88886666"
    cells = {td["data-label"]: td.get_text(strip=True) for td in rows["不公开联系方式的机构"].find_all("td")}
    assert cells["联系方式"] == "未公开" and "联系人" not in cells and "电话" not in cells
    assert "13900001111" not in text_of(soup)
    detail = text_of(page(client.get(f"/institutions/{hidden.institution.id}")))
    assert "13900001111" not in detail and "该机构未公开联系方式" in detail


def test_filters_and_keyword(client, app_ctx):
    a = make_institution(name="长沙融资担保服务中心", city_code="430100", institution_type_id=_type("综合服务机构").id)
    b = make_institution(
        name="湘潭数字化转型促进中心",
        city_code="430300",
        county_code="430302",
        institution_type_id=_type("专业服务机构").id,
        intro="为中小企业提供上云用数赋智服务。",
    )
    c = make_institution(name="岳阳法律服务所", city_code="430600", county_code="430602")
    offer(a, "融资服务")
    offer(b, "数字化转型服务")
    offer(c, "法律服务")
    for user in (a, b, c):
        recognise(user)
    category = db.session.scalar(sa.select(ServiceCategory.id).where(ServiceCategory.name == "融资服务"))

    def names(**query):
        return sorted(_names(page(client.get("/institutions", query_string=query))))

    assert names() == sorted(["长沙融资担保服务中心", "湘潭数字化转型促进中心", "岳阳法律服务所"])
    assert names(city_code="430300") == ["湘潭数字化转型促进中心"]
    assert names(type_id=_type("综合服务机构").id) == ["长沙融资担保服务中心"]
    assert names(category_id=category) == ["长沙融资担保服务中心"]
    assert names(q="融资") == ["长沙融资担保服务中心"]  # a substring of the name
    assert names(q="上云") == ["湘潭数字化转型促进中心"]  # the introduction
    assert names(q="法律服务") == ["岳阳法律服务所"]
    assert names(q="岳阳") == ["岳阳法律服务所"]  # the 市州
    assert names(city_code="430300", q="融资") == []
    # unknown values are ignored rather than refused
    assert len(names(city_code="999999", type_id="abc", category_id="99999")) == 3
    soup = page(client.get("/institutions?city_code=430300&q=融资"))
    assert "没有符合条件的核心服务机构" in text_of(soup)
    assert soup.find("select", id="city_code").find("option", selected=True)["value"] == "430300"


def test_filter_fragment_for_htmx(client, app_ctx):
    user = make_institution(name="长沙融资担保服务中心")
    recognise(user)
    response = client.get("/institutions?q=融资", headers={"HX-Request": "true"})
    soup = page(response, fragment=True)
    assert soup.select_one("#results") is not None and _names(soup) == ["长沙融资担保服务中心"]
    assert soup.find("nav", class_="mainnav") is None


def test_paging(client, app_ctx):
    for n in range(23):
        recognise(make_institution(name=f"机构{n:02d}"))
    soup = page(client.get("/institutions"))
    assert len(_names(soup)) == 20 and "共 23 条记录" in text_of(soup)
    soup = page(client.get(soup.find("a", rel="next")["href"]))
    assert len(_names(soup)) == 3


def test_listed_by_city_in_reference_order_then_name(client, app_ctx):
    from app.reference.services import cities

    codes = [city.code for city in cities()]
    assert codes == sorted(codes)  # the reference order of 市州 is their code order, as the list's order assumes
    for name, city_code in (
        ("湘西机构A", "433100"),
        ("长沙机构B", "430100"),
        ("株洲机构A", "430200"),
        ("长沙机构A", "430100"),
    ):
        recognise(make_institution(name=name, city_code=city_code))
    assert _names(page(client.get("/institutions"))) == ["长沙机构A", "长沙机构B", "株洲机构A", "湘西机构A"]
    assert _names(page(client.get("/institutions?city_code=430100"))) == ["长沙机构A", "长沙机构B"]


def test_detail_page(client, app_ctx):
    user = make_institution(
        name="湖南详情测试中心",
        intro="本中心成立于2010年。\n提供融资对接服务。",
        publish_contact=True,
        email="info@example.com",
        address="长沙市芙蓉区五一大道 1 号",
    )
    offer(user, "融资服务")
    recognise(user, start=YEAR - 1, end=YEAR + 2)
    soup = page(client.get(f"/institutions/{user.institution.id}"))
    assert soup.h1.get_text() == "湖南详情测试中心"
    text = text_of(soup)
    for expected in (
        "长沙市 芙蓉区",
        "融资服务",
        f"{YEAR - 1}-{YEAR + 2}",
        "本中心成立于2010年。",
        "info@example.com",
        "五一大道",
        "湖南省中小企业公共服务平台",
    ):
        assert expected in text
    page(client.get("/institutions/999999"), status=404)


def test_detail_sections_from_other_modules(app, client, app_ctx, monkeypatch):
    from tests.helpers import with_module

    user = make_institution(name="获奖机构")
    recognise(user)
    with_module(app, monkeypatch, institution_sections=(lambda institution: ("获评荣誉", ["2025年度优秀服务机构"]),))
    assert "2025年度优秀服务机构" in text_of(page(client.get(f"/institutions/{user.institution.id}")))


def test_home_block_lists_recognised_institutions(client, app_ctx):
    user = make_institution(name="首页展示的机构")
    recognise(user)
    soup = page(client.get("/"))
    block = soup.find("h2", string="核心服务机构").find_parent("section")
    assert "1" in block.select_one(".stat b").get_text() and "已认定核心服务机构" in text_of(block)
    assert block.find("a", string="首页展示的机构")["href"] == f"/institutions/{user.institution.id}"


def test_profile_offers_categories_and_the_contact_choice(client, app_ctx):
    from app.audit import AuditLog
    from tests.account.test_profile import institution_data

    user = make_institution()
    login(client, user)
    soup = page(client.get("/workspace/profile"))
    boxes = soup.select("input[type=checkbox][name=service_category_ids]")
    assert len(boxes) == 16
    assert soup.find("input", attrs={"name": "publish_contact", "value": "False"}).has_attr("checked")
    ids = [int(box["value"]) for box in boxes[:2]]
    response = client.post(
        "/workspace/profile", data={**institution_data(), "service_category_ids": ids, "publish_contact": "True"}
    )
    assert response.status_code == 303
    db.session.expire_all()
    institution = db.session.get(Institution, user.institution.id)
    assert institution.publish_contact is True and institution.service_category_ids == ids
    entry = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "account.profile_update")).one()
    assert entry.after["service_categories"] == "政策服务、融资服务" and entry.after["publish_contact"] is True
    soup = page(client.get("/workspace/profile"))
    assert [b["value"] for b in soup.select("input[name=service_category_ids][checked]")] == [str(i) for i in ids]
    # unticking every box clears them
    client.post("/workspace/profile", data={**institution_data(), "publish_contact": "False"})
    db.session.expire_all()
    institution = db.session.get(Institution, user.institution.id)
    assert institution.service_category_ids == [] and institution.publish_contact is False


def test_profile_refuses_an_unknown_category(client, app_ctx):
    from tests.account.test_profile import institution_data

    login(client, make_institution())
    soup = page(client.post("/workspace/profile", data={**institution_data(), "service_category_ids": ["999999"]}))
    assert "请从列表中选择服务类别" in text_of(soup)


def _queries(client, path):
    """Statements one render of ``path`` runs (the page cache is emptied first, so it renders)."""
    from sqlalchemy import event

    from app.extensions import cache

    cache.clear()
    count = []
    engine = db.engine

    def listener(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")):
            count.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        page(client.get(path))
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(count)


def test_query_count_does_not_grow_with_the_rows(client, app_ctx):
    def add(n):
        for _ in range(n):
            user = make_institution(institution_type_id=_type("专业服务机构").id)
            offer(user, "融资服务", "法律服务")
            recognise(user)

    add(2)
    for path in ("/institutions", "/search?q=测试", "/"):
        page(client.get(path))  # caches (region names) warm up first
    few = (_queries(client, "/institutions"), _queries(client, "/search?q=测试"), _queries(client, "/"))
    add(12)
    assert (_queries(client, "/institutions"), _queries(client, "/search?q=测试"), _queries(client, "/")) == few
