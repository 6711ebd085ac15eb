"""基础数据填报 through the engine (manual 4(1)-(4)): labels, validation, uniqueness, prefill, review."""

import io
import re

import sqlalchemy as sa
from docx import Document

from app.blueprints.reports.models import MonthlyReport
from app.extensions import db
from app.filings.models import ReviewEvent
from app.inbox import Message
from tests.helpers import login, page, text_of
from tests.reports.conftest import make_report, report_round

PDF = b"%PDF-1.4\n%test\n"


def new_report(client, round_id=None):
    response = client.post("/reports/new", data={"round_id": round_id} if round_id else {})
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    match = re.search(r"/reports/(\d+)/step/basic", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def fill(client, people, report_id, **overrides):
    response = client.post(f"/reports/{report_id}/step/basic", data=people.data(**overrides))
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]


def upload_and_submit(client, report_id):
    data = {"files": [(io.BytesIO(PDF), "工作总结.pdf")]}
    assert (
        client.post(f"/reports/{report_id}/attachments", data=data, content_type="multipart/form-data").status_code
        == 303
    )
    return client.post(f"/reports/{report_id}/submit")


def test_list_page_has_the_manual_labels(client, people):
    login(client, people.institution.username)
    soup = page(client.get("/reports/"))
    text = text_of(soup)
    assert "核心服务机构调度数据" in text  # side menu item and title
    assert soup.find("button", string="基础数据填报") is not None
    assert "基础数据 / 核心服务机构调度管理" in text_of(soup.find(class_="breadcrumb"))
    assert "当前显示第 1 页 共 0 条记录" in text
    assert f"{people.year}年{people.month}月" in text  # the 调度期 table


def test_the_step_reads_like_the_manual(client, app, people):
    login(client, people.institution.username)
    report_id = new_report(client)
    soup = page(client.get(f"/reports/{report_id}/step/basic"))
    text = text_of(soup)
    assert "基础数据 / 核心服务机构调度管理 / 新增基础数据填报" in text_of(soup.find(class_="breadcrumb"))
    assert [t.get_text(strip=True) for t in soup.select(".tabs li")] == ["基本信息", "附件材料上传"]
    for label in (
        "机构名称",
        "机构代码",
        "填报年度",
        "月份",
        "机构类型",
        "服务场所",
        "服务资产",
        "服务场所类型",
        "服务人员数",
        "本科人数",
        "中级职称人数",
        "营业收入",
        "服务支出",
        "利润总额",
        "政策服务活动数",
        "引才育才服务活动数",
        "参与企业数",
        "服务企业数",
    ):
        assert label in text, label
    assert soup.find(id="ro-name")["value"] == "长沙调度测试机构" and soup.find(id="ro-name").has_attr("readonly")
    assert soup.find(id="ro-year")["value"] == str(people.year) and soup.find(id="ro-month")["value"] == str(
        people.month
    )
    assert "“一对一”精准服务企业的数量" in text
    box = soup.find("h2", string="工作总结上报模板").parent
    assert (
        box.find("button", string="点击这里, 导出工作总结上报模板")["formaction"]
        == f"/reports/{report_id}/work-summary.docx"
    )
    assert "平方米" in text and "万元" in text and "家次" in text


def test_validation_messages_keep_the_input_and_save_nothing(client, app, people):
    login(client, people.institution.username)
    report_id = new_report(client)
    policy = people.cat["政策服务"]
    bad = people.data(
        staff_count="10",
        bachelor_count="11",
        intermediate_count="12",
        revenue="100",
        profit="120",
        floor_area="1.234",
        service_assets="-5",
        **{f"cat{policy}_activities": "-1", f"cat{policy}_served": "2.5"},
    )
    soup = page(client.post(f"/reports/{report_id}/step/basic", data=bad), status=422)
    text = text_of(soup)
    assert "本科人数不能超过服务人员数" in text
    assert "中级职称人数不能超过服务人员数" in text
    assert "利润总额不能超过营业收入" in text
    assert "最多保留两位小数" in text and "不能为负数" in text and "请输入整数" in text
    assert soup.find(class_="error-summary") is not None
    assert soup.find("input", {"name": "bachelor_count"})["value"] == "11"
    with app.app_context():
        report = db.session.get(MonthlyReport, report_id)
        assert report.steps_done == [] and report.staff_count is None


