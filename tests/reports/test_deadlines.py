"""Deadlines: after the 调度期 closes a report locks; 申请补报 → a time-limited exception; lateness."""

from datetime import timedelta

import sqlalchemy as sa

from app.blueprints.reports.models import MonthlyReport, ReportReopenRequest
from app.blueprints.reports.services import default_deadline
from app.extensions import db
from app.filings.models import Round
from app.inbox import Message
from app.sms import SmsMessage
from app.utils import local_today
from tests.helpers import login, page, text_of
from tests.reports.test_flow import fill, new_report, upload_and_submit


def close_round(app, round_id, days_ago=1):
    with app.app_context():
        round = db.session.get(Round, round_id)
        round.closes_on = local_today() - timedelta(days=days_ago)
        db.session.commit()


def test_default_deadline_is_the_tenth_of_the_next_month():
    assert str(default_deadline(2026, 6)) == "2026-07-10"
    assert str(default_deadline(2026, 12)) == "2027-01-10"


def test_after_the_deadline_a_draft_locks(client, app, people):
    login(client, people.institution.username)
    report_id = new_report(client)
    fill(client, people, report_id)
    close_round(app, people.round_id)
    response = client.get(f"/reports/{report_id}/step/basic")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/reports/{report_id}")
    response = client.post(f"/reports/{report_id}/step/basic", data=people.data(revenue="1"), follow_redirects=True)
    assert "截止填报" in response.get_data(as_text=True)
    assert client.post(f"/reports/{report_id}/submit", follow_redirects=True).status_code == 200
    with app.app_context():
        report = db.session.get(MonthlyReport, report_id)
        assert report.status == "draft" and str(report.revenue) == "150.25"
    # and no new report can be started for that month
    response = client.post("/reports/new", data={"round_id": people.round_id}, follow_redirects=True)
    assert "没有开放的调度期" in response.get_data(as_text=True) or "截止" in response.get_data(as_text=True)


def test_a_submitted_report_cannot_be_withdrawn_after_the_deadline_but_a_returned_one_can_be_fixed(client, app, people):
    login(client, people.institution.username)
    report_id = new_report(client)
    fill(client, people, report_id)
    assert upload_and_submit(client, report_id).status_code == 303
    close_round(app, people.round_id)
    assert client.post(f"/reports/{report_id}/withdraw").status_code == 302
    with app.app_context():
        assert db.session.get(MonthlyReport, report_id).status == "submitted"
    login(client, people.city.username)
    client.post(f"/reports/{report_id}/review", data={"action": "return", "comment": "请补充"})
    login(client, people.institution.username)
    fill(client, people, report_id, revenue="200")  # the reviewer asked for it: still editable
    assert client.post(f"/reports/{report_id}/submit").status_code == 303
    with app.app_context():
        report = db.session.get(MonthlyReport, report_id)
        assert report.status == "submitted" and not report.late  # first submitted on time


