"""Account rules: registration, login, password reset by SMS, 手机号变更申诉.

Every rule lives here once. The forms' ``validate_<field>`` methods call the ``*_problem``
helpers so the user sees the message beside the field; the services check again (the CLI and
``flask seed-demo`` call them directly) and raise ``AccountError``.
"""

import re
import secrets
from datetime import timedelta
from functools import lru_cache

import sqlalchemy as sa
from flask import current_app, has_request_context, request
from flask_login import login_user, logout_user
from sqlalchemy.exc import IntegrityError
from stdnum.cn import uscc as stdnum_uscc
from werkzeug.security import check_password_hash, generate_password_hash

from app.audit import audit
from app.blueprints.auth.models import Enterprise, Expert, Institution, LoginLog, PhoneChangeRequest, User
from app.blueprints.auth.sessions import session_end, session_start, sessions_end_for_user
from app.database import end_read_transaction
from app.extensions import db
from app.filings.attachments import AttachmentError, attachment_remove_file, attachment_store
from app.forms import LANDLINE_RE, MOBILE_RE, is_mobile, uscc_warnings
from app.passwords import password_problem
from app.reference.models import Platform, ServiceCategory, UnitNature
from app.reference.services import county_belongs, region_name
from app.sms import send_sms
from app.utils import format_datetime, local_today, utcnow
from app.verification import VerificationError, captcha_check, sms_code_decoy, sms_code_send, sms_code_verify

USERNAME_RE = re.compile(r"^[A-Za-z0-9@._-]{4,60}$")
BIRTH_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
EXPERT_MIN_AGE, EXPERT_MAX_AGE = 18, 90
BIO_MAX = 500
GENDERS = ("男", "女")

RESET_SMS = "【湖南省中小企业服务中心】您正在重置密码，验证码 {code}，{minutes} 分钟内有效。如非本人操作请忽略。"
RESET_DONE_SMS = "【湖南省中小企业服务中心】您的帐户密码已重置成功。如非本人操作，请立即拨打技术电话 {phone}。"
LOGIN_FAILED = "帐户名称或密码错误，请检查后重新输入（注意大小写）。"
CAPTCHA_WRONG = "验证码错误，请重新输入。"
CODE_WRONG = "短信验证码不正确。"
RESET_PURPOSE = "reset"
RESET_DECOY_PURPOSE = "reset-unmatched"  # codes recorded for pairs that match no account, never sent


