"""The three nominations through the engine: labels, bounds, one per year, numbered points, experts."""

import io
import re
from datetime import date

import sqlalchemy as sa

from app.blueprints.awards.models import ExpertNomination, InstitutionNomination, ProductNomination
from app.extensions import db
from app.filings.models import Round
from tests.awards.conftest import EXPERT_BASIC, HONORS, INSTITUTION_BASIC, PRODUCT_BASIC
from tests.factories import make_round
from tests.helpers import login, page, text_of

PDF = b"%PDF-1.4\n%test\n"


def new_draft(client, prefix):
    response = client.post(f"/awards/{prefix}/new")
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    match = re.search(rf"/awards/{prefix}/(\d+)/step/basic", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def upload(client, prefix, filing_id):
    data = {"files": [(io.BytesIO(PDF), "荣誉证书.pdf")]}
    return client.post(f"/awards/{prefix}/{filing_id}/attachments", data=data, content_type="multipart/form-data")


def test_institution_list_has_the_manual_labels(client, people):
    login(client, people.institution.username)
    soup = page(client.get("/awards/institutions/"))
    text = text_of(soup)
    assert soup.find("button", string="优秀服务机构填报") is not None and "当前评选年度：2026年度优秀评选" in text
    assert "当前显示第 1 页 共 0 条记录" in text
    menu = text_of(soup.select_one(".sidemenu"))
    assert (
        "优秀评选" in menu and "优秀服务机构评选" in menu and "优秀服务产品评选" in menu and "优秀服务专家评选" in menu
    )
    assert "申报管理 / 核心服务机构调度管理 / 优秀服务机构申报评选" in text_of(soup.select_one(".breadcrumb"))


def test_outside_a_round_the_buttons_explain_why(client, app, people):
    with app.app_context():
        db.session.execute(sa.delete(Round))
        db.session.commit()
        make_round("award", year=2099, opens_on=date(2099, 1, 1), closes_on=date(2099, 2, 1), title="2099年度优秀评选")
    login(client, people.institution.username)
    for prefix, label in (
        ("institutions", "优秀服务机构填报"),
        ("products", "优秀服务产品填报"),
        ("experts", "优秀服务专家填报"),
    ):
        soup = page(client.get(f"/awards/{prefix}/"))
        button = soup.find("button", string=label)
        assert button.has_attr("disabled"), prefix
        assert "2099年度优秀评选将于 2099-01-01 开放填报" in text_of(soup)
        response = client.post(f"/awards/{prefix}/new", follow_redirects=True)
        assert "将于 2099-01-01 开放填报" in response.get_data(as_text=True)


def test_institution_nomination_flow_with_bounds(client, app, people):
    login(client, people.institution.username)
    filing_id = new_draft(client, "institutions")
    soup = page(client.get(f"/awards/institutions/{filing_id}/step/basic"))
    assert "申报管理 / 核心服务机构调度管理 / 编辑优秀服务机构申报信息" in text_of(soup.select_one(".breadcrumb"))
    assert soup.select_one("#honors")["data-counter"] == "500"
    assert "请输入荣誉资质，在300-500字以内。" in text_of(soup)
    for unit in ("人", "家次", "场次", "万元"):
        assert soup.find("span", class_="unit", string=unit)

    too_short = dict(INSTITUTION_BASIC, honors="荣" * 299, intro="简" * 801)
    soup = page(client.post(f"/awards/institutions/{filing_id}/step/basic", data=too_short), status=422)
    text = text_of(soup)
    assert "请输入 300-500 字（当前 299 字）" in text and "请在800字以内（当前 801 字）" in text
    assert soup.select_one("#honors").get_text().strip() == "荣" * 299  # what was typed is kept
    soup = page(
        client.post(f"/awards/institutions/{filing_id}/step/basic", data=dict(INSTITUTION_BASIC, honors="荣" * 501)),
        status=422,
    )
    assert "请在500字以内（当前 501 字）" in text_of(soup)
    # the bounds themselves are allowed; htmx gets the next step as a fragment
    assert (
        client.post(
            f"/awards/institutions/{filing_id}/step/basic",
            data=dict(INSTITUTION_BASIC, honors="荣" * 300, intro="简" * 800),
        ).status_code
        == 303
    )
    response = client.post(
        f"/awards/institutions/{filing_id}/step/basic",
        data=dict(INSTITUTION_BASIC, honors="荣" * 500),
        headers={"HX-Request": "true"},
    )
    soup = page(response, fragment=True)
    assert "申报证明材料上传" in text_of(soup) and response.headers["HX-Push-Url"].endswith("/attachments")

    assert upload(client, "institutions", filing_id).status_code == 303
    assert client.post(f"/awards/institutions/{filing_id}/submit").status_code == 303
    with app.app_context():
        filing = db.session.get(InstitutionNomination, filing_id)
        assert filing.status == "submitted" and filing.city_code == "430100" and len(filing.honors) == 500
    soup = page(client.get("/awards/institutions/"))
    assert "待资格审查" in text_of(soup.select_one("table.list"))


def test_one_institution_nomination_per_year(client, app, people):
    login(client, people.institution.username)
    new_draft(client, "institutions")
    response = client.post("/awards/institutions/new", follow_redirects=True)
    # only a draft exists: the message says so (not "已填报过") and leads to it
    assert "本期已有一份尚未提交的优秀服务机构申报草稿" in response.get_data(as_text=True)
    # a second 评选年度 in the same year does not open the door
    with app.app_context():
        db.session.execute(sa.delete(Round).where(Round.id != people.round_id).where(Round.kind == "award"))
        later = Round(
            kind="award",
            year=2026,
            month=None,
            title="2026年度优秀评选（补充）",
            opens_on=db.session.get(Round, people.round_id).opens_on,
            closes_on=db.session.get(Round, people.round_id).closes_on,
        )
        db.session.add(later)
        db.session.commit()
    response = client.post("/awards/institutions/new", follow_redirects=True)
    # only a draft exists: the message says so (not "已填报过") and leads to it
    assert "本期已有一份尚未提交的优秀服务机构申报草稿" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(InstitutionNomination.id))) == 1
    # another institution may nominate itself
    client.post("/auth/logout")
    login(client, people.other_institution.username)
    new_draft(client, "institutions")


