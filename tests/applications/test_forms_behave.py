"""Forms that behave (issue 18, item 5) in a filing: percentages take "50%", a step opened early
says why it redirected."""

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
