"""The SMS outbox: nothing goes out before (or without) the commit; a failing or slow gateway
is recorded, never a 500; codes are masked at rest; each message goes out once."""

import time
from datetime import datetime

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.jobs import registry
from app.sms import SmsMessage, deliver, deliver_pending, send_sms
from tests import sms_capture
from tests.helpers import login
from tests.jobs_queue import run_retries, scheduled
from tests.reports.conftest import people  # noqa: F401  (the fixture)
from tests.reports.test_flow import fill, new_report, upload_and_submit


class Recorder:
    """A gateway that records what it was asked to send."""

    sent = []

    def send(self, phone, text):
        Recorder.sent.append((phone, text))


class Broken:
    def send(self, phone, text):
        raise ConnectionError("短信网关无响应")


class Slow:
    def send(self, phone, text):
        time.sleep(0.3)
        Recorder.sent.append((phone, text))


def _queue_down(*args):
    raise ConnectionError("Redis 无法连接")


@pytest.fixture
def gateway(app, monkeypatch):
    Recorder.sent = []

    def use(name):
        monkeypatch.setitem(app.config, "SMS_BACKEND", f"tests.test_sms_outbox:{name}")

    return use


def _rows():
    db.session.rollback()
    return db.session.scalars(sa.select(SmsMessage).order_by(SmsMessage.id)).all()


def test_a_rolled_back_action_texts_no_one(app, app_ctx, gateway):
    gateway("Recorder")
    send_sms("13800000001", "审核结果：已通过")
    db.session.rollback()
    assert Recorder.sent == [] and _rows() == []


def test_nothing_goes_out_before_the_commit(app, app_ctx, gateway):
    gateway("Recorder")
    send_sms("13800000001", "审核结果：已通过")
    db.session.flush()
    assert Recorder.sent == []
    db.session.commit()
    assert Recorder.sent == [("13800000001", "审核结果：已通过")]
    [row] = _rows()
    assert row.status == "sent" and row.sent_at is not None and row.attempts == 1


def test_a_savepoint_neither_sends_early_nor_loses_a_text(app, app_ctx, gateway):
    """SQLAlchemy 2.1 runs after_commit / after_rollback for savepoints too: a released savepoint
    is not the commit, and a rolled-back one keeps the enclosing transaction's texts."""
    gateway("Recorder")
    send_sms("13800000001", "审核结果：已通过")
    with db.session.begin_nested():
        db.session.execute(sa.select(1))
    assert Recorder.sent == []  # released, not committed
    savepoint = db.session.begin_nested()
    db.session.execute(sa.select(1))
    savepoint.rollback()
    db.session.commit()
    assert Recorder.sent == [("13800000001", "审核结果：已通过")]


def test_codes_are_masked_at_rest_and_sent_whole(app, app_ctx, gateway):
    gateway("Recorder")
    send_sms("13800000001", "您的验证码 482913，10 分钟内有效。", secret="482913")
    db.session.commit()
    assert Recorder.sent == [("13800000001", "您的验证码 482913，10 分钟内有效。")]
    [row] = _rows()
    assert row.text == "您的验证码 ******，10 分钟内有效。" and row.has_secret


def test_a_failing_gateway_is_recorded_not_raised(client, app, app_ctx, people, gateway):  # noqa: F811 (fixture)
    """A review decision still succeeds when the gateway is down; the 短信日志 says it will try again,
    the delivery job retries with back-off (30 s, 60 s, 120 s, 240 s), and the last failure is 发送失败."""
    login(client, people.institution.username)
    report_id = new_report(client)
    fill(client, people, report_id)
    assert upload_and_submit(client, report_id).status_code == 303
    gateway("Broken")
    login(client, people.city.username)
    response = client.post(f"/reports/{report_id}/review", data={"action": "approve"})
    assert response.status_code == 303
    [row] = [row for row in _rows() if "短信网关无响应" in (row.error or "")]
    assert row.status == "pending" and "稍后自动重试" in row.error and row.attempts == 1
    assert len(scheduled(app)) == 1
    assert run_retries(app) == [30, 60, 120, 240]
    [row] = [r for r in _rows() if r.id == row.id]
    assert row.status == "failed" and row.attempts == 5 and row.error == "ConnectionError: 短信网关无响应"


def test_a_gateway_that_recovers_sends_on_the_retry(app, app_ctx, gateway, monkeypatch):
    gateway("Broken")
    send_sms("13800000009", "审核结果：已通过")
    db.session.commit()
    [row] = _rows()
    assert row.status == "pending"
    gateway("Recorder")
    assert run_retries(app) == [30]
    [row] = _rows()
    assert row.status == "sent" and row.attempts == 2 and row.error is None
    assert Recorder.sent == [("13800000009", "审核结果：已通过")]


