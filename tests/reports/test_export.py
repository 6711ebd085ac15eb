"""Excel export: one row per report, one column per field and per 服务类别 indicator, streamed."""

import inspect
import io

from openpyxl import load_workbook

from app.blueprints.reports import export
from app.reference.services import SERVICE_CATEGORIES
from tests.helpers import login
from tests.jobs_queue import queue_export
from tests.reports.conftest import make_report, report_round


def _sheet(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype.endswith("spreadsheetml.sheet")
    workbook = load_workbook(io.BytesIO(response.data), read_only=True)
    return [list(row) for row in workbook.active.iter_rows(values_only=True)]


def _reports(app, people):
    with app.app_context():
        feb = report_round(2025, 2).id
        mar = report_round(2025, 3).id
        make_report(people.institution.id, feb, revenue=100.5, profit=-3, categories={"政策服务": (2, 20, 5)})
        make_report(people.institution.id, mar, status="submitted", late=True)
        make_report(people.other.id, feb, status="returned")
        make_report(people.other.id, mar, status="draft")  # drafts are never exported


def test_columns_and_rows(client, app, people):
    _reports(app, people)
    login(client, people.province.username)
    rows = _sheet(queue_export(client, "/reports/export.xlsx?year=2025&month_from=1&month_to=12"))
    header = rows[0]
    assert header[:7] == ["序号", "填报年度", "月份", "机构名称", "机构代码", "所在市州", "所在区县"]
    assert header[7:17] == [
        "机构类型",
        "服务场所(平方米)",
        "服务资产(万元)",
        "服务场所类型",
        "服务人员数(人)",
        "本科人数(人)",
        "中级职称人数(人)",
        "营业收入(万元)",
        "服务支出(万元)",
        "利润总额(万元)",
    ]
    indicators = header[17 : 17 + 3 * len(SERVICE_CATEGORIES)]
    assert indicators[:3] == ["政策服务活动数(场次)", "政策服务参与企业数(家)", "政策服务服务企业数(家次)"]
    assert len(indicators) == 48 and "引才育才服务活动数(场次)" in indicators
    assert header[-7:] == list(export.TAIL_COLUMNS)
    assert len(rows) == 1 + 3
    first = dict(zip(header, rows[1]))
    assert (
        first["机构名称"] == "长沙调度测试机构"
        and first["月份"] == 2
        and first["营业收入(万元)"] == 100.5
        and first["利润总额(万元)"] == -3
    )
    assert (
        first["政策服务活动数(场次)"] == 2 and first["政策服务服务企业数(家次)"] == 5 and first["审核状态"] == "已通过"
    )
    assert dict(zip(header, rows[2]))["报送情况"] == "逾期报送"
    # a month range, a status
    assert len(_sheet(queue_export(client, "/reports/export.xlsx?year=2025&month_from=3&month_to=3"))) == 2
    assert len(_sheet(queue_export(client, "/reports/export.xlsx?year=2025&status=approved"))) == 2


def test_city_admin_exports_its_own_city(client, app, people):
    _reports(app, people)
    login(client, people.city.username)
    rows = _sheet(queue_export(client, "/reports/export.xlsx?year=2025"))
    assert len(rows) == 3 and all(row[3] == "长沙调度测试机构" for row in rows[1:])
    login(client, people.institution.username)
    assert client.get("/reports/export.xlsx").status_code == 403
    assert client.post("/reports/export.xlsx").status_code == 403


def test_rows_are_generated_in_batches(app, people, monkeypatch):
    _reports(app, people)
    monkeypatch.setattr(export, "BATCH", 1)
    with app.test_request_context():
        from tests.reports.conftest import user

        select = export.reports_select(user=user(people.province.username), year=2025)
        generated = export.rows(select, [])
        assert inspect.isgenerator(generated)
        assert [row[0] for row in generated] == [1, 2, 3]


def test_the_review_queue_export_takes_one_period(client, app, people):
    _reports(app, people)
    login(client, people.province.username)
    from app.extensions import db
    from app.filings.models import Round

    with app.app_context():
        feb = db.session.query(Round).filter_by(kind="report", year=2025, month=2).one().id
    assert len(_sheet(queue_export(client, f"/reports/export.xlsx?round_id={feb}"))) == 3


def test_the_review_queue_export_holds_what_the_filtered_queue_shows(client, app, people):
    """调度数据审核's 导出Excel carries the queue's filters (市州, 审核状态, 报送情况, keyword) and
    exports exactly the reports the queue lists with them, in the 调度数据导出 columns."""
    from bs4 import BeautifulSoup

    _reports(app, people)
    login(client, people.province.username)

    def queue_and_export(query):
        soup = BeautifulSoup(client.get(f"/reports/review?{query}").get_data(as_text=True), "html.parser")
        shown = sorted(
            a.get_text(strip=True)
            for a in soup.select("table.list tbody td a")
            if a.get_text(strip=True).endswith("调度测试机构")
        )
        rows = _sheet(queue_export(client, soup=soup))
        header = rows[0]
        exported = sorted(dict(zip(header, row))["机构名称"] for row in rows[1:])
        return shown, exported, rows

    # 逾期报送 among everything: only the late March report of 长沙
    shown, exported, rows = queue_and_export("status=&late=1")
    assert shown == exported == ["长沙调度测试机构"]
    assert dict(zip(rows[0], rows[1]))["报送情况"] == "逾期报送" and dict(zip(rows[0], rows[1]))["月份"] == 3
    # one 市州 and a status
    shown, exported, _ = queue_and_export("status=returned&city_code=430200")
    assert shown == exported == ["株洲调度测试机构"]
    # a keyword that matches nobody: an empty queue exports no rows
    shown, exported, rows = queue_and_export("status=&q=不存在的机构")
    assert shown == exported == [] and len(rows) == 1
    # everything in scope (drafts never): the three reports
    shown, exported, _ = queue_and_export("status=")
    assert len(exported) == 3 and sorted(shown) == sorted(exported)