def test_products_are_several_and_points_a_numbered_list(client, app, people):
    login(client, people.institution.username)
    first = new_draft(client, "products")
    second = new_draft(client, "products")
    assert first != second
    data = dict(PRODUCT_BASIC, category_id=people.category_id)
    soup = page(
        client.post(f"/awards/products/{first}/step/basic", data=dict(data, points=" \n 1. \n", intro="介" * 501)),
        status=422,
    )
    text = text_of(soup)
    assert "请至少列明一条" in text and "请在500字以内（当前 501 字）" in text
    assert client.post(f"/awards/products/{first}/step/basic", data=data).status_code == 303
    with app.app_context():
        product = db.session.get(ProductNomination, first)
        assert product.points == "首创线上融资诊断\n银企对接会每月一次\n担保费率低于市场平均"
    upload(client, "products", first)
    assert client.post(f"/awards/products/{first}/submit").status_code == 303
    soup = page(client.get(f"/awards/products/{first}"))
    items = [li.get_text() for li in soup.select("ol.points li")]
    assert items == ["首创线上融资诊断", "银企对接会每月一次", "担保费率低于市场平均"]
    listing = text_of(page(client.get("/awards/products/")))
    assert "中小企业融资服务包" in listing and "低收费" in listing and "共 2 条记录" in listing


def test_expert_list_columns_and_bio_bound(client, app, people):
    login(client, people.institution.username)
    filing_id = new_draft(client, "experts")
    data = dict(EXPERT_BASIC, category_id=people.category_id)
    soup = page(
        client.post(f"/awards/experts/{filing_id}/step/basic", data=dict(data, bio="简" * 501, phone="12345")),
        status=422,
    )
    text = text_of(soup)
    assert "请在500字以内（当前 501 字）" in text and "请输入手机号码" in text
    assert client.post(f"/awards/experts/{filing_id}/step/basic", data=data).status_code == 303
    second = new_draft(client, "experts")  # an institution may nominate several experts
    assert second != filing_id
    soup = page(client.get("/awards/experts/"))
    headers = [th.get_text() for th in soup.select("table.list thead th")]
    assert headers[:4] == ["序号", "姓名", "年龄", "工作单位"] and "联系人" not in headers
    assert "李教授" in text_of(soup) and "中南大学" in text_of(soup)
    assert "当前显示第 1 页 共 2 条记录" in text_of(soup)
    assert "核心服务机构调度管理 / 优秀服务专家申报评选" in text_of(soup.select_one(".breadcrumb"))


def test_an_expert_nominates_itself_once_a_year(client, app, people):
    login(client, people.expert.username)
    soup = page(client.get("/awards/experts/"))
    menu = text_of(soup.select_one(".sidemenu"))
    assert "优秀服务专家评选" in menu and "优秀服务机构评选" not in menu
    assert client.get("/awards/institutions/").status_code == 403
    filing_id = new_draft(client, "experts")
    soup = page(client.get(f"/awards/experts/{filing_id}/step/basic"))
    assert soup.select_one("#employer")["value"] == "湘潭大学"
    assert soup.select_one("#age")["value"]
    with app.app_context():
        filing = db.session.get(ExpertNomination, filing_id)
        assert filing.nominee_id == people.expert.id and filing.institution_id is None and filing.city_code == "430200"
    response = client.post("/awards/experts/new", follow_redirects=True)
    assert "尚未提交的" in response.get_data(as_text=True) and "继续填写草稿" in response.get_data(as_text=True)
    own_name = soup.select_one("#name")["value"]
    data = dict(EXPERT_BASIC, category_id=people.category_id, name=own_name, employer="湘潭大学")
    assert client.post(f"/awards/experts/{filing_id}/step/basic", data=data).status_code == 303
    upload(client, "experts", filing_id)
    assert client.post(f"/awards/experts/{filing_id}/submit").status_code == 303
    client.post("/auth/logout")
    # the 株洲市 city admin does its 资格审查; the 长沙市 one does not see it
    login(client, people.city.username)
    assert client.get(f"/awards/experts/{filing_id}/review").status_code == 404
    client.post("/auth/logout")
    login(client, people.other_city.username)
    soup = page(client.get("/awards/experts/review"))
    assert own_name in text_of(soup.select_one("table.list")) and "湘潭大学" in text_of(soup.select_one("table.list"))
    response = client.post(f"/awards/experts/{filing_id}/review", data={"action": "city_approve"})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(ExpertNomination, filing_id).status == "city_approved"