def test_reopen_request_grant_allows_a_late_report_which_is_flagged(client, app, people):
    close_round(app, people.round_id)
    login(client, people.institution.username)
    soup = page(client.get("/reports/"))
    link = soup.find("a", string="申请补报")
    assert link is not None and link["href"] == f"/reports/periods/{people.round_id}/reopen"
    soup = page(client.post(link["href"], data={"reason": ""}), status=422)
    assert "请填写申请补报的理由" in text_of(soup)
    assert client.post(link["href"], data={"reason": "财务人员变动，未能按时填报。"}).status_code == 303
    assert "补报申请待处理" in text_of(page(client.get("/reports/")))
    # a second request while one is pending is refused
    soup = page(client.post(link["href"], data={"reason": "再次申请"}), status=422)
    assert "已有待处理的补报申请" in text_of(soup)
    with app.app_context():
        request_id = db.session.scalar(sa.select(ReportReopenRequest.id))
    # another 市州's admin cannot see it; the own 市州's admin grants until a date
    login(client, people.other_city.username)
    assert client.get(f"/reports/reopen-requests/{request_id}").status_code == 404
    login(client, people.city.username)
    assert "长沙调度测试机构" in text_of(page(client.get("/reports/reopen-requests")))
    soup = page(
        client.post(f"/reports/reopen-requests/{request_id}", data={"decision": "grant", "until": ""}), status=422
    )
    assert "请选择补报截止日期" in text_of(soup)
    until = local_today() + timedelta(days=5)
    assert (
        client.post(
            f"/reports/reopen-requests/{request_id}", data={"decision": "grant", "until": until.isoformat()}
        ).status_code
        == 303
    )
    with app.app_context():
        assert (
            db.session.scalar(sa.select(sa.func.count(Message.id)).where(Message.user_id == people.institution.id)) == 1
        )
        assert db.session.scalar(sa.select(sa.func.count(SmsMessage.id))) == 1
    login(client, people.institution.username)
    assert f"补报至 {until:%Y-%m-%d}" in text_of(page(client.get("/reports/")))
    report_id = new_report(client, people.round_id)
    fill(client, people, report_id)
    assert upload_and_submit(client, report_id).status_code == 303
    with app.app_context():
        report = db.session.get(MonthlyReport, report_id)
        assert report.status == "submitted" and report.late
    assert "逾期报送" in text_of(page(client.get("/reports/")))
    login(client, people.city.username)
    assert "逾期报送" in text_of(page(client.get(f"/reports/{report_id}/review")))


def test_an_expired_exception_locks_again(client, app, people):
    close_round(app, people.round_id, days_ago=10)
    with app.app_context():
        db.session.add(
            ReportReopenRequest(
                institution_id=people.institution.institution_id,
                round_id=people.round_id,
                city_code="430100",
                reason="x",
                status="granted",
                until=local_today() - timedelta(days=1),
                requested_by_id=people.institution.id,
            )
        )
        db.session.commit()
    login(client, people.institution.username)
    response = client.post("/reports/new", data={"round_id": people.round_id}, follow_redirects=True)
    assert "/reports/" in response.request.path
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(MonthlyReport.id))) == 0


def test_refusing_needs_a_note(client, app, people):
    close_round(app, people.round_id)
    login(client, people.institution.username)
    client.post(f"/reports/periods/{people.round_id}/reopen", data={"reason": "理由"})
    with app.app_context():
        request_id = db.session.scalar(sa.select(ReportReopenRequest.id))
    login(client, people.province.username)
    soup = page(
        client.post(f"/reports/reopen-requests/{request_id}", data={"decision": "refuse", "note": ""}), status=422
    )
    assert "不同意时请填写处理意见" in text_of(soup)
    assert (
        client.post(
            f"/reports/reopen-requests/{request_id}", data={"decision": "refuse", "note": "已超过补报期限"}
        ).status_code
        == 303
    )
    login(client, people.institution.username)
    assert "补报申请未获同意：已超过补报期限" in text_of(page(client.get("/reports/")))


def test_a_grant_needs_a_deadline_not_in_the_past_and_a_refusal_keeps_none(app, people):
    """补报's decision, at its edges (mutation testing found them untested): a grant without an end
    date or with one in the past is refused; a refusal records no end date even when one was sent."""
    from app.blueprints.reports import reopen
    from app.blueprints.reports.errors import ReportError
    from tests.reports.conftest import user

    close_round(app, people.round_id)
    with app.test_request_context():
        institution = user(people.institution.username)
        province = user(people.province.username)
        request = reopen.reopen_request_create(
            user=institution, round_id=people.round_id, reason="系统故障未能按时填报"
        )
        for until in (None, local_today() - timedelta(days=1)):
            try:
                reopen.reopen_request_decide(request=request, grant=True, until=until, actor=province)
            except ReportError as error:
                assert "补报截止日期不能早于今天" in str(error)
            else:
                raise AssertionError(f"a grant until {until} was accepted")
        db.session.refresh(request)
        assert request.status == "pending"
        refused = reopen.reopen_request_decide(
            request=request, grant=False, until=local_today() + timedelta(days=5), note="已超过补报期限", actor=province
        )
        assert refused.status == "refused" and refused.until is None and refused.decided_at is not None
