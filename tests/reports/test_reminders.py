"""催报 with a memory: who reminded whom and when, once per REMINDER_INTERVAL per period by anyone,
also when two admins press 发送提醒 at the same moment; 导出未报送名单."""

import io
import threading
import time
from datetime import timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from bs4 import BeautifulSoup
from flask import request
from openpyxl import load_workbook

from app.blueprints.auth.models import User
from app.blueprints.reports import reminders
from app.blueprints.reports.models import ReportReminder, ReportReopenRequest
from app.extensions import db
from app.filings.models import Round
from app.inbox import Message
from app.sms import SmsMessage
from app.utils import format_datetime, utcnow
from tests.concurrency import Visitor, at_once
from tests.factories import make_institution
from tests.helpers import login, page, text_of
from tests.reports.conftest import make_report, recognise, user

REMIND = "/reports/completeness/remind"


def _setup(app, people):
    """长沙: the people institution has reported; 长沙草稿机构 has a draft only, 长沙未报机构 nothing;
    株洲: people.other has not reported. Returns {name: user id} of the three missing."""
    with app.app_context():
        draft = make_institution(name="长沙草稿机构", city_code="430100", county_code="430102")
        missing = make_institution(name="长沙未报机构", city_code="430100", county_code="430102", phone="13900001111")
        for u in (draft, missing):
            recognise(u.institution.id)
        make_report(people.institution.id, people.round_id, status="submitted")
        make_report(draft.id, people.round_id, status="draft")
        return {"长沙草稿机构": draft.id, "长沙未报机构": missing.id, "株洲调度测试机构": people.other.id}


def _counts(app):
    """(SMS, reminder messages) so far."""
    with app.app_context():
        return (
            db.session.scalar(sa.select(sa.func.count(SmsMessage.id))),
            db.session.scalar(sa.select(sa.func.count(Message.id)).where(Message.title.like("请按时填报%"))),
        )


def _per_user(app):
    with app.app_context():
        return dict(
            db.session.execute(
                sa.select(Message.user_id, sa.func.count(Message.id))
                .where(Message.title.like("请按时填报%"))
                .group_by(Message.user_id)
            ).all()
        )


def _flashes(response):
    return text_of(page(response))


def test_a_reminder_is_recorded_per_institution(client, app, people):
    ids = _setup(app, people)
    login(client, people.city.username)
    client.post(REMIND, data={"round_id": people.round_id})
    with app.app_context():
        rows = {r.institution.user_id: r for r in db.session.scalars(sa.select(ReportReminder))}
        assert set(rows) == {ids["长沙草稿机构"], ids["长沙未报机构"]}  # not the reporter, not 株洲
        row = rows[ids["长沙未报机构"]]
        assert (row.round_id, row.sent_by_id, row.sender_level, row.level_label, row.phone, row.times) == (
            people.round_id,
            people.city.id,
            "city",
            "市级",
            "13900001111",
            1,
        )
        assert abs((row.last_sent_at - utcnow()).total_seconds()) < 60 and row.first_sent_at == row.last_sent_at


def test_pressing_twice_sends_nothing_the_second_time(client, app, people):
    _setup(app, people)
    login(client, people.city.username)
    first = client.post(REMIND, data={"round_id": people.round_id}, follow_redirects=True)
    assert "已向 2 家未报送的机构发送提醒（站内消息 2 条，短信 2 条）" in _flashes(first)
    assert _counts(app) == (2, 2)
    second = client.post(REMIND, data={"round_id": people.round_id})
    assert second.status_code == 303 and "/jobs/" in second.headers["Location"]  # lands on the 催报 job
    text = _flashes(client.get(second.headers["Location"]))
    assert "2 家机构在 24 小时内已提醒过，本次未重复发送" in text and "已向" not in text
    assert _counts(app) == (2, 2)
    with app.app_context():
        assert set(db.session.scalars(sa.select(ReportReminder.times))) == {1}


