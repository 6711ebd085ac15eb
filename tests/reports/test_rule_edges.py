"""The edges of the monthly report's rules (mutation testing found them untested): the deadline day
itself, whose 补报 exception opens a month, which 补报 requests count, the anomaly rule's
arithmetic, and a 退回 without a comment. Everything through HTTP; rows read back from the database."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.blueprints.reports.models import MonthlyReport, ReportReopenRequest
from app.extensions import db
from app.filings.models import ReviewEvent, Round
from app.utils import local_today
from tests.helpers import login, page, text_of
from tests.reports.conftest import make_report, report_round
from tests.reports.test_flow import fill, new_report, upload_and_submit


def set_deadline(app, round_id, days_from_today):
    with app.app_context():
        db.session.get(Round, round_id).closes_on = local_today() + timedelta(days=days_from_today)
        db.session.commit()


def add_request(app, who, round_id, status, until_days=5):
    """A 补报 request of ``who``'s institution, as the reopen-request pages leave it."""
    with app.app_context():
        db.session.add(
            ReportReopenRequest(
                institution_id=who.institution_id,
                round_id=round_id,
                city_code="430100",
                reason="财务人员变动",
                status=status,
                until=local_today() + timedelta(days=until_days) if status == "granted" else None,
                requested_by_id=who.id,
            )
        )
        db.session.commit()


def report_count(app, who):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(MonthlyReport.id)).where(MonthlyReport.owner_id == who.id))


# ---- the deadline day ---------------------------------------------------------------------------


def test_on_the_deadline_day_itself_a_report_is_started_edited_and_submitted_on_time(client, app, people):
    set_deadline(app, people.round_id, 0)
    login(client, people.institution.username)
    report_id = new_report(client, people.round_id)
    page(client.get(f"/reports/{report_id}/step/basic"))
    fill(client, people, report_id, revenue="321")
    assert upload_and_submit(client, report_id).status_code == 303
    with app.app_context():
        report = db.session.get(MonthlyReport, report_id)
        assert (report.status, str(report.revenue), report.late) == ("submitted", "321.00", False)
    # still the deadline day: the untouched submission may be withdrawn for a change
    assert client.post(f"/reports/{report_id}/withdraw").status_code in (302, 303)
    with app.app_context():
        assert db.session.get(MonthlyReport, report_id).status == "draft"
    # and 申请补报 is not offered: the month is still open
    soup = page(client.post(f"/reports/periods/{people.round_id}/reopen", data={"reason": "来不及"}), status=422)
    assert "尚未截止" in text_of(soup)


def test_the_day_after_the_deadline_the_same_draft_locks(client, app, people):
    login(client, people.institution.username)
    report_id = new_report(client, people.round_id)
    fill(client, people, report_id, revenue="321")
    set_deadline(app, people.round_id, -1)
    response = client.get(f"/reports/{report_id}/step/basic")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/reports/{report_id}")
    client.post(f"/reports/{report_id}/step/basic", data=people.data(revenue="999"))
    client.post(f"/reports/{report_id}/submit")
    with app.app_context():
        report = db.session.get(MonthlyReport, report_id)
        assert (report.status, str(report.revenue)) == ("draft", "321.00")


# ---- whose 补报 counts ------------------------------------------------------------------------------


def test_a_grant_for_one_institution_does_not_open_the_month_for_another(client, app, people):
    set_deadline(app, people.round_id, -3)
    add_request(app, people.other, people.round_id, "granted")  # 株洲: granted
    login(client, people.institution.username)  # 长沙: nothing granted
    client.post("/reports/new", data={"round_id": people.round_id})
    assert report_count(app, people.institution) == 0
    soup = page(client.get("/reports/"))
    assert soup.find("a", string="申请补报") is not None
    login(client, people.other.username)
    new_report(client, people.round_id)
    assert report_count(app, people.other) == 1


def test_a_grant_for_another_month_does_not_open_this_one(client, app, people):
    set_deadline(app, people.round_id, -3)
    with app.app_context():
        year, month = (people.year, people.month - 1) if people.month > 1 else (people.year - 1, 12)
        earlier = report_round(
            year, month, opens_on=local_today() - timedelta(days=40), closes_on=local_today() - timedelta(days=20)
        ).id
    add_request(app, people.institution, earlier, "granted")
    login(client, people.institution.username)
    client.post("/reports/new", data={"round_id": people.round_id})
    with app.app_context():
        assert db.session.scalar(sa.select(MonthlyReport.id).where(MonthlyReport.round_id == people.round_id)) is None
    new_report(client, earlier)  # the granted month itself is open


@pytest.mark.parametrize("status", ["pending", "refused"])
def test_pending_and_refused_requests_are_not_a_grant(client, app, people, status):
    login(client, people.institution.username)
    draft_id = new_report(client, people.round_id)
    fill(client, people, draft_id, revenue="321")
    set_deadline(app, people.round_id, -3)
    add_request(app, people.institution, people.round_id, status)
    add_request(app, people.other, people.round_id, status)
    # the draft stays locked
    response = client.get(f"/reports/{draft_id}/step/basic")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/reports/{draft_id}")
    client.post(f"/reports/{draft_id}/submit")
    with app.app_context():
        assert db.session.get(MonthlyReport, draft_id).status == "draft"
    # and no new report for the month for the other institution either
    login(client, people.other.username)
    client.post("/reports/new", data={"round_id": people.round_id})
    assert report_count(app, people.other) == 0


