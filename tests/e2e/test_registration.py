"""Registration that prevents later trouble (issue 18, item 6), JavaScript on and off: a landline
电话 needs a 手机 for SMS codes, and a 机构代码 / 单位性质 mismatch is confirmed before the account exists."""

import re

from tests.e2e.conftest import snap
from tests.e2e.flows import PASSWORD, pick_region, valid_uscc


def test_a_landline_needs_a_mobile_and_a_mismatch_is_confirmed_first(web):
    username = f"confirm-{'js' if web.js else 'nojs'}@example.com"
    web.goto("/auth/register/institution/social")
    web.fill("[name=username]", username)
    web.fill("[name=password]", PASSWORD)
    web.fill("[name=confirm]", PASSWORD)
    web.check("input[name=unit_nature_id] >> nth=1")  # 事业单位: its codes start 12, this one 91
    web.select_option("select[name=platform_id]", label="长沙市中小企业公共服务平台")
    web.fill("[name=name]", f"湖南确认测试服务中心{'js' if web.js else 'nojs'}")
    web.fill("[name=uscc]", valid_uscc(7100 + (1 if web.js else 2)))
    web.fill("[name=contact]", "赵测试")
    web.fill("[name=phone]", "0731-88886666")
    pick_region(web)
    web.click("button:has-text('立即注册')")
    # a landline and no mobile: said beside 手机, what was typed kept
    web.wait_for_selector("#field-mobile .error-message")
    assert "电话为固定电话时，请填写手机号码" in web.inner_text("#field-mobile .error-message")
    assert web.input_value("[name=phone]") == "0731-88886666"
    web.fill("[name=mobile]", "13700001234")
    if not web.input_value("[name=password]"):  # a page with an error asks for the password again
        web.fill("[name=password]", PASSWORD)
        web.fill("[name=confirm]", PASSWORD)
    web.click("button:has-text('立即注册')")
    # the mismatch: shown before the account exists, passwords kept, confirmed with one click
    web.wait_for_selector("#confirm-summary")
    assert "帐户尚未创建" in web.inner_text("#confirm-summary")
    assert "通常的 12 开头不一致" in web.inner_text("#field-uscc .warning-message")
    assert web.input_value("[name=password]") == PASSWORD and web.input_value("[name=mobile]") == "13700001234"
    snap(web, "register-confirm")
    web.click("button:has-text('确认无误，立即注册')")
    web.wait_for_url(re.compile(r"/workspace/"))
    assert "注册成功" in web.inner_text("main")
