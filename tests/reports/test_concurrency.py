"""Deadline day: transitions, saves and uploads sent really at once, against the live server.

On SQLite the writers queue on BEGIN IMMEDIATE; on PostgreSQL (TEST_DATABASE_URL) they race, and
only the compare-and-set on the filing's status or version keeps each effect single.
"""

import io
from datetime import timedelta

import sqlalchemy as sa

from app.blueprints.reports.models import MonthlyReport, ReportReopenRequest
from app.blueprints.reports.models import ReportMonthStat as ReportStat
from app.extensions import db
from app.filings.models import Attachment, ReviewEvent
from app.inbox import Message
from app.sms import SmsMessage
from app.utils import local_today
from tests.concurrency import Visitor, at_once
from tests.factories import make_city_admin
from tests.helpers import login
from tests.reports.test_flow import fill, new_report, upload_and_submit

PDF = b"%PDF-1.4\n%concurrency\n"


def _submitted_report(client, people):
    login(client, people.institution.username)
    report_id = new_report(client)
    fill(client, people, report_id)
    assert upload_and_submit(client, report_id).status_code == 303
    return _settled(report_id)


def _settled(value):
    """End the test thread's transaction (app_ctx keeps one session across the test client's
    requests), so it holds no SQLite lock while the live server's threads race."""
    db.session.rollback()
    return value


def _events(report_id, action=None):
    db.session.rollback()  # a fresh snapshot: what the live server's requests committed
    select = sa.select(ReviewEvent).where(ReviewEvent.filing_id == report_id)
    if action:
        select = select.where(ReviewEvent.action == action)
    return db.session.scalars(select).all()


def _count(model, *where):
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_two_reviewers_approving_at_once_apply_it_once(client, app, app_ctx, people, live_server):
    report_id = _submitted_report(client, people)
    second = make_city_admin("430100")
    first, other = Visitor(live_server).log_in(people.city.username), Visitor(live_server).log_in(second)
    responses = at_once(
        *(lambda v=v: v.post(f"/reports/{report_id}/review", {"action": "approve"}) for v in (first, other))
    )
    assert [r.status_code for r in responses].count(303) >= 1 and all(r.status_code in (303, 422) for r in responses)
    assert len(_events(report_id, "approve")) == 1
    owner_phone = db.session.get(MonthlyReport, report_id).owner.phone
    assert _count(SmsMessage, SmsMessage.phone == owner_phone, SmsMessage.text.contains("审核结果")) <= 1
    assert _count(Message, Message.title.contains("审核结果")) == 1
    # counted once in 调度大数据's rollup
    assert db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(ReportStat.reports), 0))) == 1
    loser = [r for r in responses if r.status_code == 422]
    if loser:  # the other reviewer is told who did it and the state now
        assert "已由市级审核人员" in loser[0].text and "当前状态为“已通过”" in loser[0].text


def test_triple_approve_by_one_reviewer_lands_on_the_same_success_page(client, app, app_ctx, people, live_server):
    report_id = _submitted_report(client, people)
    reviewer = Visitor(live_server).log_in(people.city.username)
    responses = at_once(
        *(lambda: reviewer.post(f"/reports/{report_id}/review", {"action": "approve"}) for _ in range(3))
    )
    assert [r.status_code for r in responses] == [303, 303, 303]
    assert all(r.headers["Location"].endswith("/reports/review") for r in responses)
    assert len(_events(report_id, "approve")) == 1
    assert _count(Message, Message.title.contains("审核结果")) == 1
    assert db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(ReportStat.reports), 0))) == 1


def test_withdraw_and_approve_at_once_leave_one_consistent_state(client, app, app_ctx, people, live_server):
    report_id = _submitted_report(client, people)
    owner = Visitor(live_server).log_in(people.institution.username)
    reviewer = Visitor(live_server).log_in(people.city.username)
    at_once(
        lambda: owner.post(f"/reports/{report_id}/withdraw"),
        lambda: reviewer.post(f"/reports/{report_id}/review", {"action": "approve"}),
    )
    events = _events(report_id)
    report = db.session.get(MonthlyReport, report_id)
    decisive = [e.action for e in events if e.action in ("withdraw", "approve")]
    assert len(decisive) == 1
    counted = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(ReportStat.reports), 0)))
    if decisive == ["approve"]:
        assert report.status == "approved" and counted == 1
    else:
        assert report.status == "draft" and counted == 0