def test_province_then_city_within_the_interval_sends_nothing_twice(client, app, people):
    ids = _setup(app, people)
    login(client, people.province.username)
    assert "已向 3 家未报送的机构发送提醒" in _flashes(
        client.post(REMIND, data={"round_id": people.round_id}, follow_redirects=True)
    )
    login(client, people.city.username)
    text = _flashes(client.post(REMIND, data={"round_id": people.round_id}, follow_redirects=True))
    assert "2 家机构在 24 小时内已提醒过，本次未重复发送" in text
    assert _counts(app) == (3, 3)
    assert _per_user(app) == {i: 1 for i in ids.values()}
    with app.app_context():
        assert set(db.session.scalars(sa.select(ReportReminder.sender_level))) == {
            "province"
        }  # the city changed nothing


def test_city_then_province_reminds_only_the_rest(client, app, people):
    ids = _setup(app, people)
    login(client, people.city.username)
    client.post(REMIND, data={"round_id": people.round_id})
    login(client, people.province.username)
    text = _flashes(client.post(REMIND, data={"round_id": people.round_id}, follow_redirects=True))
    assert "已向 1 家未报送的机构发送提醒" in text and "2 家机构在 24 小时内已提醒过" in text
    assert _per_user(app) == {i: 1 for i in ids.values()}


def _age_reminders(app, by):
    with app.app_context():
        for row in db.session.scalars(sa.select(ReportReminder)):  # in Python: SQLite keeps datetimes as text
            row.last_sent_at -= by
        db.session.commit()


def test_after_the_interval_it_sends_again(client, app, people):
    ids = _setup(app, people)
    login(client, people.city.username)
    client.post(REMIND, data={"round_id": people.round_id})
    _age_reminders(app, timedelta(hours=23, minutes=50))
    client.post(REMIND, data={"round_id": people.round_id})
    assert _counts(app) == (2, 2)  # still within 24 hours
    _age_reminders(app, timedelta(minutes=11))
    login(client, people.province.username)
    text = _flashes(client.post(REMIND, data={"round_id": people.round_id}, follow_redirects=True))
    assert "已向 3 家未报送的机构发送提醒" in text and "本次未重复发送" not in text
    assert _per_user(app) == {ids["长沙草稿机构"]: 2, ids["长沙未报机构"]: 2, ids["株洲调度测试机构"]: 1}
    with app.app_context():
        again = db.session.scalar(sa.select(ReportReminder).where(ReportReminder.phone == "13900001111"))
        assert (again.times, again.sender_level, again.sent_by_id) == (2, "province", people.province.id)
        assert again.first_sent_at < again.last_sent_at  # the first stays as it was


def test_the_interval_is_a_setting(client, app, people, monkeypatch):
    _setup(app, people)
    monkeypatch.setitem(app.config, "REMINDER_INTERVAL", timedelta(hours=2))
    login(client, people.city.username)
    client.post(REMIND, data={"round_id": people.round_id})
    text = _flashes(client.post(REMIND, data={"round_id": people.round_id}, follow_redirects=True))
    assert "2 家机构在 2 小时内已提醒过，本次未重复发送" in text
    _age_reminders(app, timedelta(hours=2, minutes=1))
    summary = text_of(page(client.get(f"/reports/completeness?round_id={people.round_id}")).find(id="reminder-summary"))
    assert "本期已提醒 2 家" in summary and "已提醒过" not in summary and "同一机构 2 小时内只提醒一次" in summary
    client.post(REMIND, data={"round_id": people.round_id})
    assert _counts(app) == (4, 4)


def test_a_reporter_is_never_reminded_and_nothing_is_left_to_remind(client, app, people):
    with app.app_context():
        make_report(people.institution.id, people.round_id, status="submitted")
        make_report(people.other.id, people.round_id, status="approved")
    login(client, people.province.username)
    assert "所有应报机构均已报送，无需提醒" in _flashes(
        client.post(REMIND, data={"round_id": people.round_id}, follow_redirects=True)
    )
    assert _counts(app) == (0, 0)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ReportReminder.id))) == 0


