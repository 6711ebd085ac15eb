"""注册, 登录, 退出, 图形验证码, 忘记密码, 手机号变更申诉."""

import secrets
from datetime import datetime
from urllib.parse import urlsplit

from flask import abort, flash, make_response, redirect, render_template, request, session, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user

from app.access import login as login_required
from app.access import public
from app.blueprints.auth import bp, services
from app.blueprints.auth.forms import (
    EnterpriseRegisterForm,
    ExpertRegisterForm,
    ForgotPasswordForm,
    InstitutionRegisterForm,
    LoginForm,
    PhoneAppealForm,
    ResetPasswordForm,
)
from app.blueprints.auth.models import PhoneChangeRequest
from app.extensions import db, limiter
from app.filings.attachments import ALLOWED_NOTICE
from app.htmx import redirect_303, render
from app.verification import VerificationError, captcha_new

# Forms of other modules (企业投诉, 处理结果查询) use the same image captcha.
CAPTCHA_SCOPES = frozenset({"login", "forgot", "appeal", "complaint", "lookup"})
RESET_STATE = "password_reset"
# Login is limited per client address (one client cannot try many accounts) and per account
# (many addresses cannot hammer one account). Neither closes login for anyone else. The account
# lock after LOGIN_MAX_FAILURES wrong passwords still applies within these.
LOGIN_LIMIT_PER_ADDRESS = "20 per minute"
LOGIN_LIMIT_PER_ACCOUNT = "30 per 15 minutes"
APPEAL_STATE = "phone_appeal_id"


def _field_error(form, error, default_field):
    """Show a service's refusal beside the field it concerns."""
    name = error.field if error.field in form else default_field
    form[name].errors = [*form[name].errors, str(error)]


