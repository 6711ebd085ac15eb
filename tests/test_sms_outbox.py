"""The SMS outbox: nothing goes out before (or without) the commit; a failing or slow gateway
is recorded, never a 500; codes are masked at rest; each message goes out once."""

import time

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.sms import SmsMessage, deliver, deliver_pending, send_sms
from tests import sms_capture
from tests.helpers import login
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


def test_codes_are_masked_at_rest_and_sent_whole(app, app_ctx, gateway):
    gateway("Recorder")
    send_sms("13800000001", "您的验证码 482913，10 分钟内有效。", secret="482913")
    db.session.commit()
    assert Recorder.sent == [("13800000001", "您的验证码 482913，10 分钟内有效。")]
    [row] = _rows()
    assert row.text == "您的验证码 ******，10 分钟内有效。" and row.has_secret


def test_a_failing_gateway_is_recorded_not_raised(client, app, app_ctx, people, gateway):  # noqa: F811 (fixture)
    """A review decision still succeeds when the gateway is down; the 短信日志 says 发送失败."""
    login(client, people.institution.username)
    report_id = new_report(client)
    fill(client, people, report_id)
    assert upload_and_submit(client, report_id).status_code == 303
    gateway("Broken")
    login(client, people.city.username)
    response = client.post(f"/reports/{report_id}/review", data={"action": "approve"})
    assert response.status_code == 303
    failed = [row for row in _rows() if row.status == "failed"]
    assert len(failed) == 1 and "短信网关无响应" in failed[0].error


def test_each_message_is_claimed_once(app, app_ctx, gateway):
    gateway("Recorder")
    message = send_sms("13800000001", "通知")
    db.session.commit()
    assert deliver({message.id: "通知"}) == 0  # already sent: a retry sends nothing
    assert len(Recorder.sent) == 1


def test_a_slow_gateway_stops_inside_the_request_and_the_rest_waits(app, app_ctx, gateway, monkeypatch):
    gateway("Slow")
    monkeypatch.setitem(app.config, "SMS_INLINE_SECONDS", 0.5)
    for n in range(6):
        send_sms(f"1380000000{n}", f"第 {n} 条")
    db.session.commit()
    rows = _rows()
    sent_now = sum(1 for row in rows if row.status == "sent")
    assert 1 <= sent_now < 6 and all(row.status in ("sent", "pending") for row in rows)
    assert deliver_pending() == (6 - sent_now, 0)
    assert all(row.status == "sent" for row in _rows()) and len(Recorder.sent) == 6


def test_the_outbox_log_line_carries_the_code_only_outside_production(app, app_ctx, monkeypatch):
    send_sms("13800000002", "您的验证码 111222。", secret="111222")
    db.session.commit()
    assert sms_capture.delivered("13800000002") == ["您的验证码 111222。"]
    monkeypatch.setitem(app.config, "APP_ENV", "production")
    send_sms("13800000003", "您的验证码 333444。", secret="333444")
    db.session.commit()
    assert all("333444" not in text for text in sms_capture.delivered("13800000003"))


def test_flask_sms_deliver_sends_what_was_left(app, app_ctx, gateway, monkeypatch):
    gateway("Slow")
    monkeypatch.setitem(app.config, "SMS_INLINE_SECONDS", 0)
    for n in range(3):
        send_sms(f"1390000000{n}", f"提醒 {n}")
    db.session.commit()
    db.session.remove()
    result = app.test_cli_runner().invoke(args=["sms-deliver"])
    assert result.exit_code == 0 and "已发送" in result.output
    assert all(row.status == "sent" for row in _rows()) and len(Recorder.sent) == 3