def test_the_page_shows_the_last_reminder_and_a_summary(client, app, people):
    ids = _setup(app, people)
    login(client, people.province.username)
    text = text_of(page(client.get(f"/reports/completeness?round_id={people.round_id}")))
    assert "本期尚未发送提醒" in text
    login(client, people.city.username)
    client.post(REMIND, data={"round_id": people.round_id})
    with app.app_context():
        sent = format_datetime(db.session.scalar(sa.select(sa.func.max(ReportReminder.last_sent_at))))
        city_name = user(people.city.username).display_name
    login(client, people.province.username)
    soup = page(client.get(f"/reports/completeness?round_id={people.round_id}"))
    table = soup.find(id="missing-title").find_parent("section").find("table")
    header = [th.get_text() for th in table.select("thead th")]
    assert header[-1] == "上次提醒"
    last = {row.find_all("td")[1].get_text(): row.find_all("td")[-1].get_text() for row in table.select("tbody tr")}
    assert last == {"长沙草稿机构": f"{sent}（市级）", "长沙未报机构": f"{sent}（市级）", "株洲调度测试机构": "未提醒"}
    summary = text_of(soup.find(id="reminder-summary"))
    assert f"本期已提醒 2 家，最近一次 {sent}（市级，{city_name}）" in summary
    assert "2 家在 24 小时内已提醒过" in summary
    confirm = soup.find("form", action="/reports/completeness/remind")["data-confirm"]
    assert "确定向 1 家未报送的机构发送提醒" in confirm and "另有 2 家在 24 小时内已提醒过，不会重复发送" in confirm
    # the province's own reminder then shows as 省级, the 株洲 one included
    client.post(REMIND, data={"round_id": people.round_id})
    soup = page(client.get(f"/reports/completeness?round_id={people.round_id}"))
    assert "（省级，" in text_of(soup.find(id="reminder-summary")) and "本期已提醒 3 家" in text_of(
        soup.find(id="reminder-summary")
    )
    cells = [
        row.find_all("td")[-1].get_text()
        for row in soup.find(id="missing-title").find_parent("section").select("tbody tr")
    ]
    assert sorted(c[-4:] for c in cells) == ["（市级）", "（市级）", "（省级）"]
    assert ids


def test_a_city_admin_sees_the_summary_of_its_own_city(client, app, people):
    _setup(app, people)
    login(client, people.province.username)
    client.post(REMIND, data={"round_id": people.round_id, "city_code": "430200"})  # 株洲 only
    login(client, people.city.username)
    summary = text_of(page(client.get(f"/reports/completeness?round_id={people.round_id}")).find(id="reminder-summary"))
    assert "本期尚未发送提醒" in summary
    login(client, people.other_city.username)
    summary = text_of(page(client.get(f"/reports/completeness?round_id={people.round_id}")).find(id="reminder-summary"))
    assert "本期已提醒 1 家" in summary and "（省级，" in summary


# ---- at the same moment ----------------------------------------------------------------------------


def _press_at_once(live_server, people, *usernames):
    visitors = [Visitor(live_server).log_in(name) for name in usernames]
    return at_once(*(lambda v=v: v.post(REMIND, {"round_id": people.round_id}) for v in visitors))


def test_province_and_city_pressing_at_once_remind_each_institution_once(app, people, live_server):
    ids = _setup(app, people)
    for _ in range(3):
        responses = _press_at_once(live_server, people, people.province.username, people.city.username)
        assert [r.status_code for r in responses] == [303, 303]
    assert _per_user(app) == {i: 1 for i in ids.values()}
    with app.app_context():
        phones = list(db.session.scalars(sa.select(SmsMessage.phone)))
        assert len(phones) == 3 and len(set(phones)) == 3
        assert db.session.scalar(sa.select(sa.func.count(ReportReminder.id))) == 3
        assert set(db.session.scalars(sa.select(ReportReminder.times))) == {1}


