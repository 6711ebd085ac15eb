"""Steps shared by the browser tests, written as a person would do them."""

import itertools
import re
from urllib.parse import urlparse

from tests.e2e.conftest import snap

PASSWORD = "Hunan2026abc"
_seq = itertools.count(1)


def valid_uscc(n):
    from stdnum.cn import uscc

    body = f"91430100MA{n:07d}"[:17]
    return body + uscc.calc_check_digit(body)


def pick_region(web, city="430100", county="430102"):
    # With JavaScript the 区县 list is replaced by htmx; without it every 区县 is listed already.
    # Wait for the swap itself: a 区县 chosen before it lands is wiped by it (then the required
    # select is empty and the browser refuses to submit the form).
    if web.js:
        with web.expect_response(lambda response: "/regions/counties" in response.url):
            web.select_option("select[name=city_code]", city)
        web.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')")
    else:
        web.select_option("select[name=city_code]", city)
    web.wait_for_selector(f"select[name=county_code] option[value='{county}']", state="attached")
    web.select_option("select[name=county_code]", county)


def register_institution(web, name="湖南浏览器测试服务中心"):
    """注册 → 服务机构注册 → 社会服务注册 → 社会服务帐户注册 → 立即注册. Returns the account name."""
    n = next(_seq) + (0 if web.js else 500)
    username = f"jigou{n}{'js' if web.js else 'nojs'}@example.com"
    web.goto("/")
    web.click(".userbar >> text=注册")
    web.wait_for_url(re.compile(r"/auth/register$"))
    web.click(".choice:has-text('服务机构注册') >> text=点击注册")
    web.wait_for_url(re.compile(r"/register/institution$"))
    web.click("a:has-text('社会服务注册')")
    web.wait_for_url(re.compile(r"/register/institution/social$"))
    assert web.locator("h1").first.inner_text() == "社会服务帐户注册"
    web.fill("[name=username]", username)
    web.fill("[name=password]", PASSWORD)
    web.fill("[name=confirm]", PASSWORD)
    web.check("input[name=unit_nature_id] >> nth=0")
    web.select_option("select[name=platform_id]", label="长沙市中小企业公共服务平台")
    web.fill("[name=name]", f"{name}{n}")
    web.fill("[name=uscc]", valid_uscc(9000 + n))
    web.fill("[name=contact]", "赵测试")
    web.fill("[name=phone]", f"1390000{n:04d}")
    pick_region(web)
    snap(web, "register-institution")
    web.click("button:has-text('立即注册')")
    web.wait_for_url(re.compile(r"/workspace/"))
    return username


def log_in(web, username, password=PASSWORD):
    web.goto("/auth/login")
    web.fill("[name=username]", username)
    web.fill("[name=password]", password)
    web.fill("[name=captcha]", "TEST")
    web.click("button:has-text('登录')")
    web.wait_for_url(re.compile(r"/(workspace|admin|applications)"))


def log_out(web):
    # Wait for the home page itself: a pattern like "/$" would already match "/applications/".
    web.click(".userbar button:has-text('退出')")
    web.wait_for_url(lambda url: urlparse(url).path == "/")
    web.wait_for_selector(".userbar >> text=登录")
