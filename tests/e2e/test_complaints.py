"""Issue 6 in a real browser, with JavaScript on and off: file a complaint (the SMS code read from
the outbox), look it up, a province admin accepts and transfers it, the city admin closes it with
a result, the complainant reads the result and rates it."""

import re
from datetime import timedelta

from app.extensions import db
from tests import sms_capture
from tests.e2e.conftest import snap
from tests.e2e.flows import log_in
from tests.factories import PASSWORD, make_city_admin, make_province_admin

PHONE = "13877776666"


def sms_code(app, phone=PHONE):
    text = sms_capture.delivered(phone)[-1]  # stored masked; the outbox's log line has it
    return re.search(r"验证码 (\d{6})", text).group(1)


def second_browser(web, live_server):
    context = web.context.browser.new_context(
        java_script_enabled=web.js, base_url=live_server, viewport={"width": 1366, "height": 900}, locale="zh-CN"
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    tab.js = web.js
    return tab


def open_complaint(tab, ticket):
    tab.goto("/complaints/admin")
    tab.click(f"#results tr:has-text('{ticket}') >> text=处理")
    tab.wait_for_url(re.compile(r"/complaints/admin/\d+$"))


def test_file_look_up_handle_and_rate(web, live_server, app, monkeypatch):
    # Filing and looking up within the same minute would hit the 1-per-minute SMS rule.
    monkeypatch.setitem(app.config, "SMS_SEND_INTERVAL", timedelta(0))
    with app.app_context():
        make_province_admin(username="sheng")
        make_city_admin(city_code="430100", username="changsha")
        db.session.remove()

    # 企业投诉入口 → 投诉登记
    web.goto("/")
    web.click("text=企业投诉入口")
    assert web.locator("h1").first.inner_text() == "投诉登记"
    web.fill("#company_name", "长沙浏览器测试科技有限公司")
    web.fill("#contact_name", "王经理")
    web.fill("#phone", PHONE)
    web.fill("#respondent_name", "某某中小企业服务中心")
    web.select_option("#respondent_city_code", "430100")
    web.fill("#respondent_address", "长沙市岳麓区麓谷大道 100 号")
    web.fill("#respondent_contact", "李主任")
    web.fill("#respondent_phone", "0731-88888888")
    web.fill("#content", "签订服务协议后对方收取服务费但未提供约定的融资对接服务，请求督促退还费用。")
    web.set_input_files(
        "#evidence", files=[{"name": "服务协议.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 e2e"}]
    )
    web.fill("#captcha", "TEST")
    web.click("button:has-text('下一步')")
    web.wait_for_url(re.compile(r"/complaints/confirm$"))
    assert "138****6666" in web.inner_text("main")
    web.fill("#sms_code", sms_code(app))
    web.click("button:has-text('确认提交')")
    web.wait_for_url(re.compile(r"/complaints/done$"))
    ticket = web.inner_text(".ticket-no").strip()
    assert re.fullmatch(r"TS\d{8}-0001", ticket)
    snap(web, "complaint-receipt")

    # 处理结果 right after filing: the phone was just verified, so no second code (issue 18 item 7)
    web.click("text=查询处理结果")
    web.wait_for_url(re.compile(r"/complaints/results/list$"))
    assert PHONE not in web.url
    # after 退出查询 the phone + captcha → SMS code → the list
    web.click("button:has-text('退出查询')")
    web.goto("/complaints/results")
    web.fill("#phone", PHONE)
    web.fill("#captcha", "TEST")
    web.click("button:has-text('获取短信验证码')")
    web.wait_for_url(re.compile(r"/complaints/results/verify$"))
    web.fill("#sms_code", sms_code(app))
    web.click("main button:has-text('查询')")
    web.wait_for_url(re.compile(r"/complaints/results/list$"))
    card = web.inner_text(f".complaint-card:has-text('{ticket}')")
    assert "待受理" in card and "某某中小企业服务中心" in card

    # The province admin accepts and transfers to 长沙市.
    admin = second_browser(web, live_server)
    log_in(admin, "sheng", PASSWORD)
    open_complaint(admin, ticket)
    admin.click("form.action-form button:has-text('受理')")
    admin.wait_for_selector(".flash-success")
    admin.click("form.action-form button:has-text('转办')")
    admin.wait_for_selector(".flash-success")
    assert "已转办" in admin.inner_text(".panel-title")
    admin.context.close()

    # The 长沙市 city admin starts and closes it with a result.
    city = second_browser(web, live_server)
    log_in(city, "changsha", PASSWORD)
    open_complaint(city, ticket)
    city.click("form.action-form button:has-text('开始处理')")
    city.wait_for_selector(".flash-success")
    city.fill("#close-result", "经调查，该机构已同意退还服务费，并已完成退款。")
    city.click("form.action-form button:has-text('办结')")
    city.wait_for_selector(".flash-success")
    assert "已办结" in city.inner_text(".panel-title")
    city.context.close()

    # The complainant reads the result and rates it.
    web.goto("/complaints/results/list")
    card = web.locator(f".complaint-card:has-text('{ticket}')")
    assert "已完成退款" in card.inner_text() and "已办结" in card.inner_text()
    snap(web, "complaint-result")
    card.locator("label:has-text('基本满意') input").check()
    card.locator("button:has-text('提交评价')").click()
    web.wait_for_selector(".flash-success")
    assert "感谢您的评价" in web.inner_text(".flash-success")
    assert "基本满意" in web.inner_text(f".complaint-card:has-text('{ticket}')")
