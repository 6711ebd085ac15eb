"""Issue 18 in a real browser, JavaScript on and off: typed work survives a session that ended in
another tab, Enter means 下一步, what was saved is said, and 换一张 keeps what was typed."""

import re

from tests.e2e.conftest import snap
from tests.e2e.flows import log_in
from tests.factories import PASSWORD, make_institution, make_round

BASIC = {
    "registered_capital": "500",
    "total_assets": "1200.50",
    "facilities_value": "300",
    "equipment_count": "25",
    "floor_area": "800",
    "equipment_ratio": "50%",
    "own_area_ratio": "60",
}
INTRO = "本中心为中小企业提供政策咨询、融资对接和管理培训服务。" * 20


def test_typed_work_survives_a_logout_in_another_tab(web, app):
    with app.app_context():
        make_round("application", year=2026, title="2026年核心服务机构申报")
        username = make_institution(name="浏览器体验测试机构").username
    log_in(web, username, PASSWORD)
    web.goto("/applications/")
    web.click("button:has-text('机构申报')")
    web.wait_for_url(re.compile(r"/step/basic$"))
    for name, value in BASIC.items():
        web.fill(f"[name={name}]", value)
    web.check("input[name=site_nature][value=自有]")
    web.fill("[name=intro]", INTRO)
    assert "（要求" not in web.inner_text("#field-intro")  # no lower limit here
    # 退出 in another tab of the same browser
    other = web.context.new_page()
    other.goto("/")
    other.click(".userbar button:has-text('退出')")
    other.wait_for_selector(".userbar >> text=登录")
    other.close()

    web.click("button:has-text('下一步')")
    web.wait_for_url(re.compile(r"/auth/login\?next="))
    notice = web.inner_text(".flashes")
    assert "您已退出登录或登录已过期" in notice and "已暂存" in notice
    snap(web, "login-after-session-ended")
    web.fill("[name=username]", username)
    web.fill("[name=password]", PASSWORD)
    web.fill("[name=captcha]", "TEST")
    web.press("[name=captcha]", "Enter")  # Enter means 登录, not 换一张
    web.wait_for_url(re.compile(r"/step/basic\?restore="))
    assert "已恢复您在登录过期前填写的内容" in web.inner_text(".flashes")
    assert web.input_value("[name=intro]") == INTRO
    assert web.input_value("[name=equipment_ratio]") == "50%"
    snap(web, "step-restored")

    # Enter in a field is 下一步 (not 导出 or 保存草稿); the next step says what was saved
    web.press("[name=registered_capital]", "Enter")
    web.wait_for_url(re.compile(r"/step/operations$"))
    assert re.search(r"“基本信息”已保存 \d\d:\d\d", web.inner_text("main"))
    assert "（已完成）" in web.locator(".tabs li").first.inner_text()
    snap(web, "step-saved")


def test_captcha_refresh_keeps_what_was_typed(web):
    web.goto("/auth/forgot-password")
    web.fill("[name=username]", "someone@example.com")
    web.fill("[name=phone]", "13800000000")
    before = web.get_attribute("#captcha-img-forgot", "src")
    web.click("button:has-text('看不清？换一张')")
    if web.js:
        web.wait_for_function(f"() => document.querySelector('#captcha-img-forgot').getAttribute('src') !== {before!r}")
    else:
        web.wait_for_load_state()
    assert web.url.endswith("/auth/forgot-password")
    assert web.input_value("[name=username]") == "someone@example.com"
    assert web.input_value("[name=phone]") == "13800000000"
    assert web.locator(".error-summary").count() == 0
    snap(web, "forgot-captcha-refreshed")


def test_idle_warning_comes_in_time_and_continue_keeps_the_session(web, app):
    """The server notes activity at most once a minute, so a session can end a minute before the
    idle timeout has passed since the page was loaded: the warning must come 3 minutes ahead
    (with the default 30 minutes: after 27), and 继续 keeps the session."""
    with app.app_context():
        username = make_institution(name="闲置提醒测试机构").username
    log_in(web, username, PASSWORD)
    if web.js:
        web.clock.install()
    web.goto("/workspace/")
    if not web.js:  # without JavaScript nothing warns; a submit after the timeout keeps the input
        assert web.locator(".idle-warning").count() == 0
        return
    web.clock.fast_forward("26:50")
    assert web.locator(".idle-warning").count() == 0 or not web.locator(".idle-warning").is_visible()
    web.clock.fast_forward("00:20")  # 27:10 after the page: at least 2 minutes are left
    warning = web.locator(".idle-warning")
    assert warning.is_visible() and "2 至 3 分钟后过期" in warning.inner_text()
    snap(web, "idle-warning")
    with web.expect_response(re.compile(r"/auth/session/keep-alive")) as answer:
        warning.locator("button:has-text('继续')").click()
    assert answer.value.status == 204
    web.wait_for_function("() => document.querySelector('.idle-warning').hidden")
    web.clock.fast_forward("27:10")  # warned again, and after the timeout told it has ended
    assert warning.is_visible()
    web.clock.fast_forward("03:00")
    assert "登录已过期" in warning.inner_text()
    assert not warning.locator("button").is_visible()
