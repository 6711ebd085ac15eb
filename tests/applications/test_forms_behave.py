"""Forms that behave (issue 18, item 5) in a filing: percentages take "50%", a step opened early
says why it redirected."""

import re

from app.blueprints.applications.models import CoreApplication
from app.extensions import db
from tests.applications.conftest import BASIC
from tests.applications.test_flow import new_draft
from tests.helpers import login, page, text_of


def test_percent_accepts_a_percent_sign_and_says_so(client, app, people):
    login(client, people.institution.username)
    filing_id = new_draft(client)
    data = dict(BASIC, equipment_ratio="50%", own_area_ratio="60 ％")
    assert client.post(f"/applications/{filing_id}/step/basic", data=data).status_code == 303
    with app.app_context():
        filing = db.session.get(CoreApplication, filing_id)
        assert filing.equipment_ratio == 50 and filing.own_area_ratio == 60
    soup = page(client.post(f"/applications/{filing_id}/step/basic", data=dict(BASIC, equipment_ratio="五成")), 422)
    assert "如 50 或 50%" in text_of(soup) and "120.50" not in text_of(soup.select_one("#field-equipment_ratio"))


def test_a_later_step_opened_early_says_why_it_redirected(client, people):
    login(client, people.institution.username)
    filing_id = new_draft(client)
    response = client.get(f"/applications/{filing_id}/step/operations", follow_redirects=True)
    assert "请先完成“基本信息”并点击下一步，再填写“服务经营情况”" in text_of(page(response))
    response = client.get(f"/applications/{filing_id}/attachments", follow_redirects=True)
    assert "再填写“申报证明材料上传”" in text_of(page(response))


def test_next_and_save_draft_say_what_was_saved_and_tabs_mark_completed_steps(client, people):
    login(client, people.institution.username)
    filing_id = new_draft(client)
    soup = page(client.get(f"/applications/{filing_id}/step/basic"))
    form = soup.select_one("#wizard form")
    assert form.has_attr("data-unsaved-warning")
    assert [b.get_text() for b in form.select(".actions button")] == ["下一步", "保存草稿"]
    # 保存草稿 stays on the step (no JS: 303 back with the message)
    response = client.post(f"/applications/{filing_id}/step/basic", data=dict(BASIC, save_draft="1"))
    assert response.status_code == 303 and response.headers["Location"].endswith("/step/basic")
    text = text_of(page(client.get(response.headers["Location"])))
    assert re.search(r"“基本信息”已保存 \d\d:\d\d。", text) and "草稿上次保存于" in text
    # 下一步 with htmx: the next step says what was saved, and 基本信息's tab is marked complete
    response = client.post(f"/applications/{filing_id}/step/basic", data=BASIC, headers={"HX-Request": "true"})
    soup = page(response, fragment=True)
    assert re.fullmatch(r"“基本信息”已保存 \d\d:\d\d。", soup.select_one(".saved-note").get_text())
    done = [li.get_text(" ", strip=True) for li in soup.select(".tabs li.tab-done")]
    assert done == ["✓ （已完成） 基本信息"]
    # 保存草稿 with htmx: the same step comes back with the note, no new URL
    response = client.post(
        f"/applications/{filing_id}/step/basic", data=dict(BASIC, save_draft="1"), headers={"HX-Request": "true"}
    )
    soup = page(response, fragment=True)
    assert "HX-Push-Url" not in response.headers and soup.select_one("#registered_capital") is not None
    assert soup.select_one(".saved-note") is not None