def test_province_cannot_decide_outside_publication(client, app, people):
    from tests.awards.conftest import make_nomination

    with app.app_context():
        filing_id = make_nomination("institution", people.institution.id, people.round_id)
    login(client, people.province.username)
    soup = page(client.get(f"/awards/institutions/{filing_id}/review"))
    values = [i["value"] for i in soup.select("input[name=action]")]
    assert values == ["province_return"]
    soup = page(
        client.post(f"/awards/institutions/{filing_id}/review", data={"action": "province_approve"}), status=422
    )
    assert "不能执行该操作" in text_of(soup)
    with app.app_context():
        assert db.session.get(InstitutionNomination, filing_id).status == "city_approved"


def test_report_totals_show_beside_the_figures_when_available(client, app, people, monkeypatch):
    from app.blueprints.awards import wizard
    from app.extensions import cache

    login(client, people.institution.username)
    filing_id = new_draft(client, "institutions")
    soup = page(client.get(f"/awards/institutions/{filing_id}/step/basic"))
    assert "月度调度合计" not in text_of(soup)  # nothing without reports
    monkeypatch.setattr(wizard, "report_totals", lambda filing: {"served_count": 398, "activity_count": 57})
    with app.app_context():
        cache.clear()  # the patch stands in for reports written meanwhile, which would bump the page cache
    soup = page(client.get(f"/awards/institutions/{filing_id}/step/basic"))
    assert "2025年月度调度合计：398 家次" in text_of(soup)
    client.post(f"/awards/institutions/{filing_id}/step/basic", data=INSTITUTION_BASIC)
    soup = page(client.get(f"/awards/institutions/{filing_id}"))
    assert "420 家次 （2025年月度调度合计：398 家次）" in text_of(soup)
    assert HONORS in soup.get_text()


def test_award_entry_button_leads_each_role_to_its_page(client, people):
    for who, target in (
        (people.institution, "/awards/institutions/"),
        (people.expert, "/awards/experts/"),
        (people.province, "/awards/admin/"),
        (people.city, "/awards/institutions/review"),
    ):
        login(client, who.username)
        response = client.get("/entry/award")
        assert response.status_code == 302 and response.headers["Location"].endswith(target), (
            who,
            response.headers["Location"],
        )
        client.post("/auth/logout")


def test_seed_demo_opens_an_award_year_once(app):
    from app.demo import seed_demo_data
    from app.utils import local_today

    with app.app_context():
        seed_demo_data()
        seed_demo_data()
        rounds = db.session.scalars(sa.select(Round).where(Round.kind == "award")).all()
        assert [r.year for r in rounds].count(local_today().year) == 1
        assert any(r.is_open() for r in rounds)


def test_report_totals_come_from_approved_monthly_reports(client, app, people):
    from decimal import Decimal

    from app.blueprints.reports.models import MonthlyReport

    with app.app_context():
        from app.blueprints.auth.models import User

        report_round = make_round("report", year=2025, month=1, title="2025年1月调度")
        owner = db.session.get(User, people.institution.id)
        for month, served, activities, revenue, counted in (
            (1, 30, 5, "10.50", True),
            (2, 40, 6, "20.25", True),
            (3, 999, 99, "999", False),
        ):
            db.session.add(
                MonthlyReport(
                    owner_id=owner.id,
                    institution_id=owner.institution.id,
                    round_id=report_round.id,
                    city_code="430100",
                    status="approved" if counted else "submitted",
                    steps_done=[],
                    year=2025,
                    month=month,
                    served_total=served,
                    activities_total=activities,
                    revenue=Decimal(revenue),
                    counted=counted,
                )
            )
        db.session.commit()
    login(client, people.institution.username)
    filing_id = new_draft(client, "institutions")
    text = text_of(page(client.get(f"/awards/institutions/{filing_id}/step/basic")))
    assert (
        "2025年月度调度合计：70 家次" in text
        and "2025年月度调度合计：11 场次" in text
        and "2025年月度调度合计：30.75 万元" in text
    )
    assert "已审核的 2 个月调度数据合计" in text