class AccountError(ValueError):
    """An account request was refused; ``field`` names the form field the message belongs to."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


def _tech_phone():
    return current_app.config["CENTRE_TECH_PHONE"]


def _refuse(problem, field=None):
    if problem:
        raise AccountError(problem, field)


# --- rules shared by the forms and the services -------------------------------------------


def username_taken(name):
    """True when an account with this name exists, ignoring case."""
    key = (name or "").strip().lower()
    return db.session.scalar(sa.select(User.id).where(User.username_key == key)) is not None


def username_problem(name):
    """What is wrong with a new account name, or None."""
    name = (name or "").strip()
    if not USERNAME_RE.match(name):
        return "帐户名称应为 4-60 位字母、数字或 @ . _ - 符号（可使用邮箱）。"
    if username_taken(name):
        return "该帐户名称已被注册，请换一个；如是您本人注册的，请直接登录或使用忘记密码。"
    return None


def uscc_owner(code):
    """Which kind of account already holds this 统一社会信用代码: "institution", "enterprise" or None."""
    code = (code or "").strip().upper()
    if db.session.scalar(sa.select(Institution.id).where(Institution.uscc == code)) is not None:
        return "institution"
    if db.session.scalar(sa.select(Enterprise.id).where(Enterprise.uscc == code)) is not None:
        return "enterprise"
    return None


def uscc_problem(code, *, role):
    """One organisation has one account of each type, and an institution never registers as an enterprise."""
    owner = uscc_owner(code)
    if owner is None:
        return None
    if owner == role:
        kind = "服务机构" if role == "institution" else "企业"
        return f"该统一社会信用代码已注册过{kind}帐户，一个单位只能注册一个。如忘记帐户名称，请联系技术人员 {_tech_phone()}。"
    registered = "服务机构" if owner == "institution" else "企业"
    return (
        f"该统一社会信用代码已注册为{registered}。服务机构请选择服务机构注册，不要注册为企业；"
        f"如已注册为企业，请联系技术人员 {_tech_phone()} 更改。"
    )


def _uscc_format_problem(code):
    return None if code and stdnum_uscc.is_valid(code) else "统一社会信用代码不正确，请核对后重新输入。"


def birth_month_problem(value, today=None):
    """出生年月 as YYYY-MM: a real month in the past, age 18-90."""
    match = BIRTH_MONTH_RE.match(value or "")
    if not match or not 1 <= int(match.group(2)) <= 12:
        return "请按 1980-05 的格式填写出生年月。"
    today = today or local_today()
    year, month = int(match.group(1)), int(match.group(2))
    if (year, month) >= (today.year, today.month):
        return "出生年月应早于当前月份。"
    age = today.year - year - (1 if today.month < month else 0)
    if not EXPERT_MIN_AGE <= age <= EXPERT_MAX_AGE:
        return f"按出生年月计算年龄为 {age} 岁，专家年龄应在 {EXPERT_MIN_AGE}-{EXPERT_MAX_AGE} 岁之间，请核对。"
    return None


def _region_problem(city_code, county_code):
    if not city_code or not region_name(city_code):
        return "请选择所在市州。"
    if not county_code or not county_belongs(county_code, city_code):
        return "所选区县不属于所选市州，请重新选择。"
    return None


def _active(model, item_id):
    item = db.session.get(model, item_id) if item_id else None
    return item if item is not None and item.active else None


def _required(**values):
    for field, value in values.items():
        _refuse(None if (value or "").strip() else "此项为必填项。", field)


# --- registration ---------------------------------------------------------------------------


def _new_user(*, username, password, role, phone, city_code, county_code, display_name):
    """The checks every registration shares, then the User row (added, not yet written)."""
    _refuse(username_problem(username), "username")
    _refuse(password_problem(password or "", username=username), "password")
    _refuse(_region_problem(city_code, county_code), "city_code")
    end_read_transaction()  # the checks only read; the hash below is slow
    user = User(username=username, role=role, phone=phone, city_code=city_code, display_name=display_name)
    user.set_password(password)
    db.session.add(user)
    return user


def _commit_registration(user, profile, summary):
    """Write, audit and commit. Two requests may both pass the checks; the unique indexes decide,
    and the loser gets the message the form would have shown."""
    db.session.add(profile)
    try:
        db.session.flush()
        audit(
            "account.register",
            summary=summary,
            target=user,
            after={"role": user.role, "name": user.display_name},
            actor=user,
        )
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        if username_taken(user.username):
            raise AccountError(username_problem(user.username), "username")
        uscc = getattr(profile, "uscc", None)
        if uscc and uscc_owner(uscc):
            raise AccountError(uscc_problem(uscc, role=user.role), "uscc")
        raise AccountError("注册未成功，请稍后重试。")
    return user


def registration_warnings(*, uscc, unit_nature_id=None):
    """What deserves a second look before the account is made: the code's prefix against 单位性质,
    a code registered outside Hunan (app/forms.uscc_warnings). Warnings, not errors."""
    unit = _active(UnitNature, unit_nature_id)
    return uscc_warnings((uscc or "").strip().upper(), unit)


MOBILE_NEEDED = "电话为固定电话时，请填写手机号码：忘记密码和手机号变更申诉的验证码只能发送到手机。"


def institution_register(
    *, username, password, unit_nature_id, platform_id, name, uscc, contact, phone, city_code, county_code, mobile=None
):
    """社会服务帐户注册: the account and its 服务机构. The account's bound phone (SMS codes) is
    ``mobile``, or ``phone`` when that is a mobile; 电话 stays the institution's contact number.
    Commits; raises AccountError."""
    uscc = (uscc or "").strip().upper()
    _required(name=name, contact=contact)
    unit_nature = _active(UnitNature, unit_nature_id)
    _refuse(None if unit_nature else "请选择单位性质。", "unit_nature_id")
    _refuse(None if _active(Platform, platform_id) else "请选择所属平台。", "platform_id")
    _refuse(_uscc_format_problem(uscc) or uscc_problem(uscc, role="institution"), "uscc")
    _refuse(
        None
        if MOBILE_RE.match(phone or "") or LANDLINE_RE.match(phone or "")
        else "请输入手机号码，或带区号的固定电话。",
        "phone",
    )
    mobile = (mobile or "").strip() or (phone if is_mobile(phone) else None)
    _refuse(None if is_mobile(mobile) else MOBILE_NEEDED if not mobile else "请输入正确的 11 位手机号码。", "mobile")
    user = _new_user(
        username=username,
        password=password,
        role="institution",
        phone=mobile,
        city_code=city_code,
        county_code=county_code,
        display_name=name,
    )
    institution = Institution(
        user=user,
        name=name,
        uscc=uscc,
        unit_nature_id=unit_nature_id,
        platform_id=platform_id,
        contact=contact,
        phone=phone,
        city_code=city_code,
        county_code=county_code,
    )
    return _commit_registration(user, institution, f"服务机构注册：{name}（{uscc}）")


def expert_register(
    *,
    username,
    password,
    name,
    gender,
    birth_month,
    employer,
    title,
    category_id,
    phone,
    city_code,
    county_code,
    bio=None,
):
    """专家注册. Commits; raises AccountError."""
    _required(name=name, employer=employer, title=title)
    _refuse(None if gender in GENDERS else "请选择性别。", "gender")
    _refuse(birth_month_problem(birth_month), "birth_month")
    _refuse(None if _active(ServiceCategory, category_id) else "请选择专业领域。", "category_id")
    _refuse(None if is_mobile(phone) else "请输入正确的 11 位手机号码。", "phone")
    bio = (bio or "").strip() or None
    _refuse(f"个人简介不能超过 {BIO_MAX} 字。" if bio and len(bio) > BIO_MAX else None, "bio")
    user = _new_user(
        username=username,
        password=password,
        role="expert",
        phone=phone,
        city_code=city_code,
        county_code=county_code,
        display_name=name,
    )
    expert = Expert(
        user=user,
        name=name,
        gender=gender,
        birth_month=birth_month,
        employer=employer,
        title=title,
        category_id=category_id,
        phone=phone,
        bio=bio,
        city_code=city_code,
        county_code=county_code,
    )
    return _commit_registration(user, expert, f"专家注册：{name}")


def enterprise_register(*, username, password, name, uscc, contact, phone, city_code, county_code):
    """企业注册. Commits; raises AccountError."""
    uscc = (uscc or "").strip().upper()
    _required(name=name, contact=contact)
    _refuse(_uscc_format_problem(uscc) or uscc_problem(uscc, role="enterprise"), "uscc")
    _refuse(None if is_mobile(phone) else "请输入正确的 11 位手机号码。", "phone")
    user = _new_user(
        username=username,
        password=password,
        role="enterprise",
        phone=phone,
        city_code=city_code,
        county_code=county_code,
        display_name=name,
    )
    enterprise = Enterprise(
        user=user,
        name=name,
        uscc=uscc,
        contact=contact,
        phone=phone,
        city_code=city_code,
        county_code=county_code,
    )
    return _commit_registration(user, enterprise, f"企业注册：{name}（{uscc}）")


def account_sign_in(user):
    """Start a server-side session for ``user`` and log it in with Flask-Login. Commits.

    A session this browser still held (another account, or an older login) is ended first.
    """
    session_end("relogin")
    session_start(user)
    login_user(user)
    db.session.commit()


def user_logout():
    """退出: end the server-side session, so a copy of the cookie is useless. Commits."""
    logout_user()
    session_end("logout")
    db.session.commit()


# --- login ------------------------------------------------------------------------------------


def _log_attempt(username, user, success, detail):
    db.session.add(
        LoginLog(
            username=(username or "")[:120],
            user_id=user.id if user is not None else None,
            success=success,
            detail=detail,
            ip=request.remote_addr if has_request_context() else None,
            user_agent=(request.user_agent.string or "")[:300] if has_request_context() else None,
        )
    )


@lru_cache(maxsize=4)
def _dummy_hash(method):
    return generate_password_hash(secrets.token_hex(16), method=method)


def _hash_method():
    return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")


def _lock_minutes():
    return timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])


def _locked_message(until):
    return f"连续登录失败次数过多，帐户已临时锁定，请于 {format_datetime(until)} 后再试，或使用忘记密码重置。"


def _unknown_name_locked_until(username, now):
    """An unknown name locks like a real account would, so the lock reveals nothing."""
    window_start = now - _lock_minutes()
    times = db.session.scalars(
        sa.select(LoginLog.created_at)
        .where(
            sa.func.lower(LoginLog.username) == username.lower(),
            LoginLog.user_id.is_(None),
            LoginLog.success.is_(False),
            LoginLog.detail == "帐户不存在",
            LoginLog.created_at > window_start,
        )
        .order_by(LoginLog.created_at)
    ).all()
    limit = current_app.config["LOGIN_MAX_FAILURES"]
    if len(times) >= limit:
        return times[limit - 1] + _lock_minutes()
    return None


def _user_by_name(username):
    return db.session.scalar(sa.select(User).where(User.username_key == username.lower())) if username else None


def _unknown_name_login(username, password, now):
    """登录 with a name no account has: spend the time a password check takes (so the answer's
    speed does not tell names apart), log the attempt, lock like an account would. Raises."""
    until = _unknown_name_locked_until(username, now)
    end_read_transaction()
    check_password_hash(_dummy_hash(_hash_method()), password or "")
    if until:
        _log_attempt(username, None, False, "帐户已锁定")
        db.session.commit()
        raise AccountError(_locked_message(until))
    _log_attempt(username, None, False, "帐户不存在")
    db.session.flush()
    until = _unknown_name_locked_until(username, now)
    db.session.commit()
    raise AccountError(f"{LOGIN_FAILED}{_locked_message(until)}" if until else LOGIN_FAILED)


def _count_failure(user_id, now):
    """One more failed password, counted in the database (two attempts at once both count);
    the LOGIN_MAX_FAILURES-th locks the account. Returns the locked-until time or None."""
    table = User.__table__
    db.session.execute(sa.update(table).where(table.c.id == user_id).values(failed_logins=table.c.failed_logins + 1))
    failures = db.session.scalar(sa.select(table.c.failed_logins).where(table.c.id == user_id))
    if failures < current_app.config["LOGIN_MAX_FAILURES"]:
        return None
    until = now + _lock_minutes()
    db.session.execute(sa.update(table).where(table.c.id == user_id).values(failed_logins=0, locked_until=until))
    return until


def user_login(*, username, password, captcha):
    """登录: check the captcha, the lock, the password, the status; log every attempt. Commits.

    Returns the user on success (already signed in); raises AccountError otherwise. The message
    never says whether the name or the password was wrong. The order keeps the database's write
    lock short under load: the captcha is used up in a transaction of its own; the account is read
    and that transaction ended; the password is checked outside any transaction; then the outcome
    (counters, login log, session) is written in one short transaction.
    """
    username = (username or "").strip()
    now = utcnow()
    if not captcha_check("login", captcha):
        _log_attempt(username, _user_by_name(username), False, "验证码错误")
        db.session.commit()
        raise AccountError(CAPTCHA_WRONG, "captcha")
    user = _user_by_name(username)
    if user is None:
        _unknown_name_login(username, password, now)
    if user.is_locked(now):
        _log_attempt(username, user, False, "帐户已锁定")
        db.session.commit()
        raise AccountError(_locked_message(user.locked_until))
    user_id, stored_hash = user.id, user.password_hash
    end_read_transaction()
    password_ok = check_password_hash(stored_hash, password or "")
    # --- the write transaction: short, no slow work from here on
    if not password_ok:
        until = _count_failure(user_id, now)
        _log_attempt(username, user, False, "密码错误")
        db.session.commit()
        raise AccountError(f"{LOGIN_FAILED}{_locked_message(until)}" if until else LOGIN_FAILED)
    if user.is_locked(now):  # failures of a parallel attempt locked it meanwhile
        _log_attempt(username, user, False, "帐户已锁定")
        db.session.commit()
        raise AccountError(_locked_message(user.locked_until))
    if not user.is_active:
        _log_attempt(username, user, False, "帐户已停用")
        db.session.commit()
        raise AccountError("帐户已停用，请联系管理员。")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    _log_attempt(username, user, True, "登录成功")
    account_sign_in(user)
    return user


# --- 忘记密码 ---------------------------------------------------------------------------------


def _reset_target(username, phone):
    """The active account whose name and bound mobile match, or None."""
    if not username or not is_mobile(phone):
        return None
    return db.session.scalar(
        sa.select(User).where(
            User.username_key == username.strip().lower(), User.phone == phone, User.status == "active"
        )
    )


def password_reset_code_send(*, username, phone, last_sent_at=None):
    """Send a reset code when the pair matches an active account; otherwise send nothing, silently.

    The answer is the same either way: the 1-per-minute rule of this browser (``last_sent_at``)
    and the phone's own limits (1 a minute, 10 a day) apply to every pair, and a pair that matches
    no account gets a code row that is never sent (``sms_code_decoy``), so step 2 answers a wrong
    code alike too. Returns the time of this request (to remember for the next one). Raises
    VerificationError. Commits.
    """
    now = utcnow()
    if last_sent_at is not None and now - last_sent_at < current_app.config["SMS_SEND_INTERVAL"]:
        raise VerificationError("验证码发送过于频繁，请 1 分钟后再试。")
    target = _reset_target(username, phone)
    end_read_transaction()  # the code's hash is slow work
    if target is not None:
        sms_code_send(phone=phone, purpose=RESET_PURPOSE, text_template=RESET_SMS)
    else:
        sms_code_decoy(phone=phone, purpose=RESET_DECOY_PURPOSE)
    return now


def password_reset(*, username, phone, code, password):
    """Set a new password with the SMS code; end every session of the account. Commits.

    Raises VerificationError for a wrong, used or expired code (and, alike, for a pair that
    matches no account: its code is the decoy of step 1), AccountError for a password the policy
    refuses. The checks run in the same order whether or not the pair matches.
    """
    user = _reset_target(username, phone)
    _refuse(password_problem(password or "", username=(username or "").strip()), "password")
    sms_code_verify(
        phone=phone, purpose=RESET_PURPOSE if user is not None else RESET_DECOY_PURPOSE, code=code
    )  # commits
    if user is None:
        raise VerificationError(CODE_WRONG)  # the decoy's code was never sent: a guess, refused
    user.set_password(password)  # slow, and outside any transaction: the check above committed
    user.must_change_password = False
    user.failed_logins = 0
    user.locked_until = None
    sessions_end_for_user(user, reason="password_reset")
    audit("account.password_reset", summary=f"{user.username} 通过短信验证码重置密码", target=user, actor=user)
    send_sms(phone, RESET_DONE_SMS.format(phone=_tech_phone()))
    db.session.commit()
    return user


# --- 手机号变更申诉 -----------------------------------------------------------------------------


def phone_change_request_create(*, username, old_phone, new_phone, reason, file):
    """File a 手机号变更申诉 with its proof; the account may or may not exist. Commits.

    Raises AccountError (field "proof") when the file is refused. Nothing is left behind on failure.
    """
    username = (username or "").strip()
    user = db.session.scalar(sa.select(User).where(User.username_key == username.lower()))
    _refuse(None if is_mobile(new_phone) else "请输入正确的 11 位手机号码。", "new_phone")
    _refuse(None if reason and 10 <= len(reason.strip()) <= 500 else "申诉理由应为 10-500 字。", "reason")
    try:
        # The uploader is anonymous: whoever files the appeal may not be the account holder.
        attachment = attachment_store(file, user=None)
    except AttachmentError as error:
        db.session.rollback()
        raise AccountError(str(error), "proof")
    request_row = PhoneChangeRequest(
        username=username[:120],
        user_id=user.id if user else None,
        old_phone=old_phone,
        new_phone=new_phone,
        reason=reason.strip(),
        attachment_id=attachment.id,
    )
    db.session.add(request_row)
    try:
        db.session.flush()
        audit("account.phone_appeal", summary=f"手机号变更申诉：{username}", target=request_row, actor=user)
        db.session.commit()
    except Exception:
        db.session.rollback()
        attachment_remove_file(attachment)
        raise
    return request_row
