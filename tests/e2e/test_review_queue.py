"""The review queue at scale in a real browser, JavaScript on and off (issue 14, item 4): the page
fits 1366 px, the 报送情况 filter keeps 逾期报送 rows only, 全选本页 and 已选 N 项 with JavaScript,
and 通过所选 without it; the page says how many were approved. 导出Excel lands on its job's page
and downloads the file."""

import io
import re
from datetime import timedelta

from tests.e2e.conftest import snap
from tests.e2e.flows import log_in
from tests.factories import PASSWORD, make_city_admin, make_institution
from tests.reports.conftest import make_report, recognise, report_round


def test_filter_select_and_approve_from_the_queue(web, app):
    with app.app_context():
        from app.utils import local_today

        today = local_today()
        round_id = report_round(today.year, today.month, closes_on=today + timedelta(days=5)).id
        for n in range(4):
            owner = make_institution(
                name=f"队列测试服务机构{n}号有限责任公司", city_code="430100", county_code="430102"
            )
            recognise(owner.institution.id)
            make_report(owner.id, round_id, status="submitted", late=n < 3)
        city = make_city_admin("430100").username

    log_in(web, city, PASSWORD)
    web.goto("/reports/review")
    width = web.evaluate("document.documentElement.scrollWidth")
    assert width <= 1366, width
    snap(web, "review-queue")
    assert web.locator("table.list.queue tbody tr").count() == 4

    web.select_option("select[name=late]", "1")
    web.click("form.filters button:has-text('查询')")
    web.wait_for_url(re.compile(r"late=1"))
    rows = web.locator("table.list.queue tbody tr")
    assert rows.count() == 3
    assert web.locator("table.list.queue tbody tr", has_text="逾期报送").count() == 3

    if web.js:
        count = web.locator("[data-selected-count]")
        assert count.inner_text() == "已选 0 项"
        web.check("input[name=ids] >> nth=0")
        assert count.inner_text() == "已选 1 项"
        web.check("label.select-all input")
        assert count.inner_text() == "已选 3 项"
        web.uncheck("input[name=ids] >> nth=2")
        assert count.inner_text() == "已选 2 项"
        assert web.evaluate("document.querySelector('[data-select-all]').indeterminate")
        snap(web, "review-queue-selected")
    else:
        assert not web.locator("label.select-all").is_visible()
        assert not web.locator("[data-selected-count]").is_visible()
        web.check("input[name=ids] >> nth=0")
        web.check("input[name=ids] >> nth=1")
    web.fill("form.batch input[name=comment]", "材料齐全，同意")
    web.click("button:has-text('通过所选')")
    web.wait_for_url(re.compile(r"/reports/review\?.*late=1"))
    assert "已通过 2 项核心服务机构调度数据" in web.inner_text("main")
    # still the filtered queue (待审核, 逾期报送): the one late report left to decide
    assert web.locator("select[name=late] option[selected]").get_attribute("value") == "1"
    assert web.locator("input[name=ids]").count() == 1


def test_export_from_the_queue_lands_on_the_job_page_and_downloads(web, app):
    """导出Excel (CSRF on, as in production) starts the export job; its page offers the file."""
    from openpyxl import load_workbook

    with app.app_context():
        from app.utils import local_today

        today = local_today()
        round_id = report_round(today.year, today.month, closes_on=today + timedelta(days=5)).id
        for n in range(3):
            owner = make_institution(name=f"导出测试服务机构{n}号", city_code="430100", county_code="430102")
            make_report(owner.id, round_id, status="submitted" if n else "approved")
        city = make_city_admin("430100").username

    log_in(web, city, PASSWORD)
    web.goto("/reports/review?status=")
    web.click("button:has-text('导出Excel')")
    web.wait_for_url(re.compile(r"/jobs/\d+$"))
    assert "已完成" in web.locator("#job-progress").inner_text()
    snap(web, "queue-export-job")
    with web.expect_download() as download:
        web.click("a:has-text('下载')")
    assert download.value.suggested_filename.endswith(".xlsx")
    with open(download.value.path(), "rb") as file:  # no extension on disk: openpyxl is given the bytes
        rows = list(load_workbook(io.BytesIO(file.read()), read_only=True).active.iter_rows(values_only=True))
    assert sorted(row[3] for row in rows[1:]) == [f"导出测试服务机构{n}号" for n in range(3)]
    web.click("a:has-text('返回')")
    web.wait_for_url(re.compile(r"/reports/review\?"))
