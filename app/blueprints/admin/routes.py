"""System administration pages (系统管理): thin views over admin services and queries."""

from flask import abort, current_app, flash, request, session, url_for
from flask_login import current_user

from app.access import roles
from app.blueprints.admin import bp, display, queries, services
from app.blueprints.admin.forms import (
    AuditFilterForm,
    LoginLogFilterForm,
    NewAdminForm,
    PhoneDecisionForm,
    PhoneRequestFilterForm,
    SmsFilterForm,
    UserFilterForm,
)
from app.blueprints.admin.services import AdminError
from app.filings.attachments import attachment_response
from app.htmx import redirect_303, render
from app.inputs import db_int
from app.reference.models import DICT_KINDS
from app.reference.services import region_name
from app.utils import paginate

ADMINS = ("province_admin", "city_admin")
PROVINCE = ("province_admin",)


@bp.context_processor
def admin_helpers():
    return {
        "browser_family": display.browser_family,
        "action_label": display.action_label,
        "target_label": display.target_label,
        "audit_target": display.audit_target,
        "login_detail": display.login_detail,
        "mask_sms": display.mask_sms,
        "session_ref": queries.session_ref,
        "user_name": display.user_name,
        "user_region": display.user_region,
        "file_size": display.file_size,
        "region_name": region_name,
        "dict_kinds": DICT_KINDS,
    }


def _page(select):
    return paginate(select, page=request.args.get("page", 1, type=db_int), per_page=current_app.config["PAGE_SIZE"])


def crumbs(*items):
    return [("系统管理", url_for("admin.home")), *items]


def form_error(form, error):
    """Show a service's refusal beside its field, or at the top when it names none."""
    if error.field and error.field in form:
        form[error.field].errors.append(str(error))
    else:
        flash(str(error), "error")


# --- 管理首页 -------------------------------------------------------------------------------------


@bp.route("/")
@roles(*ADMINS)
def home():
    """管理首页: counts of waiting work from every registered provider."""
    return render("admin/home.html", counts=services.home_counts(current_user), breadcrumb=crumbs(("管理首页", None)))


# --- 用户管理 ---------------------------------------------------------------------------------


@bp.route("/users")
@roles(*ADMINS)
def list_users():
    """用户管理: a city admin sees its 市州's accounts only; bad filter values are ignored."""
    form = UserFilterForm(request.args)
    form.fill_choices(current_user)
    filters = form.values()
    select = queries.users_select(
        viewer=current_user,
        role=filters["role"],
        city_code=filters["city_code"],
        status=filters["status"],
        keyword=filters["q"],
    ).options(*queries.users_page_options())
    return render(
        "admin/users.html",
        "admin/_partials/_users_results.html",
        form=form,
        page=_page(select),
        push_url=request.full_path,
        breadcrumb=crumbs(("用户管理", None)),
    )


