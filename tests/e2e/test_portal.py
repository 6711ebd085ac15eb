"""Issue 7 in a real browser, JavaScript on and off: an admin publishes a notice with an attachment;
a visitor finds it on the 首页, opens it, downloads the attachment, finds it again through 搜索, and
sees a recognised institution in the 核心服务机构 directory."""

import re

from tests.e2e.conftest import snap
from tests.e2e.flows import log_in, log_out
from tests.factories import PASSWORD as ADMIN_PASSWORD
from tests.factories import make_institution, make_province_admin

TITLE = "关于组织开展2026年湖南省中小微企业核心服务机构融资对接活动的通知"


def test_publish_notice_then_visitor_finds_it(web, app, tmp_path):
    with app.app_context():
        from tests.portal.conftest import offer, recognise

        admin = make_province_admin().username
        institution = make_institution(name="湖南省融资担保服务中心", publish_contact=True)
        offer(institution, "融资服务")
        recognise(institution)

    # The province admin: 内容管理 → 通知公告管理 → 新建通知公告, with an attachment, as the headline.
    log_in(web, admin, ADMIN_PASSWORD)
    web.click(".sidemenu >> text=通知公告管理")
    web.wait_for_url(re.compile(r"/notices/manage$"))
    web.click("a:has-text('新建通知公告')")
    web.wait_for_url(re.compile(r"/notices/manage/new$"))
    web.fill("[name=title]", TITLE)
    web.fill("[name=body]", "各市州工业和信息化局：\n\n现将有关事项通知如下。\n\n# 一、活动时间\n\n2026年12月。")
    web.check("input[name=pinned]")
    attachment = tmp_path / "活动报名表.pdf"
    attachment.write_bytes(b"%PDF-1.4\n%e2e portal\n")
    web.set_input_files("input[name=files]", [str(attachment)])
    snap(web, "notice-form")
    web.click("button:has-text('保存')")
    web.wait_for_url(re.compile(r"/notices/manage$"))
    assert TITLE in web.inner_text("#results")
    assert "已发布" in web.inner_text("#results")
    snap(web, "notice-manage")
    log_out(web)

    # A visitor: the headline and the 通知公告 column on the 首页.
    web.goto("/")
    assert TITLE in web.inner_text(".headline")
    snap(web, "home")
    web.click(f"section:has(h2:text-is('通知公告')) a:text-is('{TITLE}')")
    web.wait_for_url(re.compile(r"/notices/\d+$"))
    assert web.inner_text("h1") == TITLE
    assert web.inner_text(".notice-body h2") == "一、活动时间"
    with web.expect_download() as download:
        web.click(".notice-attachments a:has-text('活动报名表.pdf')")
    assert download.value.suggested_filename == "活动报名表.pdf"
    assert open(download.value.path(), "rb").read() == attachment.read_bytes()
    snap(web, "notice")

    # The list, then 搜索 from the nav bar with part of the title.
    web.click(".mainnav a:text-is('通知公告')")
    web.wait_for_url(re.compile(r"/notices$"))
    assert TITLE in web.inner_text("ul.news")
    web.fill("#nav-q", "融资对接")
    web.click(".mainnav button:has-text('搜索')")
    web.wait_for_url(re.compile(r"/search\?q="))
    assert "通知公告（共 1 条）" in web.inner_text("main")
    web.click(f".search-group a:text-is('{TITLE}')")
    web.wait_for_url(re.compile(r"/notices/\d+$"))

    # 融资 finds the institution too; the directory lists it with its published contact.
    web.fill("#nav-q", "融资")
    web.click(".mainnav button:has-text('搜索')")
    web.wait_for_selector(".search-group >> text=湖南省融资担保服务中心")
    snap(web, "search")
    web.click(".mainnav a:text-is('核心服务机构')")
    web.wait_for_url(re.compile(r"/institutions$"))
    assert "湖南省融资担保服务中心" in web.inner_text("#results")
    web.select_option("select[name=category_id]", label="法律服务")
    web.click("form.filters button:has-text('查询')")
    web.wait_for_selector("#results >> text=没有符合条件的核心服务机构")
    web.select_option("select[name=category_id]", label="融资服务")
    web.click("form.filters button:has-text('查询')")
    web.wait_for_selector("#results a:text-is('湖南省融资担保服务中心')")
    snap(web, "institutions")
    web.click("#results a:text-is('湖南省融资担保服务中心')")
    web.wait_for_url(re.compile(r"/institutions/\d+$"))
    assert "融资服务" in web.inner_text("main")
    snap(web, "institution")