def test_a_code_is_sent_in_the_request_and_never_queued(app, app_ctx, gateway):
    """Its whole text must not sit in the queue's storage: a failure is final (ask for a new code)."""
    gateway("Broken")
    send_sms("13800000001", "您的验证码 482913。", secret="482913")
    db.session.commit()
    [row] = _rows()
    assert row.status == "failed" and scheduled(app) == []


def test_each_message_is_claimed_once(app, app_ctx, gateway):
    gateway("Recorder")
    message = send_sms("13800000001", "通知")
    db.session.commit()
    assert deliver({message.id: "通知"}) == 0  # already sent: a retry sends nothing
    assert len(Recorder.sent) == 1


def test_a_slow_gateway_stops_inside_the_request_and_the_rest_waits(app, app_ctx, gateway, monkeypatch):
    """Codes go out inside the request, within SMS_INLINE_SECONDS; what is left stays 待发送 and,
    since its code is kept nowhere, ``flask sms-deliver`` marks it failed once it is stale."""
    gateway("Slow")
    monkeypatch.setitem(app.config, "SMS_INLINE_SECONDS", 0.5)
    for n in range(6):
        send_sms(f"1380000000{n}", f"验证码 11111{n}", secret=f"11111{n}")
    db.session.commit()
    rows = _rows()
    sent_now = sum(1 for row in rows if row.status == "sent")
    assert 1 <= sent_now < 6 and all(row.status in ("sent", "pending") for row in rows)
    assert deliver_pending() == (0, 0)  # young codes are still on their way out of their request
    db.session.execute(
        sa.update(SmsMessage).where(SmsMessage.status == "pending").values(created_at=datetime(2020, 1, 1))
    )
    db.session.commit()
    assert deliver_pending() == (0, 6 - sent_now)


def test_the_outbox_log_line_carries_the_code_only_outside_production(app, app_ctx, monkeypatch):
    send_sms("13800000002", "您的验证码 111222。", secret="111222")
    db.session.commit()
    assert sms_capture.delivered("13800000002") == ["您的验证码 111222。"]
    monkeypatch.setitem(app.config, "APP_ENV", "production")
    send_sms("13800000003", "您的验证码 333444。", secret="333444")
    db.session.commit()
    assert all("333444" not in text for text in sms_capture.delivered("13800000003"))


def test_flask_sms_deliver_sends_what_was_left(app, app_ctx, gateway, monkeypatch):
    """Messages left 待发送 (the queue could not be reached) go out with ``flask sms-deliver``."""
    gateway("Slow")
    monkeypatch.setitem(registry(app).tasks, "sms.deliver", _queue_down)
    for n in range(3):
        send_sms(f"1390000000{n}", f"提醒 {n}")
    db.session.commit()
    db.session.remove()
    result = app.test_cli_runner().invoke(args=["sms-deliver"])
    assert result.exit_code == 0 and "已发送" in result.output
    assert all(row.status == "sent" for row in _rows()) and len(Recorder.sent) == 3


def test_failed_texts_are_shown_to_the_province(client, app, app_ctx, gateway):
    """The 管理首页 counts the texts that could not be sent and links to the 短信日志 filtered to them."""
    from tests.factories import make_province_admin

    gateway("Broken")
    send_sms("13800000007", "审核结果：已通过")
    db.session.commit()
    run_retries(app)
    admin = make_province_admin()
    login(client, admin.username)
    home = client.get("/admin/").get_data(as_text=True)
    assert "发送失败的短信" in home and "/admin/sms?status=failed" in home
    listing = client.get("/admin/sms?status=failed").get_data(as_text=True)
    assert "13800000007" in listing and "短信网关无响应" in listing and "发送失败" in listing
    assert "13800000007" not in client.get("/admin/sms?status=sent").get_data(as_text=True)


def test_a_review_result_text_names_the_filing_and_its_month(client, app, app_ctx, people):  # noqa: F811 (fixture)
    login(client, people.institution.username)
    report_id = new_report(client)
    fill(client, people, report_id)
    assert upload_and_submit(client, report_id).status_code == 303
    login(client, people.city.username)
    assert client.post(f"/reports/{report_id}/review", data={"action": "approve"}).status_code == 303
    run_retries(app)  # the delivery job
    from app.blueprints.reports.models import MonthlyReport

    report = db.session.get(MonthlyReport, report_id)
    texts = [text for text in sms_capture.delivered() if "审核结果" in text]
    assert texts == [
        f"【湖南省中小企业服务中心】您的核心服务机构调度数据（{report.round.title}）审核结果：已通过。请登录系统查看详情。"
    ]
