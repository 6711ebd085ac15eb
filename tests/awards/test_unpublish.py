"""撤销发布 (issue 14, item 3): a confirmation page with a required reason; the results leave the
portal and 首页 at once, the round goes back to its 公示 so it can be corrected and published again;
audited with the reason, the owners told (as on 发布), repeat-safe and race-safe."""

import re
from datetime import timedelta

import sqlalchemy as sa

from app.audit import AuditLog
from app.blueprints.awards.models import AwardPublication, AwardResult
from app.extensions import db
from app.filings.models import Filing, ReviewEvent
from app.inbox import Message
from app.sms import SmsMessage
from app.utils import local_today
from tests.awards.conftest import make_nomination
from tests.concurrency import Visitor, at_once
from tests.helpers import login, page, text_of

REASON = "发现一位评审专家的评分录入错误"


def published_round(client, app, people):
    """A round with two institution nominations (one 入选) and a product (入选), its 公示 over, published."""
    with app.app_context():
        winner = make_nomination("institution", people.institution.id, people.round_id, intro="示范中心的简介")
        loser = make_nomination("institution", people.other_institution.id, people.round_id)
        product = make_nomination("product", people.institution.id, people.round_id, product_name="融资服务包")
        for filing_id, selected in ((winner, True), (loser, False), (product, True)):
            db.session.add(AwardResult(filing_id=filing_id, selected=selected, decided_by_id=people.province.id))
        today = local_today()
        db.session.add(
            AwardPublication(
                round_id=people.round_id,
                publicity_starts=today - timedelta(days=10),
                publicity_ends=today - timedelta(days=3),
                opened_by_id=people.province.id,
            )
        )
        db.session.commit()
    login(client, people.province.username)
    assert client.post(f"/awards/admin/publish?round_id={people.round_id}").status_code == 303
    client.post("/auth/logout")
    return winner, loser, product


def counts(app, people):
    with app.app_context():
        return {
            "events": db.session.scalar(
                sa.select(sa.func.count(ReviewEvent.id)).where(ReviewEvent.action == "unpublish")
            ),
            "audits": db.session.scalar(
                sa.select(sa.func.count(AuditLog.id)).where(AuditLog.action == "award.unpublish")
            ),
            "messages": db.session.scalar(
                sa.select(sa.func.count(Message.id)).where(Message.title.contains("评选结果已撤销发布"))
            ),
            "sms": db.session.scalar(
                sa.select(sa.func.count(SmsMessage.id)).where(SmsMessage.text.contains("评选结果已撤销发布"))
            ),
        }


def test_unpublish_needs_a_reason_and_takes_the_results_off_the_portal(client, app, people):
    winner, loser, product = published_round(client, app, people)
    assert "长沙示范服务中心" in text_of(page(client.get("/excellent/institutions")))
    assert "融资服务包" in text_of(page(client.get("/excellent/products")))
    home = text_of(page(client.get("/")))  # the 首页 block counts the published winners (now cached)
    assert "优秀服务机构" in home

    login(client, people.province.username)
    base = f"?round_id={people.round_id}"
    judging = page(client.get(f"/awards/admin/{base}"))
    link = judging.find("a", string="撤销发布")
    assert link is not None and link["href"] == f"/awards/admin/unpublish{base}"
    soup = page(client.get(link["href"]))
    text = text_of(soup)
    assert "撤销发布评选结果" in text and "优秀服务机构 1 1" in text and "优秀服务产品 1 0" in text
    seen = soup.find("input", attrs={"name": "seen"})["value"]
    assert seen

    # no reason: refused beside the field, nothing changed
    soup = page(client.post(f"/awards/admin/unpublish{base}", data={"reason": "  ", "seen": seen}), status=422)
    assert soup.select_one("#field-reason .error-message").get_text() == "请填写撤销发布的理由。"
    with app.app_context():
        assert db.session.get(Filing, winner).status == "approved"

    response = client.post(f"/awards/admin/unpublish{base}", data={"reason": REASON, "seen": seen})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/awards/admin/{base}")
    with app.app_context():
        publication = db.session.scalar(sa.select(AwardPublication).where(AwardPublication.round_id == people.round_id))
        assert publication.published_at is None and publication.published_by_id is None
        statuses = {fid: db.session.get(Filing, fid).status for fid in (winner, loser, product)}
        assert set(statuses.values()) == {"city_approved"}
        # the decisions stay, to be corrected
        assert {r.filing_id: r.selected for r in db.session.scalars(sa.select(AwardResult))} == {
            winner: True,
            loser: False,
            product: True,
        }
        entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "award.unpublish"))
        assert entry.after["reason"] == REASON and entry.actor_id == people.province.id
        per_filing = db.session.scalars(
            sa.select(AuditLog.target_id).where(AuditLog.action == "award.unpublish_nomination")
        ).all()
        assert sorted(per_filing) == sorted(str(fid) for fid in (winner, loser, product))
        # every owner told of the result is told it is withdrawn, with the reason
        bodies = db.session.scalars(
            sa.select(Message.body).where(
                Message.user_id == people.other_institution.id, Message.title.contains("评选结果已撤销发布")
            )
        ).all()
        assert len(bodies) == 1 and REASON in bodies[0]
    assert counts(app, people) == {"events": 3, "audits": 1, "messages": 3, "sms": 3}
    text = text_of(page(client.get(f"/awards/admin/{base}")))
    assert f"理由：{REASON}" in text and "公示期已结束" in text
    # the owner's history names the event
    client.post("/auth/logout")
    login(client, people.institution.username)
    history = text_of(page(client.get(f"/awards/institutions/{winner}")))
    assert "撤销发布" in history and REASON in history
    client.post("/auth/logout")

    # gone from the portal and 首页 at once (their cached copies too)
    text = text_of(page(client.get("/excellent/institutions")))
    assert "长沙示范服务中心" not in text and "暂无已公布的优秀服务机构" in text
    assert "融资服务包" not in text_of(page(client.get("/excellent/products")))
    assert "目前暂无已公布的评选结果" in text_of(page(client.get("/")))
    assert "长沙示范服务中心" not in text_of(page(client.get("/search?q=示范中心")))


