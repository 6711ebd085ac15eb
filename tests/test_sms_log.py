"""The outbox backend writes one log line per message, so a tester can read the code."""

import io

import sqlalchemy as sa

from app.extensions import db
from app.sms import SmsMessage, log, send_sms


def test_outbox_writes_a_row_and_one_log_line(app):
    stream = io.StringIO()
    handler = log.handlers[0]
    previous = handler.setStream(stream)
    try:
        with app.test_request_context():
            send_sms("13800000001", "您的验证码 123456，10 分钟内有效。")
            db.session.commit()
            assert db.session.scalar(sa.select(SmsMessage.text)) == "您的验证码 123456，10 分钟内有效。"
    finally:
        handler.setStream(previous)
    assert stream.getvalue() == "SMS 13800000001 您的验证码 123456，10 分钟内有效。\n"
