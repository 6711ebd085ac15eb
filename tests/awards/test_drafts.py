"""保存草稿 in 优秀评选 (issue 18, item 2): a 荣誉资质 still short of its 300 字 is unfinished, not
wrong; a draft keeps it, 下一步 and 提交 still ask for it."""

import re

from app.blueprints.awards.models import ExpertNomination, InstitutionNomination
from app.extensions import db
from tests.awards.conftest import EXPERT_BASIC, INSTITUTION_BASIC
from tests.awards.test_nominations import new_draft, upload
from tests.helpers import login, page, text_of


def stored(app, model, filing_id):
    with app.app_context():
        filing = db.session.get(model, filing_id)
        db.session.expunge(filing)
        return filing


def test_a_short_honors_text_is_kept_as_a_draft(client, app, people):
    login(client, people.institution.username)
    filing_id = new_draft(client, "institutions")
    url = f"/awards/institutions/{filing_id}/step/basic"
    partial = {"staff_count": "35", "honors": "荣" * 200}
    response = client.post(url, data=dict(partial, save_draft="1"))
    assert response.status_code == 303 and response.headers["Location"].endswith("/step/basic")
    filing = stored(app, InstitutionNomination, filing_id)
    assert filing.staff_count == 35 and filing.honors == "荣" * 200 and filing.revenue is None
    assert filing.steps_done == []
    soup = page(client.get(response.headers["Location"]))
    note = text_of(soup.select_one(".flashes"))
    assert re.search(
        r"“基本信息”已保存草稿 \d\d:\d\d，尚有 5 项必填内容未填写完整（上年度服务企业数、上年度服务活动数、"
        r"上年度营业收入、荣誉资质等）",
        note,
    ), note
    assert soup.select_one("#honors").get_text().strip() == "荣" * 200
    assert soup.select_one(".tabs li.tab-done") is None

    # 下一步 asks for the minimum; the attachment step waits; 提交 refuses
    soup = page(client.post(url, data=dict(INSTITUTION_BASIC, honors="荣" * 200)), 422)
    assert "请输入 300-500 字（当前 200 字）" in text_of(soup)
    assert client.get(f"/awards/institutions/{filing_id}/attachments").headers["Location"].endswith("/step/basic")
    assert client.post(f"/awards/institutions/{filing_id}/submit").headers["Location"].endswith("/step/basic")
    assert stored(app, InstitutionNomination, filing_id).status == "draft"

    # over the maximum is wrong even in a draft: refused, nothing saved
    soup = page(client.post(url, data=dict(partial, honors="荣" * 501, save_draft="1")), 422)
    assert "请在500字以内（当前 501 字）" in text_of(soup)
    assert stored(app, InstitutionNomination, filing_id).honors == "荣" * 200

    # a draft with everything in it completes the step
    assert client.post(url, data=dict(INSTITUTION_BASIC, save_draft="1")).status_code == 303
    assert stored(app, InstitutionNomination, filing_id).steps_done == ["basic"]
    assert upload(client, "institutions", filing_id).status_code == 303
    assert client.post(f"/awards/institutions/{filing_id}/submit").status_code == 303
    assert stored(app, InstitutionNomination, filing_id).status == "submitted"


def test_an_expert_draft_still_checks_age_and_phone(client, app, people):
    login(client, people.institution.username)
    filing_id = new_draft(client, "experts")
    url = f"/awards/experts/{filing_id}/step/basic"
    soup = page(client.post(url, data={"name": "李教授", "age": "5", "phone": "12345", "save_draft": "1"}), 422)
    text = text_of(soup)
    assert "请输入 18-100 之间的年龄。" in text and "请输入手机号码，或带区号的固定电话" in text
    assert "请输入工作单位。" not in text
    assert stored(app, ExpertNomination, filing_id).name is None
    response = client.post(url, data={"name": "李教授", "employer": EXPERT_BASIC["employer"], "save_draft": "1"})
    assert response.status_code == 303
    filing = stored(app, ExpertNomination, filing_id)
    assert (filing.name, filing.employer, filing.age, filing.steps_done) == ("李教授", "中南大学", None, [])
