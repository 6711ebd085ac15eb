"""Issue 2 in a real browser: register a 社会服务 account, log out, log in, change the password."""

import re

from tests.e2e.conftest import snap
from tests.e2e.flows import PASSWORD, log_in, log_out, register_institution


def test_register_log_out_log_in_change_password(web):
    username = register_institution(web)
    assert "湖南浏览器测试服务中心" in web.inner_text(".userbar")
    log_out(web)
    assert "登录" in web.inner_text(".userbar")

    # A wrong password says nothing about which part was wrong.
    web.goto("/auth/login")
    web.fill("[name=username]", username)
    web.fill("[name=password]", "Wrong2026pass")
    web.fill("[name=captcha]", "TEST")
    web.click("button:has-text('登录')")
    assert "帐户名称或密码错误" in web.inner_text("main")

    log_in(web, username)
    web.click("text=修改密码")
    web.fill("[name=current_password]", PASSWORD)
    web.fill("[name=new_password]", "Changed2026xyz")
    web.fill("[name=confirm_password]", "Changed2026xyz")
    snap(web, "change-password")
    web.click("button:has-text('确认修改')")
    web.wait_for_selector("text=密码已修改")
    log_out(web)
    log_in(web, username, "Changed2026xyz")
    assert re.search(r"/(workspace|applications)", web.url)