def test_a_grant_opens_the_draft_until_its_last_day(client, app, people):
    login(client, people.institution.username)
    draft_id = new_report(client, people.round_id)
    fill(client, people, draft_id)
    set_deadline(app, people.round_id, -3)
    add_request(app, people.institution, people.round_id, "granted", until_days=0)  # the last day is today
    page(client.get(f"/reports/{draft_id}/step/basic"))
    assert upload_and_submit(client, draft_id).status_code == 303
    with app.app_context():
        report = db.session.get(MonthlyReport, draft_id)
        assert report.status == "submitted" and report.late


# ---- the anomaly rule: ×3 up or down, or 0 ↔ at least 10 -----------------------------------------

SAME_AS_LAST_MONTH = dict(
    floor_area=500,
    service_assets=300.50,
    site_type="自有",
    staff_count=20,
    bachelor_count=12,
    intermediate_count=5,
    service_expense=80,
    profit=-10.5,
)


@pytest.mark.parametrize(
    "before, now, anomaly",
    [
        ("10", "30", False),  # exactly three times: not "more than"
        ("10", "30.01", True),
        ("30", "10", False),  # exactly a third
        ("30.01", "10", True),
        ("3", "9.99", False),  # more than ×3, but both below 10
        ("3", "10", True),  # ×3.3 and one of them is 10
        ("0", "9.99", False),
        ("0", "10", True),  # from 0 to 10
        ("10", "0", True),  # and back
        ("0", "0", False),
        ("150.25", "150.25", False),
    ],
)
def test_the_anomaly_rule_at_its_edges(client, app, people, before, now, anomaly):
    with app.app_context():
        year, month = (people.year, people.month - 1) if people.month > 1 else (people.year - 1, 12)
        last = report_round(year, month)
        make_report(people.institution.id, last.id, revenue=before, **SAME_AS_LAST_MONTH)
    login(client, people.institution.username)
    report_id = new_report(client, people.round_id)
    response = client.post(f"/reports/{report_id}/step/basic", data=people.data(revenue=now))
    if anomaly:
        assert response.status_code == 422
        assert "与上月相比变化较大" in text_of(page(response, status=422))
        with app.app_context():
            assert db.session.get(MonthlyReport, report_id).revenue is None  # nothing saved
        fill(client, people, report_id, revenue=now, anomaly_note="本月收到一笔大额服务费。")
    else:
        assert response.status_code == 303, text_of(page(response, status=response.status_code))[:300]
    assert upload_and_submit(client, report_id).status_code == 303


def test_an_anomaly_in_a_category_count_needs_the_note_too(client, app, people):
    with app.app_context():
        year, month = (people.year, people.month - 1) if people.month > 1 else (people.year - 1, 12)
        last = report_round(year, month)
        make_report(
            people.institution.id, last.id, revenue=150.25, categories={"融资服务": (0, 0, 0)}, **SAME_AS_LAST_MONTH
        )
        finance = people.cat["融资服务"]
    login(client, people.institution.username)
    report_id = new_report(client, people.round_id)
    data = people.data(
        **{f"cat{finance}_activities": "1", f"cat{finance}_participants": "12", f"cat{finance}_served": "2"}
    )
    soup = page(client.post(f"/reports/{report_id}/step/basic", data=data), status=422)
    assert "融资服务参与企业数 上月 0，本月 12" in text_of(soup)
    assert (
        "服务活动数" not in text_of(soup).split("与上月相比变化较大")[1].split("请用一句话")[0]
    )  # 0 → 1 and 0 → 2 are small


# ---- 退回 needs a comment -------------------------------------------------------------------------


def test_a_monthly_report_is_not_returned_without_a_comment(client, app, people):
    login(client, people.institution.username)
    report_id = new_report(client)
    fill(client, people, report_id)
    assert upload_and_submit(client, report_id).status_code == 303
    for who in (people.city, people.province):
        login(client, who.username)
        for comment in ("", "   "):
            response = client.post(f"/reports/{report_id}/review", data={"action": "return", "comment": comment})
            assert response.status_code not in (302, 303), who.username
            assert "退回" in text_of(page(response, status=response.status_code))
        with app.app_context():
            assert db.session.get(MonthlyReport, report_id).status == "submitted"
            actions = db.session.scalars(sa.select(ReviewEvent.action).where(ReviewEvent.filing_id == report_id)).all()
            assert actions == ["submit"]
    assert (
        client.post(f"/reports/{report_id}/review", data={"action": "return", "comment": "请补充工作总结"}).status_code
        == 303
    )
    with app.app_context():
        assert db.session.get(MonthlyReport, report_id).status == "returned"