def test_negative_profit_and_more_participants_than_served_are_fine(client, app, people):
    login(client, people.institution.username)
    report_id = new_report(client)
    policy = people.cat["政策服务"]
    fill(
        client,
        people,
        report_id,
        profit="-20.50",
        **{f"cat{policy}_activities": "3", f"cat{policy}_participants": "40", f"cat{policy}_served": "6"},
    )
    with app.app_context():
        report = db.session.get(MonthlyReport, report_id)
        assert str(report.profit) == "-20.50"
        row = next(r for r in report.activities if r.category_name == "政策服务")
        assert (row.activities, row.participants, row.served) == (3, 40, 6)
        assert (report.activities_total, report.participants_total, report.served_total) == (3, 40, 6)
        assert all(r.activities == 0 for r in report.activities if r.category_name != "政策服务")  # blank counts as 0


def test_htmx_step_answers_with_the_next_fragment(client, people):
    login(client, people.institution.username)
    report_id = new_report(client)
    response = client.post(f"/reports/{report_id}/step/basic", data=people.data(), headers={"HX-Request": "true"})
    soup = page(response, fragment=True)
    assert response.headers["HX-Push-Url"].endswith(f"/reports/{report_id}/attachments")
    assert "允许上传" in text_of(soup)


def test_one_report_per_month_with_a_link_to_the_existing_one(client, people):
    login(client, people.institution.username)
    report_id = new_report(client)
    response = client.post("/reports/new", data={"round_id": people.round_id}, follow_redirects=True)
    soup = page(response)
    # a draft: the message says it is not submitted yet and leads back into it
    assert "本期已有一份尚未提交的" in text_of(soup)
    assert soup.find("a", href=f"/reports/{report_id}/step/basic", string="继续填写草稿") is not None


def test_an_institution_without_recognition_cannot_file(client, people):
    login(client, people.stranger.username)
    soup = page(client.get("/reports/"))
    assert soup.find("button", string="基础数据填报").has_attr("disabled")
    assert "不在" in text_of(soup) and "核心服务机构名单内" in text_of(soup)
    response = client.post("/reports/new", follow_redirects=True)
    assert "核心服务机构名单内" in response.get_data(as_text=True)


def test_several_open_months_can_be_chosen(client, app, people):
    with app.app_context():
        earlier = report_round(people.year - 1, 12).id
    login(client, people.institution.username)
    soup = page(client.get("/reports/"))
    options = [o["value"] for o in soup.select("select[name=round_id] option")]
    assert str(earlier) in options and str(people.round_id) in options
    report_id = new_report(client, earlier)
    with app.app_context():
        assert db.session.get(MonthlyReport, report_id).month == 12


def test_stock_figures_come_from_last_month(client, app, people):
    with app.app_context():
        year, month = (people.year, people.month - 1) if people.month > 1 else (people.year - 1, 12)
        old = report_round(year, month)
        make_report(
            people.institution.id,
            old.id,
            floor_area=777,
            service_assets=123.45,
            staff_count=33,
            bachelor_count=20,
            intermediate_count=9,
            site_type="租用",
            revenue=999,
        )
    login(client, people.institution.username)
    report_id = new_report(client, people.round_id)
    soup = page(client.get(f"/reports/{report_id}/step/basic"))
    assert soup.find("input", {"name": "floor_area"})["value"] == "777.00"
    assert soup.find("input", {"name": "staff_count"})["value"] == "33"
    assert soup.find("input", {"name": "site_type", "value": "租用"}).has_attr("checked")
    assert soup.find("input", {"name": "revenue"}).get("value", "") == ""  # flows are not carried over


def test_an_anomaly_needs_a_one_line_explanation_shown_to_reviewers(client, app, people):
    with app.app_context():
        year, month = (people.year, people.month - 1) if people.month > 1 else (people.year - 1, 12)
        old = report_round(year, month)
        make_report(people.institution.id, old.id, categories={"政策服务": (5, 10, 5)})
        policy = people.cat["政策服务"]
    login(client, people.institution.username)
    report_id = new_report(client, people.round_id)
    jump = {f"cat{policy}_activities": "40", f"cat{policy}_participants": "10", f"cat{policy}_served": "5"}
    soup = page(client.post(f"/reports/{report_id}/step/basic", data=people.data(**jump)), status=422)
    assert "政策服务活动数 上月 5，本月 40" in text_of(soup) and "请用一句话说明原因" in text_of(soup)
    fill(client, people, report_id, anomaly_note="本月承办全省政策宣讲周，活动集中。", **jump)
    assert upload_and_submit(client, report_id).status_code == 303
    login(client, people.city.username)
    text = text_of(page(client.get(f"/reports/{report_id}/review")))
    assert "本月承办全省政策宣讲周" in text and "与上月相比变化较大" in text


