"""入选 / 未入选 while assigned scores are missing (issue 14, item 3): refused with who has not scored
and the choices kept; the province admin may decide anyway with a reason, which the 操作日志 keeps
with the missing reviewers' names; no other role can."""

import pytest
import sqlalchemy as sa

from app.audit import AuditLog
from app.blueprints.auth.models import User
from app.blueprints.awards import reviews
from app.blueprints.awards.models import AwardResult
from app.blueprints.awards.services import AwardError
from app.extensions import db
from app.filings.models import Round
from tests.awards.conftest import expert_at, make_nomination
from tests.awards.test_judging import assignment_id, score
from tests.helpers import login, page, text_of

REASON = "评审乙长期出差无法联系，经中心研究先行确定"


@pytest.fixture
def half_scored(client, app, people):
    """An institution nomination with two reviewers; 评审甲 has scored, 评审乙 has not."""
    with app.app_context():
        first = expert_at("甲大学", reviewer=True, name="评审甲")
        second = expert_at("乙大学", reviewer=True, name="评审乙")
        nomination = make_nomination("institution", people.institution.id, people.round_id)
        first_id, second_id, first_name = first.id, second.id, first.username
    login(client, people.province.username)
    for reviewer in (first_id, second_id):
        client.post(f"/awards/admin/nominations/{nomination}/reviewers", data={"reviewer_id": reviewer})
    client.post("/auth/logout")
    login(client, first_name)
    score(client, app, assignment_id(app, nomination, first_id), [90, 80, 70, 60], people.round_id)
    client.post("/auth/logout")
    return nomination


def overrides(app):
    with app.app_context():
        return db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "award.results_override")).all()


def test_refusal_keeps_the_choice_and_names_who_has_not_scored(client, app, people, half_scored):
    login(client, people.province.username)
    url = f"/awards/admin/institutions/results?round_id={people.round_id}"
    soup = page(client.post(url, data={f"result_{half_scored}": "0", "sort": "name", "dir": "asc"}), status=422)
    text = text_of(soup)
    assert "还有评审专家未提交评分" in text and "长沙示范服务中心：评审乙 未评分" in text
    assert soup.find("input", attrs={"name": f"result_{half_scored}", "value": "0"}).has_attr("checked")
    assert soup.find("input", attrs={"name": "sort"})["value"] == "name"
    assert soup.find("textarea", attrs={"name": "override_reason"}) is not None
    # 仍然确定 without a reason: the message beside the field, the choice still kept
    soup = page(
        client.post(url, data={f"result_{half_scored}": "0", "override": "1", "override_reason": " "}), status=422
    )
    assert soup.select_one("#field-override_reason .error-message").get_text() == "请填写未全部评分仍确定结果的理由。"
    assert soup.find("input", attrs={"name": f"result_{half_scored}", "value": "0"}).has_attr("checked")
    with app.app_context():
        assert db.session.get(AwardResult, half_scored) is None
    assert overrides(app) == []


def test_the_province_admin_decides_anyway_with_a_reason(client, app, people, half_scored):
    login(client, people.province.username)
    url = f"/awards/admin/institutions/results?round_id={people.round_id}"
    data = {f"result_{half_scored}": "0", "override": "1", "override_reason": REASON}
    response = client.post(url, data=data, follow_redirects=True)
    assert "未全部评分即确定的理由已记入操作日志" in text_of(page(response))
    with app.app_context():
        assert db.session.get(AwardResult, half_scored).selected is False
    (entry,) = overrides(app)
    assert entry.after["reason"] == REASON and "评审乙" in entry.after["nominations"]
    assert "评审甲" not in entry.after["nominations"] and "评审乙" in entry.summary
    assert entry.actor_id == people.province.id
    # the 操作日志 shows it under its own name
    text = text_of(page(client.get("/admin/audit")))
    assert "未全部评分确定评选结果" in text
    # the decision stands: saving the page again asks nothing, records no second override
    assert client.post(url, data={f"result_{half_scored}": "0"}).status_code == 303
    assert len(overrides(app)) == 1
    # changing it again while the score is still missing needs a reason again
    page(client.post(url, data={f"result_{half_scored}": "1"}), status=422)
    with app.app_context():
        assert db.session.get(AwardResult, half_scored).selected is False


def test_no_other_role_can_override(client, app, people, half_scored):
    login(client, people.city.username)
    url = f"/awards/admin/institutions/results?round_id={people.round_id}"
    data = {f"result_{half_scored}": "1", "override": "1", "override_reason": REASON}
    assert client.post(url, data=data).status_code == 403
    with app.test_request_context():
        from app.blueprints.awards.wizard import BY_SLUG

        city = db.session.get(User, people.city.id)
        round = db.session.get(Round, people.round_id)
        with pytest.raises(AwardError, match="只有省级管理员"):
            reviews.results_save(
                round=round,
                wizard=BY_SLUG["institutions"],
                decisions={half_scored: True},
                actor=city,
                override_reason=REASON,
            )
        db.session.rollback()
        assert db.session.get(AwardResult, half_scored) is None
    assert overrides(app) == []
