"""Schedules (app/jobs.py, the 定时任务 page): a slot runs once however many schedulers check it at
once; reminders before a 调度期's deadline reach only non-reporters, within the reminder interval;
complaint deadline warnings and escalation; recognition expiry notices; editing with Chinese
messages beside the fields."""

import time
from datetime import date, datetime

import pytest
import sqlalchemy as sa
import time_machine

from app.blueprints.auth.models import User
from app.blueprints.reports.models import ReportReminder
from app.extensions import db
from app.filings.models import Round
from app.inbox import Message
from app.jobs import Schedule, ScheduleKind, ScheduleRun, registry, schedule_run, schedules_check
from app.utils import CHINA
from tests.complaints.conftest import make_complaint
from tests.concurrency import at_once
from tests.factories import make_city_admin, make_institution, make_province_admin, make_round
from tests.helpers import login, page, text_of
from tests.reports.conftest import make_report, recognise


def _in_job(app, call):
    """``call()`` as a worker runs a task: an app context of its own, a write."""
    with app.app_context(), app.test_request_context("/", method="POST"):
        try:
            return call()
        finally:
            db.session.remove()


def _messages(user_id=None):
    db.session.rollback()
    select = sa.select(Message)
    if user_id is not None:
        select = select.where(Message.user_id == user_id)
    return db.session.scalars(select.order_by(Message.id)).all()


@pytest.fixture
def probe(app, monkeypatch):
    """A schedule whose work would show twice if it ran twice (a message per run), slow enough for
    the second runner to arrive while the first holds its claim uncommitted."""
    runs = []

    def run(*, params, today):
        runs.append(today)
        user = db.session.scalar(sa.select(User).where(User.role == "province_admin"))
        db.session.add(Message(user_id=user.id, title=f"定时任务 {today}"))
        db.session.flush()
        time.sleep(0.4)
        return "完成"

    kind = ScheduleKind("test.probe", "测试", "测试用", run)
    monkeypatch.setattr(registry(app), "schedules", {"test.probe": kind})
    return runs


def test_a_slot_runs_once_when_two_workers_run_it_at_once(app, probe):
    with app.app_context():
        make_province_admin()
    today = date(2026, 12, 1)
    results = at_once(
        *(lambda: _in_job(app, lambda: schedule_run("test.probe", "2026-12-01", today)) for _ in range(3))
    )
    assert sorted(results, key=lambda r: r is None) == ["完成", None, None]
    with app.app_context():
        assert len(_messages()) == 1
        assert db.session.scalar(sa.select(sa.func.count(ScheduleRun.id))) == 1
        row = db.session.get(Schedule, "test.probe")
        assert row.last_slot == "2026-12-01" and row.last_ok and row.last_result == "完成"


def test_two_schedulers_checking_at_once_run_each_schedule_once(app, probe):
    with app.app_context():
        make_province_admin()
    with time_machine.travel(datetime(2026, 12, 1, 9, 30, tzinfo=CHINA), tick=False):
        at_once(*(lambda: _in_job(app, schedules_check) for _ in range(2)))
        with app.app_context():
            assert len(_messages()) == 1
        _in_job(app, schedules_check)  # later the same day: done already
    with time_machine.travel(datetime(2026, 12, 2, 8, 59, tzinfo=CHINA), tick=False):
        _in_job(app, schedules_check)  # the next day, before the hour
    with app.app_context():
        assert len(_messages()) == 1
    with time_machine.travel(datetime(2026, 12, 2, 9, 0, tzinfo=CHINA), tick=False):
        _in_job(app, schedules_check)
    with app.app_context():
        assert len(_messages()) == 2 and len(probe) == 2


