"""SMS through an outbox: recorded in the caller's transaction, delivered after it commits.

``send_sms(phone, text, secret=...)`` adds a ``sms_message`` row (status 待发送) to the current
transaction. Only when that transaction commits is the message handed to the backend, so a
rolled-back action texts no one; a failing or slow gateway marks the row 发送失败 and never fails
the request that caused it. Each row is claimed with a compare-and-set (pending → sending) before
it goes out, so no message is sent twice, whatever retries.

Secrets (verification codes, temporary passwords) are named by the caller: the stored text and the
log line show them masked; the whole text lives only in this process's memory until delivery.

``SMS_BACKEND=outbox`` (the development default) delivers nothing: it writes one log line
``SMS <phone> <text>`` (the code readable only outside production, where the log is the delivery
channel a tester reads). Another backend is named as ``package.module:ClassName`` with a
``send(phone, text)`` method.
"""
import logging
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column
from werkzeug.utils import import_string

from app.extensions import db
from app.utils import utcnow

log = logging.getLogger("app.sms")
log.setLevel(logging.INFO)

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
STATUS_LABELS = {PENDING: "待发送", SENDING: "发送中", SENT: "已发送", FAILED: "发送失败"}
OUTBOX_KEY = "sms_outbox"  # Session.info: the messages written in this transaction, with their whole text


def init_sms_log():
    """One line ``SMS <phone> <text>`` per message on stderr, whatever the app's logging set-up."""
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.propagate = False


class SmsMessage(db.Model):
    """短信日志: every message, its delivery state, secrets masked."""

    __tablename__ = "sms_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(20), index=True)
    text: Mapped[str] = mapped_column(sa.String(500))  # as stored and shown: secrets masked
    backend: Mapped[str] = mapped_column(sa.String(60))
    status: Mapped[str] = mapped_column(sa.String(10), default=PENDING, server_default=SENT, index=True)
    has_secret: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    sent_at: Mapped[datetime | None]

    @property
    def status_label(self):
        return STATUS_LABELS.get(self.status, self.status)


class OutboxBackend:
    """Delivers nothing: the message stays in the 短信日志 and the log."""

    name = "outbox"

    def send(self, phone, text):
        shown = text if current_app.config["APP_ENV"] != "production" else None
        log.info("SMS %s %s", phone, shown if shown is not None else "(已记录，内容见短信日志)")


def get_backend():
    name = current_app.config["SMS_BACKEND"]
    if name == "outbox":
        return OutboxBackend()
    return import_string(name.replace(":", "."))()


def mask(text, secrets):
    for secret in secrets:
        if secret:
            text = text.replace(str(secret), "*" * len(str(secret)))
    return text


def send_sms(phone, text, *, secret=None):
    """Record a text message in the current transaction; it goes out after the commit.

    ``secret`` (a string or several) is masked in what is stored and logged."""
    secrets = [secret] if isinstance(secret, str) else list(secret or [])
    backend = current_app.config["SMS_BACKEND"]
    message = SmsMessage(
        phone=phone, text=mask(text, secrets), backend=backend.rsplit(":", 1)[-1][:60] if backend != "outbox" else "outbox",
        status=PENDING, has_secret=bool(secrets),
    )
    db.session.add(message)
    db.session.info.setdefault(OUTBOX_KEY, []).append({"message": message, "text": text, "id": None})
    return message


@event.listens_for(Session, "after_flush")
def _note_ids(session, _context):
    for entry in session.info.get(OUTBOX_KEY, []):
        if entry["id"] is None:
            entry["id"] = entry["message"].id


@event.listens_for(Session, "after_commit")
def _deliver_after_commit(session):
    # The session itself may not run SQL here; deliver() uses connections of its own.
    for entry in session.info.pop(OUTBOX_KEY, []):
        if entry["id"] is not None:
            deliver(entry["id"], entry["text"])


@event.listens_for(Session, "after_rollback")
def _forget(session):
    session.info.pop(OUTBOX_KEY, None)


def deliver(message_id, text):
    """Claim one pending message (compare-and-set) and hand it to the backend; record the outcome
    in a short transaction of its own. Never raises: a gateway failure is recorded, not thrown."""
    table = SmsMessage.__table__
    with db.engine.begin() as connection:
        claimed = connection.execute(
            sa.update(table)
            .where(table.c.id == message_id, table.c.status == PENDING)
            .values(status=SENDING, attempts=table.c.attempts + 1)
        ).rowcount
    if not claimed:
        return False
    try:
        phone = None
        with db.engine.connect() as connection:
            phone = connection.execute(sa.select(table.c.phone).where(table.c.id == message_id)).scalar_one()
        get_backend().send(phone, text)
    except Exception as error:  # noqa: BLE001 - any gateway failure is recorded on the row
        log.warning("SMS %s 发送失败：%s", message_id, error)
        values = {"status": FAILED, "error": f"{type(error).__name__}: {error}"[:300]}
    else:
        values = {"status": SENT, "sent_at": utcnow(), "error": None}
    with db.engine.begin() as connection:
        connection.execute(sa.update(table).where(table.c.id == message_id).values(**values))
    return values["status"] == SENT


def deliver_pending():
    """Send what a stopped process left 待发送 (``flask sms-deliver``): messages without a
    secret are sent from their stored text; those with one cannot be (the code is not stored)
    and are marked failed, so the person asks for a new code. Returns (sent, failed)."""
    table = SmsMessage.__table__
    sent = failed = 0
    with db.engine.connect() as connection:
        rows = connection.execute(
            sa.select(table.c.id, table.c.text, table.c.has_secret).where(table.c.status == PENDING).order_by(table.c.id)
        ).all()
    for row in rows:
        if row.has_secret:
            with db.engine.begin() as connection:
                connection.execute(
                    sa.update(table).where(table.c.id == row.id, table.c.status == PENDING)
                    .values(status=FAILED, error="含验证码或临时密码，进程中断后不能补发，请用户重新获取")
                )
            failed += 1
        elif deliver(row.id, row.text):
            sent += 1
        else:
            failed += 1
    return sent, failed