def test_submit_review_return_pinned_and_approve(client, app, people):
    login(client, people.institution.username)
    report_id = new_report(client)
    fill(client, people, report_id)
    assert upload_and_submit(client, report_id).status_code == 303
    # the other 市州's admin does not see it; the own 市州's admin returns it with a pinned field
    login(client, people.other_city.username)
    assert client.get(f"/reports/{report_id}/review").status_code == 404
    login(client, people.city.username)
    soup = page(client.get("/reports/review"))
    assert "长沙调度测试机构" in text_of(soup)
    response = client.post(
        f"/reports/{report_id}/review", data={"action": "return", "comment": "营业收入有误", "pinned": ["revenue"]}
    )
    assert response.status_code == 303
    login(client, people.institution.username)
    soup = page(client.get(f"/reports/{report_id}/step/basic"))
    assert "营业收入有误" in text_of(soup)
    assert "pinned" in soup.find(id="field-revenue")["class"]
    fill(client, people, report_id, revenue="160")
    assert client.post(f"/reports/{report_id}/submit").status_code == 303
    # the province admin may act at the single level; 已通过 locks the report
    login(client, people.province.username)
    assert client.post(f"/reports/{report_id}/review", data={"action": "approve"}).status_code == 303
    with app.app_context():
        report = db.session.get(MonthlyReport, report_id)
        assert report.status == "approved" and report.counted and report.approved_at is not None
        from app.blueprints.reports.models import ReportMonthStat

        stat = db.session.scalar(sa.select(ReportMonthStat))
        assert (stat.city_code, stat.reports, str(stat.revenue)) == ("430100", 1, "160.00")  # counted in the rollup
        assert [
            e.action
            for e in db.session.scalars(
                sa.select(ReviewEvent).where(ReviewEvent.filing_id == report_id).order_by(ReviewEvent.id)
            )
        ] == ["submit", "return", "submit", "approve"]
        assert (
            db.session.scalar(sa.select(sa.func.count(Message.id)).where(Message.user_id == people.institution.id)) == 2
        )
    login(client, people.institution.username)
    response = client.get(f"/reports/{report_id}/step/basic")
    assert response.status_code == 302 and f"/reports/{report_id}" in response.headers["Location"]
    assert "已通过" in text_of(page(client.get("/reports/")))


def test_work_summary_contains_the_figures_just_entered(client, app, people):
    login(client, people.institution.username)
    report_id = new_report(client)
    policy = people.cat["政策服务"]
    # POST: what the page holds now, before 下一步 saved anything
    data = people.data(
        revenue="234.56", staff_count="27", **{f"cat{policy}_activities": "7", f"cat{policy}_served": "13"}
    )
    response = client.post(f"/reports/{report_id}/work-summary.docx", data=data)
    assert response.status_code == 200
    assert response.mimetype.endswith("wordprocessingml.document")
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    document = Document(io.BytesIO(response.data))
    text = "\n".join(p.text for p in document.paragraphs)
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    assert "长沙调度测试机构" in text and f"填报年度：{people.year}年" in text and f"月份：{people.month}月" in text
    assert "234.56" in cells and "27" in cells and "7" in cells and "13" in cells
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert "一、本月主要工作及成效" in headings and "四、下月工作计划" in headings
    with app.app_context():
        assert db.session.get(MonthlyReport, report_id).revenue is None  # nothing saved
    # GET: from the saved report
    fill(client, people, report_id, revenue="88")
    document = Document(io.BytesIO(client.get(f"/reports/{report_id}/work-summary.docx").data))
    assert "88.00" in [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    # another institution's report is not reachable
    login(client, people.other.username)
    assert client.get(f"/reports/{report_id}/work-summary.docx").status_code == 404