def _safe_next(target):
    """Only a path on this site: never another host, scheme or a protocol-relative URL."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(ch) < 32 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _mask(phone):
    return f"{phone[:3]}****{phone[-4:]}" if phone and len(phone) >= 7 else phone


# --- 注册 --------------------------------------------------------------------------------------


@bp.route("/register")
@public
def register():
    """注册: choose 企业注册 or 服务机构注册."""
    return render("auth/register.html")


@bp.route("/register/institution")
@public
def register_institution_choice():
    """服务机构注册: choose 社会服务注册 or 专家注册."""
    return render("auth/register_institution_choice.html")


def _register(form, template, service, fields, warnings=None):
    """The shared flow: validate, ask to confirm what deserves a second look, call the service,
    sign in, go to the workspace.

    ``warnings(form)`` lists what deserves a second look but does not stop registration: the form
    comes back with them beside the field and a confirm button, before the account exists.
    """
    form.fill_choices()
    if form.validate_on_submit():
        pending = warnings(form) if warnings else []
        if pending and not form.confirmed():
            form.ask_to_confirm()
            return render(template, form=form, warnings=pending)
        try:
            user = service(**{name: form[name].data for name in fields})
        except services.AccountError as error:
            _field_error(form, error, "username")
        else:
            services.account_sign_in(user)
            flash("注册成功，欢迎使用！请在基本资料中完善您的信息。", "success")
            return redirect_303(url_for("account.home"))
    return render(template, form=form)


@bp.route("/register/institution/social", methods=["GET", "POST"])
@public
@limiter.limit("30 per hour", methods=["POST"])
def register_institution():
    """社会服务帐户注册; errors: any field invalid, 帐户名称 or 机构代码 already registered."""
    fields = (
        "username",
        "password",
        "unit_nature_id",
        "platform_id",
        "name",
        "uscc",
        "contact",
        "phone",
        "mobile",
        "city_code",
        "county_code",
    )
    return _register(
        InstitutionRegisterForm(),
        "auth/register_institution.html",
        services.institution_register,
        fields,
        lambda form: services.registration_warnings(uscc=form.uscc.data, unit_nature_id=form.unit_nature_id.data),
    )


@bp.route("/register/expert", methods=["GET", "POST"])
@public
@limiter.limit("30 per hour", methods=["POST"])
def register_expert():
    """专家注册; errors: any field invalid, 帐户名称 already registered."""
    fields = (
        "username",
        "password",
        "name",
        "gender",
        "birth_month",
        "employer",
        "title",
        "category_id",
        "phone",
        "city_code",
        "county_code",
        "bio",
    )
    return _register(ExpertRegisterForm(), "auth/register_expert.html", services.expert_register, fields)


@bp.route("/register/enterprise", methods=["GET", "POST"])
@public
@limiter.limit("30 per hour", methods=["POST"])
def register_enterprise():
    """企业注册; errors: any field invalid, 帐户名称 or 统一社会信用代码 already registered."""
    fields = ("username", "password", "name", "uscc", "contact", "phone", "city_code", "county_code")
    return _register(
        EnterpriseRegisterForm(),
        "auth/register_enterprise.html",
        services.enterprise_register,
        fields,
        lambda form: services.registration_warnings(uscc=form.uscc.data),
    )


# --- 登录 / 退出 ---------------------------------------------------------------------------------


def _login_account_key():
    """The per-account login limit's key: the typed 帐户名称, as accounts compare it. A form
    without a name counts against its address, so empty posts cannot use up one shared key."""
    name = (request.form.get("username") or "").strip().lower()
    return f"account:{name}" if name else f"address:{get_remote_address()}"


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(LOGIN_LIMIT_PER_ADDRESS, methods=["POST"])
@limiter.limit(LOGIN_LIMIT_PER_ACCOUNT, methods=["POST"], key_func=_login_account_key)
def login():
    """登录; errors: wrong captcha, wrong name or password (one message), locked, disabled."""
    next_url = _safe_next(request.args.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url or url_for("account.home"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            services.user_login(username=form.username.data, password=form.password.data, captcha=form.captcha.data)
        except services.AccountError as refusal:
            if refusal.field:
                _field_error(form, refusal, "captcha")
            else:
                error = str(refusal)
        else:
            return redirect_303(next_url or url_for("account.home"))
    form.captcha.data = ""
    return render("auth/login.html", form=form, error=error, next_url=next_url)


@bp.route("/logout", methods=["POST"])
@public
def logout():
    """退出 (POST with CSRF); ends the server-side session. Works even if it already expired."""
    services.user_logout()
    flash("您已安全退出。", "success")
    return redirect_303(url_for("portal.index"))


@bp.route("/session/keep-alive")
@login_required
def keep_alive():
    """继续 on the idle-timeout warning: a signed-in request counts as activity (204). A session
    that has ended already is sent to 登录 like any other page."""
    return "", 204


@bp.route("/captcha/<scope>.png")
@public
@limiter.limit("60 per minute")
def captcha_image(scope):
    """A fresh image captcha for a form; 404 for an unknown scope."""
    if scope not in CAPTCHA_SCOPES:
        abort(404)
    response = make_response(captcha_new(scope))
    response.headers["Content-Type"] = "image/png"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/captcha/<scope>/new")
@public
@limiter.limit("60 per minute")
def new_captcha(scope):
    """看不清？换一张 with htmx: the image tag alone, pointing at a fresh image; 404 for an unknown scope."""
    if scope not in CAPTCHA_SCOPES:
        abort(404)
    return render_template("auth/_partials/_captcha_image.html", scope=scope, refresh=secrets.token_hex(4))


# --- 忘记密码 ---------------------------------------------------------------------------------


def _reset_state():
    return session.get(RESET_STATE)


def _remember_send(username, phone, sent_at):
    session[RESET_STATE] = {"username": username, "phone": phone, "sent_at": sent_at.isoformat()}


def _last_sent(state, username, phone):
    if state and state.get("username") == username and state.get("phone") == phone and state.get("sent_at"):
        return datetime.fromisoformat(state["sent_at"])
    return None


@bp.route("/forgot-password", methods=["GET", "POST"])
@public
@limiter.limit("20 per minute", methods=["POST"])
def forgot_password():
    """忘记密码 step 1; errors: wrong captcha, not a mobile, sending too often. A pair that matches
    no account leads to the same next page (no code is sent)."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        username, phone = form.username.data, form.phone.data
        try:
            sent_at = services.password_reset_code_send(
                username=username, phone=phone, last_sent_at=_last_sent(_reset_state(), username, phone)
            )
        except VerificationError as error:
            form.phone.errors = [*form.phone.errors, str(error)]
        else:
            _remember_send(username, phone, sent_at)
            return redirect_303(url_for("auth.reset_password"))
    form.captcha.data = ""
    return render("auth/forgot_password.html", form=form)


