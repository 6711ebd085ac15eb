"""保存草稿 in 核心服务机构申报 (issue 18, item 2): a half-filled step is saved as typed, is not
complete, and 下一步 and 提交 still ask for everything."""

import re

from app.blueprints.applications.models import CoreApplication
from app.extensions import db
from tests.applications.conftest import BASIC, OPERATIONS
from tests.applications.test_flow import PDF, fill_steps, new_draft, upload
from tests.helpers import login, page, text_of

PARTIAL = {"registered_capital": "500", "equipment_ratio": "50%", "intro": "本机构成立于2010年。"}


def stored(app, filing_id):
    with app.app_context():
        filing = db.session.get(CoreApplication, filing_id)
        db.session.expunge(filing)
        return filing


def done_tabs(soup):
    return [li.get_text(" ", strip=True).split()[-1] for li in soup.select(".tabs li.tab-done")]


def test_a_half_filled_step_is_saved_as_a_draft_but_not_complete(client, app, people):
    login(client, people.institution.username)
    filing_id = new_draft(client)
    url = f"/applications/{filing_id}/step/basic"
    response = client.post(url, data=dict(PARTIAL, save_draft="1"))
    assert response.status_code == 303 and response.headers["Location"].endswith("/step/basic")
    filing = stored(app, filing_id)
    assert filing.registered_capital == 500 and filing.equipment_ratio == 50 and filing.intro == PARTIAL["intro"]
    assert filing.total_assets is None and filing.site_nature is None and filing.steps_done == []
    assert filing.version == 2

    soup = page(client.get(response.headers["Location"]))
    note = text_of(soup.select_one(".flashes"))
    assert re.search(
        r"“基本信息”已保存草稿 \d\d:\d\d，尚有 6 项必填内容未填写完整（总资产、服务设施、仪器设备、场地面积等），"
        r"点击“下一步”前需补全。",
        note,
    ), note
    assert "草稿上次保存于" in text_of(soup)
    assert soup.select_one("#registered_capital")["value"] == "500.00"  # shown again from the draft
    assert done_tabs(soup) == []
    assert soup.select_one(".tabs li:nth-child(2) .tab-locked") is not None

    # a later step opened early still redirects, saying why
    for later in (f"/applications/{filing_id}/step/operations", f"/applications/{filing_id}/attachments"):
        response = client.get(later)
        assert response.status_code == 302 and response.headers["Location"].endswith("/step/basic")
    text = text_of(page(client.get(f"/applications/{filing_id}/attachments", follow_redirects=True)))
    assert "请先完成“基本信息”并点击下一步" in text

    # 下一步 with the same input still demands every required field, and saves nothing
    soup = page(client.post(url, data=PARTIAL), 422)
    assert "请输入总资产(万元)。" in text_of(soup) and "请选择场地性质。" in text_of(soup)
    assert stored(app, filing_id).version == 2

    # 提交 still checks everything
    response = client.post(f"/applications/{filing_id}/submit")
    assert response.status_code == 303 and response.headers["Location"].endswith("/step/basic")
    assert stored(app, filing_id).status == "draft"
    assert "“基本信息”尚未填写完整" in text_of(page(client.get(response.headers["Location"])))


def test_a_draft_refuses_what_is_wrong_and_saves_nothing(client, app, people):
    login(client, people.institution.username)
    filing_id = new_draft(client)
    url = f"/applications/{filing_id}/step/basic"
    assert client.post(url, data=dict(PARTIAL, save_draft="1")).status_code == 303
    wrong = dict(PARTIAL, registered_capital="600", total_assets="一千", own_area_ratio="150", save_draft="1")
    soup = page(client.post(url, data=wrong), 422)
    text = text_of(soup)
    assert "请输入数字，如 120.50。" in text and "请输入 0 到 100 之间的百分比。" in text
    assert "此项为必填项" not in text and "请输入服务设施" not in text  # only what is wrong
    assert soup.select_one("#total_assets")["value"] == "一千"  # input kept
    filing = stored(app, filing_id)
    assert filing.registered_capital == 500 and filing.version == 2  # nothing saved


