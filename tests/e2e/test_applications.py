"""Issue 3 in a real browser, JavaScript on and off: manual section 3 word for word, then both reviews."""

import re

from tests.e2e.conftest import snap
from tests.e2e.flows import log_in, log_out, register_institution
from tests.factories import PASSWORD as ADMIN_PASSWORD
from tests.factories import make_city_admin, make_province_admin, make_round

BASIC = {
    "registered_capital": "500",
    "total_assets": "1200.50",
    "facilities_value": "300",
    "equipment_count": "25",
    "floor_area": "800",
    "equipment_ratio": "12.5",
    "own_area_ratio": "60",
}


def test_apply_review_return_resubmit_and_recognise(web, app, tmp_path):
    with app.app_context():
        make_round("application", year=2026, title="2026年核心服务机构申报")
        city = make_city_admin("430100").username
        province = make_province_admin().username

    username = register_institution(web)
    # (1) 基础信息 → 核心服务机构申报管理 → 机构申报
    web.click(".sidemenu >> text=核心服务机构申报管理")
    web.click("button:has-text('机构申报')")
    web.wait_for_url(re.compile(r"/step/basic$"))
    assert "申报管理 / 核心服务机构调度管理 / 编辑服务机构申报信息" in web.inner_text(".breadcrumb")

    # (2) 基本信息: a mistake first, then the right figures.
    web.fill("[name=registered_capital]", "-1")
    web.click("button:has-text('下一步')")
    web.wait_for_selector(".error-summary")
    assert "不能为负数" in web.inner_text("#wizard")
    for name, value in BASIC.items():
        web.fill(f"[name={name}]", value)
    web.check("input[name=site_nature][value='自有']")
    web.fill("[name=intro]", "本中心为中小企业提供政策咨询、融资对接和管理培训服务。")
    snap(web, "application-basic")
    web.click("button:has-text('下一步')")

    # (3) 服务经营情况 with computed year labels and 模版下载.
    web.wait_for_url(re.compile(r"/step/operations$"))
    assert "2024年服务企业数" in web.inner_text("#wizard")
    with web.expect_download() as download:
        web.click("text=核心服务机构申请报告提纲")
    assert download.value.suggested_filename == "核心服务机构申请报告提纲.docx"
    for name, value in {
        "served_prev2": "120",
        "served_prev1": "150",
        "activities_prev2": "30",
        "activities_prev1": "36",
    }.items():
        web.fill(f"[name={name}]", value)
    web.click("button:has-text('下一步')")

    # (4) 申报证明材料上传: two files, one with a Chinese name; delete one; submit.
    web.wait_for_url(re.compile(r"/attachments$"))
    assert (
        "允许上传 [.zip, .7z, .rar, .txt, .doc, .docx, .xls, .xlsx, .ppt, .pptx, .pdf] 格式的文件，大小不超过50MB!"
        in web.inner_text("#wizard")
    )
    first = tmp_path / "营业执照.pdf"
    first.write_bytes(b"%PDF-1.4\n%e2e\n")
    second = tmp_path / "note.txt"
    second.write_text("补充说明", encoding="utf-8")
    web.set_input_files("input[name=files]", [str(first), str(second)])
    web.click("button:has-text('上传')")
    web.wait_for_selector("table.attachments >> text=营业执照.pdf")
    web.wait_for_selector("table.attachments >> text=note.txt")
    assert "共 2 条记录" in web.inner_text("#wizard")
    web.once("dialog", lambda dialog: dialog.accept())
    web.click("table.attachments tr:has-text('note.txt') >> button:has-text('删除')")
    if not web.js:  # without JavaScript 删除 asks on a page of its own (issue 18, item 3)
        web.click("button:has-text('确定删除')")
    web.wait_for_selector("text=已删除：note.txt")
    web.wait_for_selector("table.attachments >> text=note.txt", state="detached")
    snap(web, "application-attachments")
    web.click("button:has-text('提交申报')")
    web.wait_for_url(re.compile(r"/applications/$"))
    assert "待初审" in web.inner_text("table.list")
    log_out(web)

    # The city admin returns it with a comment pinned to 注册资本.
    log_in(web, city, ADMIN_PASSWORD)
    web.goto("/applications/review")
    web.click("table.list a:text-is('审核') >> nth=0")
    web.check("input[name=action][value=city_return]")
    web.fill("[name=comment]", "注册资本与营业执照不一致，请核对")
    if not web.is_visible("input[name=pinned][value=registered_capital]"):
        web.click("summary:has-text('标出需要修改的项目')")
    web.check("input[name=pinned][value=registered_capital]")
    web.click("button:has-text('确定')")
    web.wait_for_url(re.compile(r"/applications/review"))
    log_out(web)

    # The applicant sees the comment, the marked field, edits and resubmits.
    log_in(web, username)
    web.goto("/applications/")
    assert "已退回" in web.inner_text("table.list")
    web.click("table.list a:text-is('编辑')")
    assert "注册资本与营业执照不一致" in web.inner_text("#wizard")
    assert "pinned" in web.get_attribute("#field-registered_capital", "class")
    web.fill("[name=registered_capital]", "600")
    web.click("button:has-text('下一步')")
    web.wait_for_url(re.compile(r"/step/operations$"))
    web.click("button:has-text('下一步')")
    web.wait_for_url(re.compile(r"/attachments$"))
    web.click("button:has-text('提交申报')")
    web.wait_for_url(re.compile(r"/applications/$"))
    log_out(web)

    # City approves, province approves: 已认定.
    log_in(web, city, ADMIN_PASSWORD)
    web.goto("/applications/review")
    web.click("table.list a:text-is('审核') >> nth=0")
    web.check("input[name=action][value=city_approve]")
    web.click("button:has-text('确定')")
    web.wait_for_url(re.compile(r"/applications/review"))
    log_out(web)
    log_in(web, province, ADMIN_PASSWORD)
    web.goto("/applications/review")
    web.click("table.list a:text-is('审核') >> nth=0")
    web.check("input[name=action][value=province_approve]")
    web.click("button:has-text('确定')")
    web.wait_for_url(re.compile(r"/applications/review"))
    log_out(web)

    log_in(web, username)
    web.goto("/applications/")
    assert "已认定" in web.inner_text("table.list")
    snap(web, "application-recognised")