def test_a_double_click_reminds_once(app, people, live_server):
    ids = _setup(app, people)
    visitor = Visitor(live_server).log_in(people.city.username)
    responses = at_once(*(lambda: visitor.post(REMIND, {"round_id": people.round_id}) for _ in range(4)))
    assert {r.status_code for r in responses} == {303}
    assert _per_user(app) == {ids["长沙草稿机构"]: 1, ids["长沙未报机构"]: 1}
    assert _counts(app) == (2, 2)
    # whichever request came last, the page it lands on says nothing more was sent
    text = text_of(page_of(visitor, responses[-1].headers["Location"]))
    assert "已提醒过，本次未重复发送" in text or "已向 2 家" in text


def page_of(visitor, location):
    parts = urlsplit(location)
    response = visitor.get(parts.path + ("?" + parts.query if parts.query else ""))
    assert response.status_code == 200
    return BeautifulSoup(response.text, "html.parser")


def test_the_second_claim_waits_for_the_first_and_finds_it_done(app, people):
    """The compare-and-set itself: while one transaction holds its claim uncommitted, the other's
    claim waits (PostgreSQL: on the row; SQLite: BEGIN IMMEDIATE), then re-checks and gets nothing."""
    ids = _setup(app, people)
    with app.app_context():
        round_id = people.round_id
        institutions = [db.session.get(User, ids[n]).institution.id for n in ("长沙草稿机构", "长沙未报机构")]
    first_claimed = threading.Event()
    results = {}

    def claim(name, admin, hold):
        with app.test_request_context(REMIND, method="POST"):
            assert request.method == "POST"
            admin_user = user(admin)
            claimed = reminders._claim(
                round=db.session.get(Round, round_id),
                user=admin_user,
                phones={i: None for i in institutions},
                now=utcnow(),
            )
            if hold:
                first_claimed.set()
                time.sleep(0.6)
            started = time.monotonic()
            db.session.commit()
            results[name] = (claimed, time.monotonic() - started)
            db.session.remove()

    def second():
        first_claimed.wait(10)
        started = time.monotonic()
        with app.test_request_context(REMIND, method="POST"):
            admin_user = user(people.province.username)
            claimed = reminders._claim(
                round=db.session.get(Round, round_id),
                user=admin_user,
                phones={i: None for i in institutions},
                now=utcnow(),
            )
            db.session.commit()
            db.session.remove()
        results["second"] = (claimed, time.monotonic() - started)

    threads = [
        threading.Thread(target=claim, args=("first", people.city.username, True)),
        threading.Thread(target=second),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results["first"][0] == set(institutions)
    assert results["second"][0] == set()
    assert results["second"][1] >= 0.4  # it really waited for the first transaction
    assert ids


# ---- 导出未报送名单 ----------------------------------------------------------------------------------


def _sheet(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype.endswith("spreadsheetml.sheet")
    workbook = load_workbook(io.BytesIO(response.data))
    return [list(row) for row in workbook.active.iter_rows(values_only=True)]


def test_export_lists_the_missing_with_their_state_and_last_reminder(client, app, people):
    _setup(app, people)
    login(client, people.city.username)
    client.post(REMIND, data={"round_id": people.round_id})
    with app.app_context():
        sent = format_datetime(db.session.scalar(sa.select(sa.func.max(ReportReminder.last_sent_at))))
    login(client, people.province.username)
    soup = page(client.get(f"/reports/completeness?round_id={people.round_id}"))
    link = soup.find("a", string="导出未报送名单")
    assert link is not None
    response = client.get(link["href"])
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    rows = _sheet(response)
    assert rows[0] == [
        "序号",
        "市州",
        "机构名称",
        "统一社会信用代码",
        "联系人",
        "联系电话",
        "草稿/补报状态",
        "上次提醒",
    ]
    body = {row[2]: row for row in rows[1:]}
    assert set(body) == {"长沙草稿机构", "长沙未报机构", "株洲调度测试机构"}
    assert [row[0] for row in rows[1:]] == [1, 2, 3]
    assert body["长沙未报机构"][1] == "长沙市" and body["长沙未报机构"][5] == "13900001111"
    assert body["长沙草稿机构"][6] == "草稿未提交" and body["长沙未报机构"][6] == "未填报"
    assert body["长沙未报机构"][7] == f"{sent}（市级）" and body["株洲调度测试机构"][7] == "未提醒"
    assert body["株洲调度测试机构"][1] == "株洲市" and isinstance(body["株洲调度测试机构"][3], str)


def test_export_scope_city_admin_and_province_filter(client, app, people):
    _setup(app, people)
    login(client, people.city.username)
    rows = _sheet(client.get(f"/reports/completeness/missing.xlsx?round_id={people.round_id}&city_code=430200"))
    assert sorted(row[2] for row in rows[1:]) == ["长沙未报机构", "长沙草稿机构"]  # its own 市州, whatever it asks
    login(client, people.province.username)
    rows = _sheet(client.get(f"/reports/completeness/missing.xlsx?round_id={people.round_id}&city_code=430200"))
    assert [row[2] for row in rows[1:]] == ["株洲调度测试机构"]
    login(client, people.institution.username)
    assert client.get(f"/reports/completeness/missing.xlsx?round_id={people.round_id}").status_code == 403


def test_export_shows_a_reopen_request_and_keeps_text_as_text(client, app, people):
    with app.app_context():
        odd = make_institution(name='=HYPERLINK("http://x","点我")', city_code="430100", county_code="430102")
        recognise(odd.institution.id)
        db.session.add(
            ReportReopenRequest(
                institution_id=odd.institution.id,
                round_id=people.round_id,
                city_code="430100",
                reason="系统故障",
                requested_by_id=odd.id,
            )
        )
        db.session.commit()
    login(client, people.city.username)
    response = client.get(f"/reports/completeness/missing.xlsx?round_id={people.round_id}")
    rows = _sheet(response)
    odd_row = next(row for row in rows[1:] if row[2].startswith("="))
    assert odd_row[2] == '=HYPERLINK("http://x","点我")' and odd_row[6] == "未填报；补报申请待处理"
    workbook = load_workbook(io.BytesIO(response.data))
    cell = next(c for c in workbook.active["C"] if str(c.value).startswith("="))
    assert cell.data_type == "s"  # a string cell, not a formula


def _queries(app, client, path):
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        page(client.get(path))
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return len(statements)


def test_the_page_does_not_grow_its_queries_with_reminded_rows(client, app, people):
    _setup(app, people)
    login(client, people.province.username)
    path = f"/reports/completeness?round_id={people.round_id}"
    client.post(REMIND, data={"round_id": people.round_id})
    few = _queries(app, client, path)
    with app.app_context():
        for n in range(6):
            recognise(
                make_institution(name=f"岳阳未报机构{n}", city_code="430600", county_code="430602").institution.id
            )
    client.post(REMIND, data={"round_id": people.round_id})
    many = _queries(app, client, path)
    assert many <= few, (few, many)  # the first may also touch the session (once a minute)


def test_claims_go_in_batches(client, app, people, monkeypatch):
    ids = _setup(app, people)
    monkeypatch.setattr(reminders, "CLAIM_BATCH", 2)  # 3 institutions: two statements
    login(client, people.province.username)
    client.post(REMIND, data={"round_id": people.round_id})
    client.post(REMIND, data={"round_id": people.round_id})
    assert _per_user(app) == {i: 1 for i in ids.values()}
