"""Image captchas and SMS verification codes (DESIGN.md, Security).

Captcha answers and SMS codes live server-side; the browser only ever holds a random token.
"""

import hmac
import secrets
import string
from datetime import datetime, timedelta
from io import BytesIO

import sqlalchemy as sa
from captcha.image import ImageCaptcha
from flask import current_app, session
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from app.database import page_view_write
from app.extensions import db
from app.sms import send_sms
from app.utils import utcnow

CAPTCHA_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CAPTCHA_TTL = timedelta(minutes=10)


class CaptchaChallenge(db.Model):
    __tablename__ = "captcha_challenge"

    token: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    answer: Mapped[str] = mapped_column(sa.String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class SmsCode(db.Model):
    __tablename__ = "sms_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(20), index=True)
    purpose: Mapped[str] = mapped_column(sa.String(30))
    code_hash: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    expires_at: Mapped[datetime]
    tries: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None]


class VerificationError(Exception):
    """A code could not be sent or accepted; the message is for the user."""


# --- image captcha -----------------------------------------------------------------------


def captcha_new(scope):
    """Create a challenge for a form (``scope``) and return its PNG bytes (from the image's GET)."""
    answer = "".join(secrets.choice(CAPTCHA_ALPHABET) for _ in range(4))
    token = secrets.token_urlsafe(24)
    table = CaptchaChallenge.__table__
    old = session.get(f"captcha_{scope}")
    with page_view_write() as connection:  # the image is a GET: its write goes apart (app/database.py)
        connection.execute(sa.delete(table).where(table.c.created_at < utcnow() - CAPTCHA_TTL))
        if old:
            connection.execute(sa.delete(table).where(table.c.token == old))
        connection.execute(sa.insert(table).values(token=token, answer=answer))
    session[f"captcha_{scope}"] = token
    image = ImageCaptcha(width=120, height=44, font_sizes=(32, 36, 38))
    buffer = BytesIO()
    image.write(answer, buffer, format="png")
    return buffer.getvalue()


def captcha_check(scope, typed):
    """True when ``typed`` answers the form's current challenge. A challenge is used once.

    The challenge is deleted, and the deletion committed, before the answer is compared: a
    request that later fails (and rolls back) cannot bring it back for a replay, and of two
    parallel requests with the same challenge only the one whose DELETE removed the row may pass.
    This commits the session (nothing is pending when a form's captcha is checked).
    """
    typed = (typed or "").strip().upper()
    test_code = current_app.config.get("CAPTCHA_TEST_CODE")
    if test_code and typed == test_code.upper():
        return True
    token = session.pop(f"captcha_{scope}", None)
    if not token:
        return False
    table = CaptchaChallenge.__table__
    challenge = db.session.execute(sa.select(table.c.answer, table.c.created_at).where(table.c.token == token)).first()
    consumed = db.session.execute(sa.delete(table).where(table.c.token == token)).rowcount
    db.session.commit()
    if challenge is None or consumed != 1:
        return False
    fresh = challenge.created_at >= utcnow() - CAPTCHA_TTL
    return fresh and hmac.compare_digest(challenge.answer.encode(), typed.encode())  # bytes: typed may not be ASCII


# --- SMS codes -----------------------------------------------------------------------------


def _sms_code_issue(*, phone, purpose):
    """Check the phone's limits (1 a minute, 10 a day, whatever the purpose), retire its earlier
    unused code for ``purpose`` and add a new one. Returns (code, validity). Caller commits."""
    config = current_app.config
    code = "".join(secrets.choice(string.digits) for _ in range(6))
    # Hashed before this function's statements, so a transaction it starts is not held open for it.
    code_hash = generate_password_hash(code, method=config["PASSWORD_HASH_METHOD"])
    now = utcnow()
    last = db.session.scalar(
        sa.select(SmsCode).where(SmsCode.phone == phone).order_by(SmsCode.created_at.desc()).limit(1)
    )
    if last is not None and last.created_at > now - config["SMS_SEND_INTERVAL"]:
        raise VerificationError("验证码发送过于频繁，请 1 分钟后再试。")
    today = db.session.scalar(
        sa.select(sa.func.count(SmsCode.id)).where(SmsCode.phone == phone, SmsCode.created_at > now - timedelta(days=1))
    )
    if today >= config["SMS_SENDS_PER_DAY"]:
        raise VerificationError("该手机号今日获取验证码次数已达上限，请明天再试或联系技术人员。")
    ttl = config["SMS_CODE_TTL"]
    # An earlier unused code for the same purpose stops working once a new one is sent.
    db.session.execute(
        sa.update(SmsCode)
        .where(SmsCode.phone == phone, SmsCode.purpose == purpose, SmsCode.used_at.is_(None))
        .values(used_at=now)
    )
    db.session.add(SmsCode(phone=phone, purpose=purpose, code_hash=code_hash, expires_at=now + ttl))
    return code, ttl


def sms_code_send(*, phone, purpose, text_template):
    """Send a 6-digit code; refuse sends more often than once a minute or 10 times a day.

    ``text_template`` contains ``{code}`` and ``{minutes}``. Commits.
    """
    code, ttl = _sms_code_issue(phone=phone, purpose=purpose)
    send_sms(phone, text_template.format(code=code, minutes=int(ttl.total_seconds() // 60)), secret=code)
    db.session.commit()


def sms_code_decoy(*, phone, purpose):
    """What sms_code_send does (the same limits, a code row, the same work) except the text: for a
    request whose answer must not tell whether ``phone`` belongs to the account asked about. The
    code is never sent, so it can only be guessed; ``purpose`` keeps it apart from real codes.
    Commits."""
    _sms_code_issue(phone=phone, purpose=purpose)
    db.session.commit()


def sms_code_verify(*, phone, purpose, code, commit=True):
    """Accept a code once; at most SMS_CODE_MAX_TRIES tries, within its validity. Commits (a
    wrong try always; a right one unless ``commit`` is False: then the code is used up in the
    caller's transaction, together with what it confirms).

    Each try is counted, and the code used up, by compare-and-set updates, so two requests at
    once can neither both succeed nor try more often than allowed.
    """
    now = utcnow()
    table = SmsCode.__table__
    current = db.session.execute(
        sa.select(table.c.id, table.c.code_hash, table.c.expires_at, table.c.tries)
        .where(table.c.phone == phone, table.c.purpose == purpose, table.c.used_at.is_(None))
        .order_by(table.c.created_at.desc())
        .limit(1)
    ).first()
    if current is None or current.expires_at < now:
        raise VerificationError("短信验证码已失效，请重新获取。")
    max_tries = current_app.config["SMS_CODE_MAX_TRIES"]
    open_code = (table.c.id == current.id) & table.c.used_at.is_(None)
    counted = db.session.execute(
        sa.update(table).where(open_code, table.c.tries < max_tries).values(tries=table.c.tries + 1)
    ).rowcount
    if not counted:
        db.session.execute(sa.update(table).where(open_code).values(used_at=now))
        db.session.commit()
        raise VerificationError("短信验证码错误次数过多，请重新获取。")
    if not check_password_hash(current.code_hash, (code or "").strip()):
        db.session.commit()
        raise VerificationError("短信验证码不正确。")
    used = db.session.execute(sa.update(table).where(open_code).values(used_at=now)).rowcount
    if commit or not used:
        db.session.commit()
    if not used:  # a parallel request with the same code was first
        raise VerificationError("短信验证码已失效，请重新获取。")
