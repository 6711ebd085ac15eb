"""保存草稿 in a real browser, JavaScript on and off (issue 18, item 2): a half-filled 基本信息 is
saved as typed and says what is left; the later step waits, 下一步 still asks for everything."""

import re

from tests.e2e.conftest import snap
from tests.e2e.flows import log_in
from tests.factories import PASSWORD, make_institution, make_round

PARTIAL = {"registered_capital": "500", "total_assets": "1200.50", "equipment_ratio": "50%"}
REST = {"facilities_value": "300", "equipment_count": "25", "floor_area": "800", "own_area_ratio": "60"}
INTRO = "本中心为中小企业提供政策咨询、融资对接和管理培训服务。"


def test_save_draft_keeps_a_half_filled_step(web, app):
    with app.app_context():
        make_round("application", year=2026, title="2026年核心服务机构申报")
        username = make_institution(name="草稿测试服务机构").username
    log_in(web, username, PASSWORD)
    dialogs = []
    web.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    web.goto("/applications/")
    web.click("button:has-text('机构申报')")
    web.wait_for_url(re.compile(r"/step/basic$"))
    step_url = web.url
    for name, value in PARTIAL.items():
        web.fill(f"[name={name}]", value)

    web.click("button:has-text('保存草稿')")
    note = web.locator(".saved-note" if web.js else ".flashes")
    note.wait_for()
    assert re.search(
        r"“基本信息”已保存草稿 \d\d:\d\d，尚有 6 项必填内容未填写完整（服务设施、仪器设备、场地面积、自有场地占总面积等），"
        r"点击“下一步”前需补全。",
        note.inner_text(),
    ), note.inner_text()
    assert web.url == step_url
    assert web.locator(".tabs li.tab-done").count() == 0
    assert web.locator(".error-summary").count() == 0
    snap(web, "draft-saved-partial")
    # nothing unsaved is left: leaving asks nothing (with JavaScript the leave-warning would)
    web.click(".actions a:has-text('返回')")
    web.wait_for_url(re.compile(r"/applications/$"))
    assert dialogs == []

    # what was typed is in the draft
    web.goto(step_url)
    assert web.input_value("[name=registered_capital]") == "500.00"
    assert web.input_value("[name=total_assets]") == "1200.50"
    assert web.input_value("[name=equipment_ratio]") == "50.00"
    assert "草稿上次保存于" in web.inner_text("#wizard")
    # the next step waits for it, and says why
    web.goto(step_url.replace("/step/basic", "/step/operations"))
    web.wait_for_url(step_url)
    assert "请先完成“基本信息”并点击下一步，再填写“服务经营情况”" in web.inner_text("main")
    # 下一步 still asks for every required field
    web.click("button:has-text('下一步')")
    web.wait_for_selector(".error-summary")
    assert "请输入服务设施(万元)。" in web.inner_text(".error-summary")
    assert web.url == step_url

    # the rest typed in: 下一步 moves on and 基本信息 is complete
    for name, value in REST.items():
        web.fill(f"[name={name}]", value)
    web.check("input[name=site_nature][value=自有]")
    web.fill("[name=intro]", INTRO)
    web.click("button:has-text('下一步')")
    web.wait_for_url(re.compile(r"/step/operations$"))
    assert re.search(r"“基本信息”已保存 \d\d:\d\d。", web.inner_text("main"))
    assert "（已完成）" in web.locator(".tabs li").first.inner_text()
    assert dialogs == []