def test_a_complete_draft_is_a_completed_step(client, app, people):
    login(client, people.institution.username)
    filing_id = new_draft(client)
    response = client.post(
        f"/applications/{filing_id}/step/basic", data=dict(BASIC, save_draft="1"), headers={"HX-Request": "true"}
    )
    soup = page(response, fragment=True)
    assert re.fullmatch(r"“基本信息”已保存 \d\d:\d\d。", soup.select_one(".saved-note.flash-success").get_text())
    assert done_tabs(soup) == ["基本信息"] and stored(app, filing_id).steps_done == ["basic"]
    assert client.get(f"/applications/{filing_id}/step/operations").status_code == 200


def test_emptying_a_completed_step_makes_it_unfinished_again(client, app, people):
    login(client, people.institution.username)
    filing_id = new_draft(client)
    fill_steps(client, filing_id)
    assert upload(client, filing_id, ("营业执照.pdf", PDF)).status_code == 303
    url = f"/applications/{filing_id}/step/basic"
    # with htmx: the same step comes back, the note says what is left, no step is marked complete
    response = client.post(url, data=dict(BASIC, total_assets="", save_draft="1"), headers={"HX-Request": "true"})
    soup = page(response, fragment=True)
    assert "HX-Push-Url" not in response.headers
    note = soup.select_one(".saved-note")
    assert "flash-warning" in note["class"] and "尚有 1 项必填内容未填写完整（总资产）" in note.get_text()
    assert "基本信息" not in done_tabs(soup)
    assert soup.select_one("#total_assets")["value"] == ""
    filing = stored(app, filing_id)
    assert filing.total_assets is None and filing.registered_capital == 500
    assert "basic" not in filing.steps_done and "operations" in filing.steps_done
    # the steps after it wait again; 提交 refuses
    assert client.get(f"/applications/{filing_id}/step/operations").headers["Location"].endswith("/step/basic")
    assert client.post(f"/applications/{filing_id}/submit").headers["Location"].endswith("/step/basic")
    assert stored(app, filing_id).status == "draft"
    # completing it again (下一步) brings the later step back as it was, still complete
    assert client.post(url, data=BASIC).status_code == 303
    soup = page(client.get(f"/applications/{filing_id}/step/operations"))
    assert done_tabs(soup) == ["基本信息", "服务经营情况", "申报证明材料上传"]
    assert soup.select_one("#served_prev1")["value"] == OPERATIONS["served_prev1"]
    assert client.post(f"/applications/{filing_id}/submit").status_code == 303
    assert stored(app, filing_id).status == "submitted"


def test_a_draft_from_a_stale_tab_gets_the_conflict_table(client, app, people):
    login(client, people.institution.username)
    filing_id = new_draft(client)
    url = f"/applications/{filing_id}/step/basic"
    assert client.post(url, data=dict(PARTIAL, version="1", save_draft="1")).status_code == 303
    # another tab, still on version 1, saves a different 注册资本 as a draft
    response = client.post(url, data=dict(PARTIAL, registered_capital="800", version="1", save_draft="1"))
    soup = page(response, 409)
    conflict = text_of(soup.select_one("#edit-conflict"))
    assert "注册资本 500.00 800" in conflict
    assert soup.select_one(".error-summary") is None  # no 下一步 complaints on a draft's conflict
    assert soup.select_one("[name=version]")["value"] == "2"
    assert stored(app, filing_id).registered_capital == 500
    # sending it again with the newer version keeps theirs
    assert (
        client.post(url, data=dict(PARTIAL, registered_capital="800", version="2", save_draft="1")).status_code == 303
    )
    assert stored(app, filing_id).registered_capital == 800
