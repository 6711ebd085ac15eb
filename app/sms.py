"""SMS sending behind a pluggable backend.

``SMS_BACKEND=outbox`` (the default) stores each message in the ``sms_message`` table and writes
one log line ``SMS <phone> <text>``, so a person testing a running instance can read the code.
Another backend is named as ``package.module:ClassName``; it needs a ``send(phone, text)`` method.
"""
import logging
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.utils import import_string

from app.extensions import db
from app.utils import utcnow

log = logging.getLogger("app.sms")
log.setLevel(logging.INFO)


def init_sms_log():
    """One line ``SMS <phone> <text>`` per message on stderr, whatever the app's logging set-up."""
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.propagate = False


class SmsMessage(db.Model):
    """短信日志: every message sent, whatever the backend."""

    __tablename__ = "sms_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(20), index=True)
    text: Mapped[str] = mapped_column(sa.String(500))
    backend: Mapped[str] = mapped_column(sa.String(60))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class OutboxBackend:
    """Delivers nothing: the message stays in the outbox table and the log."""

    name = "outbox"

    def send(self, phone, text):
        log.info("SMS %s %s", phone, text)


def get_backend():
    name = current_app.config["SMS_BACKEND"]
    if name == "outbox":
        return OutboxBackend()
    return import_string(name.replace(":", "."))()


def send_sms(phone, text):
    """Send a text message and record it in the 短信日志 (in the caller's transaction)."""
    backend = get_backend()
    backend.send(phone, text)
    db.session.add(SmsMessage(phone=phone, text=text, backend=getattr(backend, "name", type(backend).__name__)))