def _user_or_404(user_id):
    user = queries.user_for_viewer(viewer=current_user, user_id=user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/users/<int:user_id>")
@roles(*ADMINS)
def show_user(user_id):
    """帐户详情. 404 when the account does not exist or is outside a city admin's 市州."""
    return _user_page(_user_or_404(user_id))


def _user_page(user, once=None):
    """The 帐户详情 page; ``once`` is a message shown in this response only (never in a cookie)."""
    return render(
        "admin/user.html",
        user=user,
        once=once,
        logins=queries.user_recent_logins(user),
        sessions=queries.user_open_sessions(user),
        current_sid=session.get("sid"),
        breadcrumb=crumbs(("用户管理", url_for("admin.list_users")), (user.username, None)),
    )


def _user_action(user_id, action, done):
    user = _user_or_404(user_id)
    try:
        result = action(user=user, actor=current_user)
    except AdminError as error:
        flash(str(error), "error")
    else:
        flash(done(user, result), "success")
    return redirect_303(url_for("admin.show_user", user_id=user.id))


@bp.route("/users/<int:user_id>/disable", methods=["POST"])
@roles(*PROVINCE)
def disable_user(user_id):
    """停用 and end the account's sessions. 404 unknown account; refuses yourself or an already disabled one."""
    return _user_action(
        user_id, services.user_disable, lambda user, _: f"已停用帐户 {user.username}，其登录会话已全部结束。"
    )


@bp.route("/users/<int:user_id>/enable", methods=["POST"])
@roles(*PROVINCE)
def enable_user(user_id):
    """启用. 404 unknown account; refuses an account that is not disabled."""
    return _user_action(user_id, services.user_enable, lambda user, _: f"已启用帐户 {user.username}。")


def _reset_done(user, result):
    password, sms_sent = result
    sent = f"已通过短信发送至 {user.phone}。" if sms_sent else "该帐户未绑定手机，请通过安全方式告知用户。"
    return f"已重置帐户 {user.username} 的密码，临时密码：{password} （仅显示这一次）。{sent}用户登录后须先修改密码。"


@bp.route("/users/<int:user_id>/reset-password", methods=["POST"])
@roles(*PROVINCE)
def reset_password(user_id):
    """重置密码: a temporary password shown once, in this response (not through the flash cookie, which
    is signed but readable), and texted to the bound mobile. 404 unknown account."""
    user = _user_or_404(user_id)
    try:
        result = services.user_reset_password(user=user, actor=current_user)
    except AdminError as error:
        flash(str(error), "error")
        return redirect_303(url_for("admin.show_user", user_id=user.id))
    return _user_page(user, once=_reset_done(user, result))


@bp.route("/users/new-admin", methods=["GET", "POST"])
@roles(*PROVINCE)
def new_admin():
    """新增管理员. Errors (duplicate name, missing 市州, weak password) beside their fields."""
    form = NewAdminForm()
    form.fill_choices()
    if form.validate_on_submit():
        try:
            user = services.admin_create(
                username=form.username.data,
                password=form.password.data,
                role=form.role.data,
                city_code=form.city_code.data or None,
                phone=form.phone.data,
                display_name=form.display_name.data,
                actor=current_user,
                must_change_password=True,
            )
        except AdminError as error:
            form_error(form, error)
        else:
            flash(f"已创建{user.role_label} {user.username}，首次登录须修改密码。", "success")
            return redirect_303(url_for("admin.show_user", user_id=user.id))
    return render(
        "admin/new_admin.html",
        form=form,
        breadcrumb=crumbs(("用户管理", url_for("admin.list_users")), ("新增管理员", None)),
    )


# --- 登录日志, 在线用户, 操作日志, 短信日志 ---------------------------------------------------------


@bp.route("/login-logs")
@roles(*PROVINCE)
def list_login_logs():
    """登录日志. Bad filter values are ignored and marked."""
    form = LoginLogFilterForm(request.args)
    filters = form.values()
    select = queries.login_logs_select(
        success={"ok": True, "fail": False}.get(filters["result"]),
        username=filters["username"],
        date_from=filters["date_from"],
        date_to=filters["date_to"],
    )
    return render(
        "admin/login_logs.html",
        "admin/_partials/_login_logs_results.html",
        form=form,
        page=_page(select),
        push_url=request.full_path,
        breadcrumb=crumbs(("登录日志", None)),
    )


@bp.route("/online")
@roles(*PROVINCE)
def list_online():
    """在线用户: open sessions within the idle and absolute timeouts."""
    return render(
        "admin/online.html",
        page=_page(queries.open_sessions_select()),
        current_sid=session.get("sid"),
        breadcrumb=crumbs(("在线用户", None)),
    )


@bp.route("/online/force-logout", methods=["POST"])
@roles(*PROVINCE)
def force_logout():
    """强退 the session named in the form. Refuses an ended session and the admin's own."""
    back_user = request.form.get("back_user", type=db_int)
    try:
        user = services.session_force_end(
            ref=request.form.get("session", ""), actor=current_user, current_sid=session.get("sid")
        )
    except AdminError as error:
        flash(str(error), "error")
    else:
        flash(f"已强制 {user.username} 下线。", "success")
    return redirect_303(url_for("admin.show_user", user_id=back_user) if back_user else url_for("admin.list_online"))


@bp.route("/audit")
@roles(*PROVINCE)
def list_audit():
    """操作日志. Bad filter values are ignored and marked."""
    form = AuditFilterForm(request.args)
    form.action.choices = [("", "全部"), *display.audit_action_choices(queries.audit_actions_present())]
    form.target_type.choices = [("", "全部"), *display.audit_target_choices()]
    filters = form.values()
    select = queries.audit_select(
        actor=filters["actor"],
        action=filters["action"],
        target_type=filters["target_type"],
        institution=filters["institution"],
        date_from=filters["date_from"],
        date_to=filters["date_to"],
    )
    page = _page(select)
    return render(
        "admin/audit.html",
        "admin/_partials/_audit_results.html",
        form=form,
        page=page,
        institution_names=queries.institution_names({entry.institution_id for entry in page.items}),
        push_url=request.full_path,
        breadcrumb=crumbs(("操作日志", None)),
    )


@bp.route("/audit/<int:entry_id>")
@roles(*PROVINCE)
def show_audit(entry_id):
    """操作日志详情: before/after side by side. 404 unknown entry."""
    entry = queries.audit_get(entry_id) or abort(404)
    return render(
        "admin/audit_entry.html",
        entry=entry,
        rows=display.audit_rows(entry),
        breadcrumb=crumbs(("操作日志", url_for("admin.list_audit")), (f"#{entry.id}", None)),
    )


@bp.route("/sms")
@roles(*PROVINCE)
def list_sms():
    """短信日志: every message with its delivery state; codes and temporary passwords are stored masked."""
    form = SmsFilterForm(request.args)
    filters = form.values()
    return render(
        "admin/sms.html",
        "admin/_partials/_sms_results.html",
        form=form,
        page=_page(queries.sms_select(phone=filters["phone"], status=filters["status"])),
        outbox=current_app.config["SMS_BACKEND"] == "outbox",
        push_url=request.full_path,
        breadcrumb=crumbs(("短信日志", None)),
    )


# --- 手机号变更申诉 ------------------------------------------------------------------------------


@bp.route("/phone-requests")
@roles(*PROVINCE)
def list_phone_requests():
    """手机号变更申诉, 待审核 first by default."""
    form = PhoneRequestFilterForm(request.args)
    status = form.values()["status"] or "pending"
    form.status.data = status
    return render(
        "admin/phone_requests.html",
        "admin/_partials/_phone_requests_results.html",
        form=form,
        page=_page(queries.phone_requests_select(status=None if status == "all" else status)),
        push_url=request.full_path,
        breadcrumb=crumbs(("手机号变更申诉", None)),
    )


def _phone_request_page(req, form, status=200):
    return render(
        "admin/phone_request.html",
        req=req,
        form=form,
        bound_elsewhere=queries.phone_bound_elsewhere(req),
        status=status,
        breadcrumb=crumbs(("手机号变更申诉", url_for("admin.list_phone_requests")), (f"{req.username} 的申诉", None)),
    )


@bp.route("/phone-requests/<int:request_id>")
@roles(*PROVINCE)
def show_phone_request(request_id):
    """申诉详情 with the decision form while pending. 404 unknown request."""
    req = queries.phone_request_get(request_id) or abort(404)
    return _phone_request_page(req, PhoneDecisionForm())


@bp.route("/phone-requests/<int:request_id>/decide", methods=["POST"])
@roles(*PROVINCE)
def decide_phone_request(request_id):
    """通过 / 驳回. 404 unknown request; 驳回 without 处理意见 beside the field; a decided one is refused."""
    req = queries.phone_request_get(request_id) or abort(404)
    form = PhoneDecisionForm()
    if form.validate_on_submit():
        try:
            services.phone_request_decide(
                request_id=req.id, approve=form.decision.data == "approve", note=form.note.data, actor=current_user
            )
        except AdminError as error:
            if error.field != "note":
                flash(str(error), "error")
                return redirect_303(url_for("admin.show_phone_request", request_id=req.id))
            form.note.errors.append(str(error))
        else:
            flash(
                f"已{'通过' if form.decision.data == 'approve' else '驳回'} {req.username} 的手机号变更申诉，结果已短信通知 {req.new_phone}。",
                "success",
            )
            return redirect_303(url_for("admin.show_phone_request", request_id=req.id))
    return _phone_request_page(req, form)


@bp.route("/phone-requests/<int:request_id>/proof")
@roles(*PROVINCE)
def download_phone_proof(request_id):
    """下载申诉证明材料. 404 unknown request or no file."""
    req = queries.phone_request_get(request_id)
    if req is None or req.attachment is None:
        abort(404)
    return attachment_response(req.attachment)