def test_corrected_and_published_again(client, app, people):
    winner, loser, product = published_round(client, app, people)
    login(client, people.province.username)
    base = f"?round_id={people.round_id}"
    seen = page(client.get(f"/awards/admin/unpublish{base}")).find("input", attrs={"name": "seen"})["value"]
    assert client.post(f"/awards/admin/unpublish{base}", data={"reason": REASON, "seen": seen}).status_code == 303
    # correct: the loser is selected after all
    client.post(f"/awards/admin/institutions/results{base}", data={f"result_{winner}": "1", f"result_{loser}": "1"})
    assert client.post(f"/awards/admin/publish{base}").status_code == 303
    with app.app_context():
        assert {db.session.get(Filing, fid).status for fid in (winner, loser, product)} == {"approved"}
    client.post("/auth/logout")
    text = text_of(page(client.get("/excellent/institutions")))
    assert "长沙示范服务中心" in text and "株洲创新服务公司" in text


def test_repeat_lands_on_the_same_result_and_applies_nothing_twice(client, app, people):
    published_round(client, app, people)
    login(client, people.province.username)
    base = f"?round_id={people.round_id}"
    seen = page(client.get(f"/awards/admin/unpublish{base}")).find("input", attrs={"name": "seen"})["value"]
    first = client.post(f"/awards/admin/unpublish{base}", data={"reason": REASON, "seen": seen})
    again = client.post(f"/awards/admin/unpublish{base}", data={"reason": REASON, "seen": seen}, follow_redirects=True)
    assert first.status_code == 303 and again.request.path == "/awards/admin/"
    assert "已撤销发布评选结果" in text_of(page(again))
    assert counts(app, people) == {"events": 3, "audits": 1, "messages": 3, "sms": 3}
    # a stale page of a publication that no longer stands is refused, not applied
    soup = page(
        client.post(f"/awards/admin/unpublish{base}", data={"reason": REASON, "seen": "2020-01-01T00:00:00"}),
        status=422,
    )
    assert "评选结果尚未发布" in text_of(soup)


def test_only_the_province_admin_may_unpublish(client, app, people):
    published_round(client, app, people)
    login(client, people.city.username)
    base = f"?round_id={people.round_id}"
    assert client.get(f"/awards/admin/unpublish{base}").status_code == 403
    assert client.post(f"/awards/admin/unpublish{base}", data={"reason": REASON}).status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(AwardPublication.published_at)) is not None


def test_two_admins_unpublishing_at_once_withdraw_once(app, client, people, live_server):
    from tests.factories import make_province_admin

    published_round(client, app, people)
    with app.app_context():
        second = make_province_admin().username
    visitors = [Visitor(live_server).log_in(people.province.username), Visitor(live_server).log_in(second)]
    path = f"/awards/admin/unpublish?round_id={people.round_id}"
    seen = [re.search(r'name="seen" type="hidden" value="([^"]+)"', v.get(path).text).group(1) for v in visitors]
    assert seen[0] == seen[1]
    for visitor in visitors:
        visitor.fetch_token(path)
    responses = at_once(*(lambda v=v: v.post(path, {"reason": REASON, "seen": seen[0]}) for v in visitors))
    assert [r.status_code for r in responses] == [303, 303]
    assert counts(app, people) == {"events": 3, "audits": 1, "messages": 3, "sms": 3}
    with app.app_context():
        assert db.session.scalar(sa.select(AwardPublication.published_at)) is None