@bp.route("/forgot-password/reset", methods=["GET", "POST"])
@public
@limiter.limit("20 per minute", methods=["POST"])
def reset_password():
    """忘记密码 step 2; errors: no step 1 yet (back to it), wrong/expired/used code, weak password."""
    state = _reset_state()
    if not state:
        flash("请先填写帐户名称和绑定手机号。", "info")
        return redirect(url_for("auth.forgot_password"))
    form = ResetPasswordForm(username=state["username"])
    if form.validate_on_submit():
        try:
            services.password_reset(
                username=state["username"], phone=state["phone"], code=form.sms_code.data, password=form.password.data
            )
        except VerificationError as error:
            form.sms_code.errors = [*form.sms_code.errors, str(error)]
        except services.AccountError as error:
            _field_error(form, error, "password")
        else:
            session.pop(RESET_STATE, None)
            flash("密码已重置，请使用新密码登录。您的帐户在其他设备上的登录已全部退出。", "success")
            return redirect_303(url_for("auth.login"))
    return render("auth/reset_password.html", form=form, masked_phone=_mask(state["phone"]))


@bp.route("/forgot-password/resend", methods=["POST"])
@public
@limiter.limit("10 per minute")
def resend_reset_code():
    """重新获取验证码; errors: no step 1 yet, more than once a minute, daily limit reached."""
    state = _reset_state()
    if not state:
        return redirect_303(url_for("auth.forgot_password"))
    form = ResetPasswordForm(username=state["username"])
    try:
        sent_at = services.password_reset_code_send(
            username=state["username"],
            phone=state["phone"],
            last_sent_at=_last_sent(state, state["username"], state["phone"]),
        )
    except VerificationError as error:
        form.sms_code.errors = [str(error)]
        return render("auth/reset_password.html", form=form, masked_phone=_mask(state["phone"]))
    _remember_send(state["username"], state["phone"], sent_at)
    flash("验证码已重新发送，请注意查收短信。", "success")
    return redirect_303(url_for("auth.reset_password"))


# --- 手机号变更申诉 -----------------------------------------------------------------------------


@bp.route("/phone-appeal", methods=["GET", "POST"])
@public
@limiter.limit("10 per minute", methods=["POST"])
def phone_appeal():
    """手机号变更申诉; errors: any field invalid, wrong captcha, a proof file that is refused."""
    form = PhoneAppealForm()
    if form.validate_on_submit():
        try:
            appeal = services.phone_change_request_create(
                username=form.username.data,
                old_phone=form.old_phone.data,
                new_phone=form.new_phone.data,
                reason=form.reason.data,
                file=form.proof.data,
            )
        except services.AccountError as error:
            _field_error(form, error, "proof")
        else:
            session[APPEAL_STATE] = appeal.id
            return redirect_303(url_for("auth.show_phone_appeal"))
    form.captcha.data = ""
    return render("auth/phone_appeal.html", form=form, allowed_notice=ALLOWED_NOTICE)


@bp.route("/phone-appeal/submitted")
@public
def show_phone_appeal():
    """The receipt of the appeal just filed from this browser; without one, back to the form."""
    appeal = db.session.get(PhoneChangeRequest, session.get(APPEAL_STATE) or 0)
    if appeal is None:
        return redirect(url_for("auth.phone_appeal"))
    return render("auth/phone_appeal_submitted.html", appeal=appeal, masked_phone=_mask(appeal.new_phone))
