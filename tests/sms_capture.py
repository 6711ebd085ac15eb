"""What the development SMS outbox delivered, as the log line a tester reads (app/sms.py).

The 短信日志 stores codes and temporary passwords masked, so tests read them where a person
testing a development instance does: the outbox backend's ``SMS <phone> <text>`` log line.
"""

import logging
import re

DELIVERED = []  # (phone, whole text), in order; emptied before each test (tests/conftest.py)


class Capture(logging.Handler):
    def emit(self, record):
        if record.msg == "SMS %s %s":
            DELIVERED.append((str(record.args[0]), str(record.args[1])))


def delivered(phone=None):
    return [text for to, text in DELIVERED if phone is None or to == phone]


def last_code(phone):
    """The latest 6-digit code texted to ``phone``, or None."""
    for text in reversed(delivered(phone)):
        match = re.search(r"验证码[为:：]?\s*(\d{6})", text)
        if match:
            return match.group(1)
    return None
