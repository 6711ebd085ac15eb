"""保存草稿 in 基础数据填报 (issue 18, item 2): a half-filled month is saved as typed (categories
too), is not complete, and 下一步 and 提交 still ask for everything."""

import io
import re

from app.blueprints.reports.models import MonthlyReport
from app.extensions import db
from tests.helpers import login, page, text_of
from tests.reports.test_flow import PDF, new_report


def stored(app, report_id):
    with app.app_context():
        report = db.session.get(MonthlyReport, report_id)
        rows = {row.category_name: (row.activities, row.participants, row.served) for row in report.activities}
        db.session.expunge(report)
        return report, rows


def test_a_half_filled_month_is_saved_as_a_draft_but_not_complete(client, app, people):
    login(client, people.institution.username)
    report_id = new_report(client)
    url = f"/reports/{report_id}/step/basic"
    cat = people.cat["融资服务"]
    partial = {
        "institution_type_id": str(people.type_id),
        "floor_area": "500",
        "staff_count": "20",
        f"cat{cat}_activities": "3",
        f"cat{cat}_served": "12",
    }
    response = client.post(url, data=dict(partial, save_draft="1"))
    assert response.status_code == 303 and response.headers["Location"].endswith("/step/basic")
    report, rows = stored(app, report_id)
    assert report.floor_area == 500 and report.staff_count == 20 and report.institution_type_id == people.type_id
    assert report.service_assets is None and report.revenue is None and report.site_type is None
    assert rows["融资服务"] == (3, 0, 12) and report.activities_total == 3 and report.served_total == 12
    assert report.steps_done == [] and report.status == "draft"

    soup = page(client.get(response.headers["Location"]))
    assert re.search(
        r"“基本信息”已保存草稿 \d\d:\d\d，尚有 7 项必填内容未填写完整", text_of(soup.select_one(".flashes"))
    )
    assert soup.select_one(".tabs li.tab-done") is None
    assert soup.select_one("#floor_area")["value"] == "500.00"
    assert soup.select_one(f"#cat{cat}_activities")["value"] == "3"

    # 附件材料上传 opened early redirects; 下一步 and 提交 still refuse
    response = client.get(f"/reports/{report_id}/attachments")
    assert response.status_code == 302 and response.headers["Location"].endswith("/step/basic")
    soup = page(client.post(url, data=partial), 422)
    assert "请输入服务资产(万元)。" in text_of(soup)
    response = client.post(f"/reports/{report_id}/submit")
    assert response.headers["Location"].endswith("/step/basic")
    assert stored(app, report_id)[0].status == "draft"

    # a wrong figure is refused in a draft too, and nothing is saved
    soup = page(client.post(url, data=dict(partial, staff_count="二十", bachelor_count="5", save_draft="1")), 422)
    assert "请输入整数。" in text_of(soup) and "请输入服务资产" not in text_of(soup)
    soup = page(client.post(url, data=dict(partial, bachelor_count="25", save_draft="1")), 422)
    assert "本科人数不能超过服务人员数。" in text_of(soup)
    report, _ = stored(app, report_id)
    assert report.staff_count == 20 and report.bachelor_count is None

    # the rest typed in later: 下一步 completes the step, and the month can be submitted
    assert client.post(url, data=people.data(**{f"cat{cat}_activities": "3"})).status_code == 303
    data = {"files": [(io.BytesIO(PDF), "工作总结.pdf")]}
    assert (
        client.post(f"/reports/{report_id}/attachments", data=data, content_type="multipart/form-data").status_code
        == 303
    )
    assert client.post(f"/reports/{report_id}/submit").status_code == 303
    assert stored(app, report_id)[0].status == "submitted"


def test_a_draft_with_htmx_stays_on_the_step_with_the_note(client, app, people):
    login(client, people.institution.username)
    report_id = new_report(client)
    response = client.post(
        f"/reports/{report_id}/step/basic",
        data={"institution_type_id": str(people.type_id), "revenue": "150.25", "save_draft": "1"},
        headers={"HX-Request": "true"},
    )
    soup = page(response, fragment=True)
    assert "HX-Push-Url" not in response.headers
    note = soup.select_one(".saved-note").get_text()
    assert "“基本信息”已保存草稿" in note and "点击“下一步”前需补全" in note
    assert soup.select_one("#revenue")["value"] == "150.25"
    assert stored(app, report_id)[0].revenue == 150.25


def test_the_attachment_tab_is_done_by_the_count_of_files(client, app, people):
    """The step tabs count the files without loading them (one count statement), and read the
    loaded list's length when a page has the files already."""
    from sqlalchemy import event

    from app.blueprints.reports.wizard import wizard as reports_wizard
    from app.filings import services

    login(client, people.institution.username)
    report_id = new_report(client)
    url = f"/reports/{report_id}/step/basic"
    assert client.post(url, data=people.data()).status_code == 303

    def tabs_done():
        return [text_of(li) for li in page(client.get(url)).select(".tabs li.tab-done")]

    assert not any("附件材料上传" in t for t in tabs_done())
    data = {"files": [(io.BytesIO(PDF), "工作总结.pdf")]}
    response = client.post(f"/reports/{report_id}/attachments", data=data, content_type="multipart/form-data")
    assert response.status_code == 303
    assert any("附件材料上传" in t for t in tabs_done())
    with app.app_context():
        report = db.session.get(MonthlyReport, report_id)
        assert "attachments" not in report.__dict__
        assert services.attachment_count(report) == 1  # counted
        assert "attachments" not in report.__dict__
        assert len(report.attachments) == 1 and services.attachment_count(report) == 1  # the loaded list
        db.session.delete(report.attachments[0])
        db.session.flush()
        db.session.expire(report, ["attachments"])
        assert services.attachment_count(report) == 0
        db.session.rollback()
        db.session.expunge_all()
        # a page of one filing reads the count with it: no statement of its own
        report = services.owned_filing_or_none(reports_wizard, report_id, people.institution)
        assert report.attachments_counted == 1
        statements = []

        def note(_conn, _cursor, statement, *_args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", note)
        try:
            assert services.attachment_count(report) == 1
            assert statements == []
            assert services.attachment_count(report, fresh=True) == 1 and len(statements) == 1  # the submit check
        finally:
            event.remove(db.engine, "before_cursor_execute", note)