def test_a_failing_schedule_releases_its_slot(app, monkeypatch):
    calls = []

    def run(*, params, today):
        calls.append(today)
        if len(calls) == 1:
            raise RuntimeError("网关超时")
        return "第二次成功"

    monkeypatch.setattr(registry(app), "schedules", {"test.flaky": ScheduleKind("test.flaky", "测试", "", run)})
    today = date(2026, 12, 1)
    assert _in_job(app, lambda: schedule_run("test.flaky", "2026-12-01", today)) is None
    with app.app_context():
        row = db.session.get(Schedule, "test.flaky")
        assert row.last_ok is False and "网关超时" in row.last_result
    assert _in_job(app, lambda: schedule_run("test.flaky", "2026-12-01", today)) == "第二次成功"


def _deadline_setup(app):
    """A period due on 2026-12-10 (opened 12-01), two institutions recognised since 11-01 (so they
    owe the November report: 应报 counts accounts and recognitions in force during the month): one
    reported, one not."""
    with app.app_context():
        with time_machine.travel(datetime(2026, 11, 1, 8, 0, tzinfo=CHINA), tick=False):
            round = make_round("report", year=2026, month=11, opens_on=date(2026, 12, 1), closes_on=date(2026, 12, 10))
            late = make_institution(name="未报机构", phone="13900001111")
            done = make_institution(name="已报机构", phone="13900002222")
            for user in (late, done):
                recognise(user.institution.id, 2024, 2027)
            make_report(done.id, round.id)
        return late.id, done.id


def test_deadline_reminders_go_3_and_1_days_before_to_non_reporters(app):
    late, done = _deadline_setup(app)
    for day, expected in ((6, 0), (7, 1), (8, 1), (9, 2), (10, 2)):
        with time_machine.travel(datetime(2026, 12, day, 10, 0, tzinfo=CHINA), tick=False):
            _in_job(app, schedules_check)
        with app.app_context():
            assert len(_messages(late)) == expected, day
            assert _messages(done) == []
    with app.app_context():
        row = db.session.scalar(sa.select(ReportReminder))
        assert (row.sender_level, row.sent_by_id, row.times, row.level_label) == ("system", None, 2, "定时提醒")
        result = db.session.get(Schedule, "reports.deadline_reminders").last_result
        assert "今天没有需要提醒的调度期" in result  # the 10th: no threshold


def test_a_deadline_reminder_respects_the_reminder_interval(app, client):
    """An admin's 发送提醒 an hour earlier counts: the schedule does not remind again within 24 hours."""
    late, _ = _deadline_setup(app)
    with app.app_context():
        admin = make_province_admin().username
        round_id = db.session.scalar(sa.select(Round.id))
    with time_machine.travel(datetime(2026, 12, 7, 8, 30, tzinfo=CHINA), tick=False):
        login(client, admin)
        assert client.post("/reports/completeness/remind", data={"round_id": round_id}).status_code == 303
    with time_machine.travel(datetime(2026, 12, 7, 9, 30, tzinfo=CHINA), tick=False):
        _in_job(app, schedules_check)
    with app.app_context():
        assert len(_messages(late)) == 1
        assert "跳过 1 家" in db.session.get(Schedule, "reports.deadline_reminders").last_result


def test_a_disabled_schedule_does_not_run(app):
    late, _ = _deadline_setup(app)
    with app.app_context():
        db.session.add(Schedule(name="reports.deadline_reminders", enabled=False, params={"hour": 9}))
        db.session.commit()
    with time_machine.travel(datetime(2026, 12, 7, 10, 0, tzinfo=CHINA), tick=False):
        _in_job(app, schedules_check)
    with app.app_context():
        assert _messages(late) == []


