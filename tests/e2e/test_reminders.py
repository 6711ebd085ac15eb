"""催报 in a real browser: 发送提醒 once reminds, a second press says it was already done; 上次提醒 shows."""

import os

from app.utils import local_today
from tests.e2e.conftest import SCREENSHOTS, snap
from tests.e2e.flows import log_in
from tests.factories import PASSWORD, make_city_admin, make_institution, make_province_admin
from tests.reports.conftest import make_report, recognise, report_round


def test_remind_twice_then_look(web, app):
    with app.app_context():
        today = local_today()
        round_id = report_round(today.year, today.month).id
        for n, (name, city, county) in enumerate(
            [
                ("长沙星城企业服务中心", "430100", "430102"),
                ("长沙麓山科技服务有限公司", "430100", "430104"),
                ("株洲动力谷创业服务中心", "430200", "430202"),
                ("湘潭高新区中小企业服务站", "430300", "430302"),
            ]
        ):
            u = make_institution(name=name, city_code=city, county_code=county)
            recognise(u.institution.id)
            if n == 1:
                make_report(u.id, round_id, status="draft")
        reported = make_institution(name="长沙已报送机构", city_code="430100", county_code="430102")
        recognise(reported.institution.id)
        make_report(reported.id, round_id, status="submitted")
        city = make_city_admin("430100", display_name="长沙市工信局李四").username
        province = make_province_admin(display_name="省中心张三").username

    if web.js:
        web.on("dialog", lambda dialog: dialog.accept())  # data-confirm asks first
    log_in(web, city, PASSWORD)
    web.goto("/reports/completeness")
    assert "本期尚未发送提醒" in web.inner_text("#reminder-summary")
    web.click("button:has-text('发送提醒')")
    web.wait_for_selector("text=已向 2 家未报送的机构发送提醒")  # the 催报 job's page
    web.click("#job-progress a:has-text('返回')")
    assert "本期已提醒 2 家" in web.inner_text("#reminder-summary") and "（市级，长沙市工信局李四）" in web.inner_text(
        "#reminder-summary"
    )
    web.click(".userbar button:has-text('退出')")

    log_in(web, province, PASSWORD)
    web.goto("/reports/completeness")
    web.click("button:has-text('发送提醒')")
    web.wait_for_selector("text=2 家机构在 24 小时内已提醒过，本次未重复发送")
    assert "已向 2 家未报送的机构发送提醒" in web.inner_text("main")  # 株洲 and 湘潭, not 长沙 again
    web.click("#job-progress a:has-text('返回')")
    main = web.inner_text("main")
    assert "本期已提醒 4 家" in web.inner_text("#reminder-summary") and "（省级，省中心张三）" in web.inner_text(
        "#reminder-summary"
    )
    assert main.count("（市级）") == 2 and main.count("（省级）") == 2
    web.set_viewport_size({"width": 1366, "height": 768})
    snap(web, "report-completeness-reminders")
    if SCREENSHOTS:  # what a 1366x768 screen shows of the list
        web.locator("#missing-title").scroll_into_view_if_needed()
        web.screenshot(path=os.path.join(SCREENSHOTS, f"report-reminders-1366x768-{'js' if web.js else 'nojs'}.png"))
    with web.expect_download() as download:
        web.click("text=导出未报送名单")
    assert download.value.suggested_filename.startswith("未报送机构名单_")
