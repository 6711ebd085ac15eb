"""Deadline day in a real browser, JavaScript on and off: two tabs on one draft (the stale one is
told what changed and keeps what it typed), a double-clicked 提交 that lands on its success, and a
reviewer who lost the race reading who decided."""

import re

from tests.e2e.conftest import snap
from tests.e2e.flows import log_in
from tests.factories import PASSWORD, make_city_admin, make_institution
from tests.reports.conftest import basic_data, recognise, report_round

PDF = b"%PDF-1.4\n%deadline day\n"


def _institution(app):
    with app.app_context():
        import sqlalchemy as sa

        from app.extensions import db
        from app.reference.models import InstitutionType
        from app.utils import local_today

        today = local_today()
        report_round(today.year, today.month)
        institution = make_institution(name="截止日测试机构", city_code="430100", county_code="430102")
        recognise(institution.institution.id)
        type_id = db.session.scalar(sa.select(InstitutionType.id).where(InstitutionType.name == "综合服务机构"))
        return institution.username, type_id


def _fill_basic(tab, type_id):
    tab.check(f"input[name=institution_type_id][value='{type_id}']")
    for name, value in basic_data(type_id).items():
        if name not in ("institution_type_id", "site_type", "anomaly_note"):
            tab.fill(f"[name={name}]", value)
    tab.check("input[name=site_type][value='自有']")


def test_a_stale_tab_is_told_what_changed_and_keeps_its_input(web, app):
    username, type_id = _institution(app)
    log_in(web, username, PASSWORD)
    web.goto("/reports/")
    web.click("button:has-text('基础数据填报') >> nth=0")
    web.wait_for_url(re.compile(r"/reports/\d+/step/basic$"))
    _fill_basic(web, type_id)
    web.click("button:has-text('下一步')")
    web.wait_for_url(re.compile(r"/attachments$"))
    step_url = web.url.replace("/attachments", "/step/basic")

    # two tabs of the same person open the saved draft
    other = web.context.new_page()
    other.js = web.js
    other.goto(step_url)
    web.goto(step_url)
    web.fill("[name=staff_count]", "77")
    web.click("button:has-text('下一步')")
    web.wait_for_url(re.compile(r"/attachments$"))

    other.fill("[name=revenue]", "999.00")
    other.click("button:has-text('下一步')")
    other.wait_for_selector("#edit-conflict")
    box = other.inner_text("#edit-conflict")
    assert "已被保存过" in box and "服务人员数" in box and "77" in box
    assert other.input_value("[name=revenue]") == "999.00"  # what this tab typed is kept
    snap(other, "deadline-edit-conflict")
    other.click("button:has-text('下一步')")  # keep mine
    other.wait_for_url(re.compile(r"/attachments$"))
    other.goto(step_url)
    assert other.input_value("[name=revenue]") == "999.00"
    assert other.input_value("[name=staff_count]") == "20"  # "keep mine" keeps the whole form, as shown
    other.close()


def test_a_double_clicked_submit_lands_on_its_success(web, app):
    username, type_id = _institution(app)
    log_in(web, username, PASSWORD)
    web.goto("/reports/")
    web.click("button:has-text('基础数据填报') >> nth=0")
    web.wait_for_url(re.compile(r"/reports/\d+/step/basic$"))
    _fill_basic(web, type_id)
    web.click("button:has-text('下一步')")
    web.wait_for_url(re.compile(r"/attachments$"))
    web.set_input_files(
        "input[type=file]", files=[{"name": "工作总结.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    web.click("button:has-text('上传')")
    web.wait_for_selector("text=工作总结.pdf")
    web.dblclick("button:has-text('提交')")
    web.wait_for_url(re.compile(r"/reports/$"))
    web.wait_for_selector(".flash")
    text = web.inner_text("main")
    assert "已提交，请等待审核" in text and "当前状态下不能执行该操作" not in text
    snap(web, "deadline-double-submit")


def test_the_reviewer_who_lost_the_race_reads_who_decided(web, app):
    username, type_id = _institution(app)
    with app.app_context():
        first, second = make_city_admin("430100").username, make_city_admin("430100").username
    log_in(web, username, PASSWORD)
    web.goto("/reports/")
    web.click("button:has-text('基础数据填报') >> nth=0")
    web.wait_for_url(re.compile(r"/reports/\d+/step/basic$"))
    report_id = int(re.search(r"/reports/(\d+)/", web.url).group(1))
    _fill_basic(web, type_id)
    web.click("button:has-text('下一步')")
    web.wait_for_url(re.compile(r"/attachments$"))
    web.set_input_files(
        "input[type=file]", files=[{"name": "工作总结.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    web.click("button:has-text('上传')")
    web.wait_for_selector("text=工作总结.pdf")
    web.click("button:has-text('提交')")
    web.wait_for_url(re.compile(r"/reports/$"))

    # the second reviewer opens the review page; the first approves meanwhile (another browser)
    web.context.clear_cookies()
    log_in(web, second, PASSWORD)
    web.goto(f"/reports/{report_id}/review")
    rival = web.context.browser.new_context(base_url=web.url.split("/reports")[0], java_script_enabled=web.js)
    tab = rival.new_page()
    log_in(tab, first, PASSWORD)
    tab.goto(f"/reports/{report_id}/review")
    tab.click("#decision button[type=submit]")
    tab.wait_for_url(re.compile(r"/reports/review$"))
    rival.close()

    web.click("#decision button[type=submit]")
    web.wait_for_selector("#decision .warning-box")
    text = web.inner_text("#decision")
    assert "已由市级审核人员" in text and "当前状态为“已通过”" in text
    snap(web, "deadline-review-lost-race")
