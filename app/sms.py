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
import time
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column
from werkzeug.utils import import_string

from app.extensions import db
from app.jobs import JobKind, enqueue_now
from app.utils import utcnow

log = logging.getLogger("app.sms")
log.setLevel(logging.INFO)

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
STATUS_LABELS = {PENDING: "待发送", SENDING: "发送中", SENT: "已发送", FAILED: "发送失败"}
STALE_AFTER = timedelta(minutes=10)  # a 待发送 code older than this was lost with its process
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
        phone=phone,
        text=mask(text, secrets),
        backend=backend.rsplit(":", 1)[-1][:60] if backend != "outbox" else "outbox",
        status=PENDING,
        has_secret=bool(secrets),
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
    if session.in_nested_transaction():
        return  # a savepoint released (SQLAlchemy 2.1 fires this then too): wait for the real commit
    # The session itself may not run SQL here; deliver() uses connections of its own.
    entries = session.info.pop(OUTBOX_KEY, [])
    secret = {e["id"]: e["text"] for e in entries if e["id"] is not None and e["message"].has_secret}
    plain = sorted(e["id"] for e in entries if e["id"] is not None and not e["message"].has_secret)
    if secret:
        # A code must arrive now, and its whole text is kept nowhere (not in the queue either):
        # sent at once; a gateway failure marks it failed and the person asks for a new code.
        deliver(secret)
    if plain:
        # Everything else is a job: retried with back-off when the gateway fails (DELIVERY).
        enqueue_now(DELIVERY_TASK, plain)


@event.listens_for(Session, "after_rollback")
def _forget(session):
    if session.in_nested_transaction():
        return  # a savepoint rolled back: the enclosing transaction's messages still stand
    session.info.pop(OUTBOX_KEY, None)


def deliver(texts, *, budget="inline"):
    """Hand pending messages ({id: whole text}) to the backend; returns how many went out.

    The messages are claimed in one compare-and-set (pending → sending), so whoever else tries
    to send them (a retry, ``flask sms-deliver``) finds nothing to do; each outcome is recorded
    (发送失败 with the gateway's error, never raised). Delivery inside a request stops after
    SMS_INLINE_SECONDS: what is left goes back to 待发送 for ``flask sms-deliver``."""
    sent, _failed = _deliver(texts, budget=budget, retry=False)
    return sent


def _deliver(texts, *, budget, retry):
    """(sent, failed) of ``texts``; with ``retry`` a failure goes back to 待发送 (its error noted)
    for the job's next attempt instead of 发送失败."""
    table = SmsMessage.__table__
    with db.engine.begin() as connection:
        claimed = connection.execute(
            sa.update(table)
            .where(table.c.id.in_(sorted(texts)), table.c.status == PENDING)
            .values(status=SENDING, attempts=table.c.attempts + 1)
            .returning(table.c.id, table.c.phone, table.c.attempts)
        ).all()
    if not claimed:
        return 0, 0
    backend = None
    if budget == "inline":
        budget = current_app.config.get("SMS_INLINE_SECONDS")
    started = time.monotonic()
    sent, failed, left = [], {}, []
    attempts = {}
    for message_id, phone, attempt in sorted(claimed):
        attempts[message_id] = attempt
        if budget is not None and time.monotonic() - started > budget:
            left.append(message_id)
            continue
        try:
            backend = backend or get_backend()
            backend.send(phone, texts[message_id])
        except Exception as error:  # noqa: BLE001 - any gateway failure is recorded on the row
            log.warning("SMS %s 发送失败：%s", message_id, error)
            failed[message_id] = f"{type(error).__name__}: {error}"[:250]
        else:
            sent.append(message_id)
    with db.engine.begin() as connection:
        if sent:
            connection.execute(
                sa.update(table).where(table.c.id.in_(sent)).values(status=SENT, sent_at=utcnow(), error=None)
            )
        for message_id, error in failed.items():
            if retry:
                note = f"第 {attempts[message_id]} 次发送失败，稍后自动重试：{error}"
                values = dict(status=PENDING, error=note[:300])
            else:
                values = dict(status=FAILED, error=error)
            connection.execute(sa.update(table).where(table.c.id == message_id).values(**values))
        if left:
            connection.execute(sa.update(table).where(table.c.id.in_(left)).values(status=PENDING))
    if left:
        log.warning("SMS: %s 条短信超出请求内发送时限，留待 flask sms-deliver 发送", len(left))
    return len(sent), len(failed)


class GatewayFailed(RuntimeError):
    """Some messages could not be sent this time; Huey tries the job again later."""


def deliver_task(ids, task=None):
    """The SMS delivery job: send the 待发送 messages ``ids`` (no secrets: their stored text is the
    whole text). A gateway failure leaves them 待发送 and raises, so Huey retries after
    SMS_RETRY_DELAY, then twice that, ...; the last attempt marks them 发送失败 (shown in 短信日志
    and counted on the 管理首页). Safe to run twice: each message is claimed before it is sent."""
    table = SmsMessage.__table__
    with db.engine.connect() as connection:
        rows = connection.execute(
            sa.select(table.c.id, table.c.text).where(
                table.c.id.in_(list(ids)), table.c.status == PENDING, table.c.has_secret.is_(False)
            )
        ).all()
    if not rows:
        return 0
    final = task is None or not task.retries
    sent, failed = _deliver({row.id: row.text for row in rows}, budget=None, retry=not final)
    if failed and not final:
        raise GatewayFailed(f"{failed} 条短信发送失败，稍后重试")
    return sent


DELIVERY_TASK = "sms.deliver"


def delivery_kind(config):
    """The SMS delivery job's declaration (listed by create_app with the modules' jobs)."""
    return JobKind(
        name=DELIVERY_TASK,
        label="发送短信",
        run=None,
        task=deliver_task,
        retries=config["SMS_RETRIES"],
        retry_delay=config["SMS_RETRY_DELAY"],
        backoff=config["SMS_RETRY_BACKOFF"],
    )


def deliver_pending():
    """Send what a stopped process left 待发送 (``flask sms-deliver``): messages without a
    secret are sent from their stored text; those with one cannot be (the code is not stored)
    and are marked failed, so the person asks for a new code. Returns (sent, failed)."""
    table = SmsMessage.__table__
    sent = failed = 0
    plain = {}
    with db.engine.connect() as connection:
        rows = connection.execute(
            sa.select(table.c.id, table.c.text, table.c.has_secret, table.c.created_at)
            .where(table.c.status == PENDING)
            .order_by(table.c.id)
        ).all()
    stale = utcnow() - STALE_AFTER
    for row in rows:
        if row.has_secret:
            if row.created_at < stale:  # younger ones are still on their way out of their request
                with db.engine.begin() as connection:
                    failed += connection.execute(
                        sa.update(table)
                        .where(table.c.id == row.id, table.c.status == PENDING)
                        .values(status=FAILED, error="含验证码或临时密码，进程中断后不能补发，请用户重新获取")
                    ).rowcount
        else:
            plain[row.id] = row.text
    sent += deliver(plain, budget=None) if plain else 0
    with db.engine.connect() as connection:
        failed += connection.execute(
            sa.select(sa.func.count()).select_from(table).where(table.c.id.in_(plain or [0]), table.c.status == FAILED)
        ).scalar_one()
    return sent, failed