def test_double_submit_lands_on_success_not_an_error(client, app, app_ctx, people, live_server):
    login(client, people.institution.username)
    report_id = new_report(client)
    fill(client, people, report_id)
    data = {"files": [(io.BytesIO(PDF), "工作总结.pdf")]}
    assert (
        client.post(f"/reports/{report_id}/attachments", data=data, content_type="multipart/form-data").status_code
        == 303
    )
    _settled(None)
    owner = Visitor(live_server).log_in(people.institution.username)
    responses = at_once(*(lambda: owner.post(f"/reports/{report_id}/submit") for _ in range(2)))
    assert [r.status_code for r in responses] == [303, 303]
    assert all(r.headers["Location"].endswith("/reports/") for r in responses)
    assert len(_events(report_id, "submit")) == 1
    listing = owner.get("/reports/").text
    assert "已提交，请等待审核" in listing and "当前状态下不能执行该操作" not in listing


def test_a_late_second_submit_says_submitted_too(client, app, app_ctx, people):
    report_id = _submitted_report(client, people)
    response = client.post(f"/reports/{report_id}/submit", follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "已提交，请等待审核" in text and "撤回" not in text.split("已提交，请等待审核")[0][-200:]
    assert len(_events(report_id, "submit")) == 1


def test_two_uploads_of_one_file_at_once_store_it_once(client, app, app_ctx, people, live_server):
    login(client, people.institution.username)
    report_id = new_report(client)
    fill(client, people, report_id)
    _settled(None)
    owner = Visitor(live_server).log_in(people.institution.username)

    def upload():
        return owner.post(
            f"/reports/{report_id}/attachments", files={"files": ("工作总结.pdf", PDF, "application/pdf")}
        )

    responses = at_once(upload, upload)
    assert [r.status_code for r in responses] == [303, 303]
    assert _count(Attachment, Attachment.filing_id == report_id) == 1


def test_a_stale_tab_cannot_silently_revert_a_newer_save(client, app, app_ctx, people):
    login(client, people.institution.username)
    report_id = new_report(client)
    fill(client, people, report_id)
    stale_version = db.session.get(MonthlyReport, report_id).version
    # tab A saves 服务人员数 = 77
    response = client.post(
        f"/reports/{report_id}/step/basic", data=people.data(staff_count="77", version=str(stale_version))
    )
    assert response.status_code == 303
    # tab B, opened before, saves 营业收入 with the old figures otherwise
    response = client.post(
        f"/reports/{report_id}/step/basic", data=people.data(revenue="999.00", version=str(stale_version))
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "已被保存过" in html and "77" in html and "999.00" in html  # what changed, and what B typed kept
    db.session.rollback()
    report = db.session.get(MonthlyReport, report_id)
    assert report.staff_count == 77 and float(report.revenue) == 150.25
    # B decides to keep theirs: the form now carries the newer version
    newer = report.version
    assert f'name="version" value="{newer}"' in html
    response = client.post(f"/reports/{report_id}/step/basic", data=people.data(revenue="999.00", version=str(newer)))
    assert response.status_code == 303
    db.session.expire_all()
    assert float(db.session.get(MonthlyReport, report_id).revenue) == 999.00


def test_a_double_clicked_next_saves_once_and_moves_on(client, app, app_ctx, people, live_server):
    login(client, people.institution.username)
    report_id = new_report(client)
    fill(client, people, report_id)
    version = _settled(db.session.get(MonthlyReport, report_id).version)
    owner = Visitor(live_server).log_in(people.institution.username)
    data = people.data(staff_count="31", version=str(version))
    responses = at_once(*(lambda: owner.post(f"/reports/{report_id}/step/basic", data) for _ in range(2)))
    assert [r.status_code for r in responses] == [303, 303]
    assert all(r.headers["Location"].endswith(f"/reports/{report_id}/attachments") for r in responses)
    db.session.rollback()
    report = db.session.get(MonthlyReport, report_id)
    assert report.staff_count == 31 and report.version == version + 1


def test_fifty_step_saves_with_list_reads_in_between_never_fail(client, app, app_ctx, people, live_server):
    login(client, people.institution.username)
    report_id = new_report(client)
    fill(client, people, report_id)
    _settled(None)
    owner = Visitor(live_server).log_in(people.institution.username)
    readers = [Visitor(live_server).log_in(people.city.username) for _ in range(2)]

    def save(n):
        return owner.post(f"/reports/{report_id}/step/basic", people.data(staff_count=str(20 + n)))

    calls = []
    for n in range(50):
        calls.append(lambda n=n: save(n))
        if n % 5 == 0:
            calls.append(lambda: owner.get("/reports/"))
            calls.append(lambda r=readers[n % 2]: r.get("/reports/review"))
    # bounded: ten at a time
    statuses = []
    for start in range(0, len(calls), 10):
        statuses += [r.status_code for r in at_once(*calls[start : start + 10])]
    assert 500 not in statuses and set(statuses) <= {200, 303}
    db.session.rollback()
    report = db.session.get(MonthlyReport, report_id)
    assert report.version == 2 + 50  # created 1, filled once, then every save landed once


def _reopen_request(client, app, people):
    from tests.reports.test_deadlines import close_round

    close_round(app, people.round_id)
    login(client, people.institution.username)
    assert (
        client.post(
            f"/reports/periods/{people.round_id}/reopen", data={"reason": "财务人员变动，未能按时填报。"}
        ).status_code
        == 303
    )
    db.session.rollback()
    return db.session.scalar(sa.select(ReportReopenRequest.id))


def test_a_double_clicked_reopen_request_makes_one(client, app, app_ctx, people, live_server):
    from tests.reports.test_deadlines import close_round

    close_round(app, people.round_id)
    _settled(None)
    owner = Visitor(live_server).log_in(people.institution.username)
    data = {"reason": "财务人员变动，未能按时填报。"}
    responses = at_once(*(lambda: owner.post(f"/reports/periods/{people.round_id}/reopen", data) for _ in range(2)))
    assert [r.status_code for r in responses] == [303, 303]
    assert _count(ReportReopenRequest) == 1


def test_two_admins_deciding_one_reopen_request_at_once(client, app, app_ctx, people, live_server):
    request_id = _reopen_request(client, app, people)
    until = (local_today() + timedelta(days=5)).isoformat()
    city, province = (
        Visitor(live_server).log_in(people.city.username),
        Visitor(live_server).log_in(people.province.username),
    )
    responses = at_once(
        lambda: city.post(f"/reports/reopen-requests/{request_id}", {"decision": "grant", "until": until}),
        lambda: province.post(f"/reports/reopen-requests/{request_id}", {"decision": "refuse", "note": "材料不全"}),
    )
    assert 500 not in [r.status_code for r in responses]
    assert sorted(r.status_code for r in responses) == [303, 422]
    loser = next(r for r in responses if r.status_code == 422)
    assert "该申请已于" in loser.text
    # the institution hears of one decision only
    assert _count(Message, Message.user_id == people.institution.id) == 1


def test_the_same_reopen_decision_twice_is_made_once(client, app, app_ctx, people, live_server):
    request_id = _reopen_request(client, app, people)
    until = (local_today() + timedelta(days=5)).isoformat()
    city = Visitor(live_server).log_in(people.city.username)
    responses = at_once(
        *(
            lambda: city.post(f"/reports/reopen-requests/{request_id}", {"decision": "grant", "until": until})
            for _ in range(2)
        )
    )
    assert [r.status_code for r in responses] == [303, 303]
    assert _count(Message, Message.user_id == people.institution.id) == 1


def test_repeated_deletes_land_where_the_first_did(client, app, app_ctx, people):
    login(client, people.institution.username)
    report_id = new_report(client)
    fill(client, people, report_id)
    data = {"files": [(io.BytesIO(PDF), "工作总结.pdf")]}
    assert (
        client.post(f"/reports/{report_id}/attachments", data=data, content_type="multipart/form-data").status_code
        == 303
    )
    attachment_id = db.session.scalar(sa.select(Attachment.id).where(Attachment.filing_id == report_id))
    for _ in range(2):
        response = client.post(f"/reports/{report_id}/attachments/{attachment_id}/delete", data={"confirmed": "1"})
        assert response.status_code == 303 and response.headers["Location"].endswith(
            f"/reports/{report_id}/attachments"
        )
    for _ in range(2):
        response = client.post(f"/reports/{report_id}/delete")
        assert response.status_code == 303 and response.headers["Location"].endswith("/reports/")
    # someone else's (or a never existing) filing is still a 404
    assert client.post("/reports/999999/delete").status_code == 404


def test_a_repeated_withdraw_lands_where_the_first_did(client, app, app_ctx, people):
    report_id = _submitted_report(client, people)
    login(client, people.institution.username)
    for _ in range(2):
        response = client.post(f"/reports/{report_id}/withdraw")
        assert response.status_code == 303 and response.headers["Location"].endswith(f"/reports/{report_id}/step/basic")
    assert len(_events(report_id, "withdraw")) == 1


def _approved_at_once(live_server, people, ids):
    """Two 长沙 reviewers approve the two reports ``ids`` at the same moment; both succeed."""
    db.session.commit()
    _settled(None)
    second = make_city_admin("430100")
    _settled(None)
    first, other = Visitor(live_server).log_in(people.city.username), Visitor(live_server).log_in(second)
    responses = at_once(
        *(lambda v=v, i=i: v.post(f"/reports/{i}/review", {"action": "approve"}) for v, i in zip((first, other), ids))
    )
    assert [r.status_code for r in responses] == [303, 303]
    db.session.rollback()  # a fresh snapshot: what the live server's requests committed


def test_two_months_of_one_institution_approved_at_once_both_count(client, app, app_ctx, people, live_server):
    """The institution's row in the 调度大数据 rollup of who reported takes both months' bits and
    figures: two reviewers approving its January and February reports at the same moment OR the
    bits and add the figures in one upsert each, neither overwriting the other."""
    from app.blueprints.reports import stats
    from app.blueprints.reports.models import ReportInstitutionStat
    from tests.reports.conftest import make_report, report_round

    year = local_today().year - 1
    ids = [
        make_report(
            people.institution.id, report_round(year, m).id, status="submitted", categories={"政策服务": (m, 1, 10 * m)}
        )
        for m in (1, 2)
    ]
    _approved_at_once(live_server, people, ids)
    stored = db.session.execute(
        sa.select(ReportInstitutionStat.months, ReportInstitutionStat.served, ReportInstitutionStat.activities).where(
            ReportInstitutionStat.year == year,
            ReportInstitutionStat.institution_id == people.institution.institution_id,
        )
    ).all()
    reports = [db.session.get(MonthlyReport, i) for i in ids]
    assert [tuple(row) for row in stored] == [
        (0b11, sum(r.served_total for r in reports), sum(r.activities_total for r in reports))
    ]
    with app.test_request_context():
        assert stats.totals(stats.Filters(year, 1, 2)).institutions == 1


def test_two_institutions_of_one_month_approved_at_once_add_up_in_every_rollup(
    client, app, app_ctx, people, live_server
):
    """Two reports of the same month and 市州 approved at the same moment land on the same rollup
    rows (the month's, and each 服务类别's, written in one statement per table): both are added."""
    from app.blueprints.reports.models import ReportCategoryStat, ReportMonthStat
    from tests.factories import make_institution
    from tests.reports.conftest import make_report, report_round

    year = local_today().year - 1
    round_id = report_round(year, 3).id
    neighbour = make_institution(name="长沙并发审核机构", city_code="430100", county_code="430102")
    ids = [
        make_report(people.institution.id, round_id, status="submitted", categories={"政策服务": (1, 2, 3)}),
        make_report(
            neighbour.id, round_id, status="submitted", categories={"政策服务": (10, 20, 30), "融资服务": (4, 5, 6)}
        ),
    ]
    _approved_at_once(live_server, people, ids)
    month = ReportMonthStat.year == year, ReportMonthStat.month == 3
    assert db.session.scalar(sa.select(sa.func.sum(ReportMonthStat.reports)).where(*month)) == 2
    sums = db.session.execute(
        sa.select(
            sa.func.sum(ReportCategoryStat.activities),
            sa.func.sum(ReportCategoryStat.participants),
            sa.func.sum(ReportCategoryStat.served),
        ).where(ReportCategoryStat.year == year, ReportCategoryStat.month == 3)
    ).one()
    assert tuple(sums) == (15, 27, 39)


class _AfterCommit:
    """Statements a request runs after its COMMIT (BEGIN counted: on SQLite a POST's BEGIN
    IMMEDIATE waits for the write lock behind every other writer)."""

    def __init__(self, engine):
        self.engine, self.after = engine, None

    def __enter__(self):
        sa.event.listen(self.engine, "before_cursor_execute", self._statement)
        sa.event.listen(self.engine, "commit", self._commit)
        sa.event.listen(self.engine, "begin", self._begin)
        return self

    def __exit__(self, *exc):
        sa.event.remove(self.engine, "before_cursor_execute", self._statement)
        sa.event.remove(self.engine, "commit", self._commit)
        sa.event.remove(self.engine, "begin", self._begin)

    def reset(self):
        self.after = None

    def _commit(self, _connection):
        self.after = []

    def _begin(self, _connection):
        if self.after is not None:
            self.after.append("BEGIN")

    def _statement(self, _conn, _cursor, statement, *_rest):
        if self.after is not None and not statement.startswith(("BEGIN", "PRAGMA")):
            self.after.append(" ".join(statement.split())[:100])


def test_a_post_that_redirects_reads_nothing_after_its_commit(client, app, app_ctx, people):
    """Save (下一步), 撤回 and 审核通过 answer with a redirect: the URL and the message come from what
    the request already knows, not from reloading the filing or the user the commit expired (no
    second transaction, so no second wait for SQLite's write lock)."""
    login(client, people.institution.username)
    report_id = new_report(client)
    with _AfterCommit(db.engine) as watch:
        fill(client, people, report_id)
        assert watch.after == []
        assert upload_and_submit(client, report_id).status_code == 303
        watch.reset()
        assert client.post(f"/reports/{report_id}/withdraw").status_code == 303
        assert watch.after == []
        fill(client, people, report_id)
        assert upload_and_submit(client, report_id).status_code == 303
        login(client, people.city.username)
        watch.reset()
        response = client.post(f"/reports/{report_id}/review", data={"action": "approve"})
        assert response.status_code == 303 and watch.after == []
    assert "状态为“已通过”" in client.get(response.headers["Location"]).get_data(as_text=True)