def test_complaint_deadline_warning_and_escalation(app):
    from app.blueprints.complaints.workdays import add_working_days

    with app.app_context(), time_machine.travel(datetime(2026, 12, 1, 10, 0, tzinfo=CHINA), tick=False):
        province = make_province_admin()
        city = make_city_admin("430100")
        today = date(2026, 12, 1)
        soon = make_complaint(status="transferred", assigned_city_code="430100", due_on=add_working_days(today, 2))
        late = make_complaint(phone="13800000002", status="accepted", due_on=date(2026, 11, 30))
        make_complaint(phone="13800000003", status="accepted", due_on=add_working_days(today, 5))
        province_id, city_id, soon_no, late_no = province.id, city.id, soon.ticket_no, late.ticket_no
    with time_machine.travel(datetime(2026, 12, 1, 10, 0, tzinfo=CHINA), tick=False):
        _in_job(app, schedules_check)
    with app.app_context():
        [warning] = _messages(city_id)
        assert soon_no in warning.title and "到期" in warning.title
        titles = [m.title for m in _messages(province_id)]
        assert any(late_no in t and "已超过办理期限" in t for t in titles)  # its first overdue working day
        assert "超期未办结投诉 1 件，请督办" in titles
        assert db.session.get(Schedule, "complaints.deadlines").last_result == "到期提醒 1 件，超期 1 件"


def test_recognition_expiry_notice_30_days_before_the_term_ends(app):
    with app.app_context():
        ending = make_institution(name="到期机构", phone="13900003333")
        renewed = make_institution(name="续期机构", phone="13900004444")
        recognise(ending.institution.id, 2024, 2026)
        recognise(renewed.institution.id, 2024, 2026)
        recognise(renewed.institution.id, 2027, 2029)
        ending_id, renewed_id = ending.id, renewed.id
    with time_machine.travel(datetime(2026, 11, 30, 10, 0, tzinfo=CHINA), tick=False):
        _in_job(app, schedules_check)  # 31 days before: nothing
    with time_machine.travel(datetime(2026, 12, 1, 10, 0, tzinfo=CHINA), tick=False):
        _in_job(app, schedules_check)
    with app.app_context():
        [notice] = _messages(ending_id)
        assert notice.title == "核心服务机构认定将于 2026-12-31 到期" and "30 天后到期" in notice.body
        assert _messages(renewed_id) == []


def test_the_schedules_page_shows_and_edits_each_schedule(app, client):
    with app.app_context():
        admin = make_province_admin().username
    with time_machine.travel(datetime(2026, 12, 1, 10, 0, tzinfo=CHINA), tick=False):
        login(client, admin)
        text = text_of(page(client.get("/jobs/schedules")))
    login(client, admin)
    for label in ("调度截止前提醒", "投诉办理期限提醒", "认定到期提醒"):
        assert label in text
    assert "每天 9 点；提前天数 3、1 天" in text and "尚未执行" in text and "2026-12-01 10:01" in text
    with app.app_context():  # the page showed the defaults and wrote nothing: the worker makes the rows
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Schedule)) == 0

    bad = client.post(
        "/jobs/schedules/reports.deadline_reminders", data={"enabled": "y", "hour": "25", "days_before": "3,三"}
    )
    soup = page(bad, status=422)
    assert "执行时间应在 0 到 23 点之间" in text_of(soup.find(id="field-hour"))
    assert "天数只能是整数" in text_of(soup.find(id="field-days_before"))
    assert soup.find(id="days_before")["value"] == "3,三" and soup.find(id="hour")["value"] == "25"
    assert "提交的信息有 2 处需要修改" in text_of(soup)

    response = client.post("/jobs/schedules/reports.deadline_reminders", data={"hour": "8", "days_before": "5，2 1"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/jobs/schedules")
    with app.app_context():
        row = db.session.get(Schedule, "reports.deadline_reminders")
        assert (row.enabled, row.params) == (False, {"hour": 8, "days_before": [5, 2, 1]})
    text = text_of(page(client.get("/jobs/schedules")))
    assert "已停用" in text and "提前天数 5、2、1 天" in text
    assert client.get("/jobs/schedules/nothing").status_code == 404
    assert "修改定时任务" in text_of(page(client.get("/admin/audit")))


def test_only_the_province_edits_schedules(app, client):
    with app.app_context():
        city = make_city_admin("430100").username
    login(client, city)
    assert client.get("/jobs/schedules").status_code == 403
    assert client.post("/jobs/schedules/reports.deadline_reminders", data={"hour": "8"}).status_code == 403
