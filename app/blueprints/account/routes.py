"""The workspace of every account: 工作台, 基本资料, 站内消息, 修改密码."""

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from app.access import login
from app.blueprints.account import bp, services
from app.blueprints.account.forms import ChangePasswordForm, profile_form
from app.htmx import redirect_303, render
from app.inputs import db_int
from app.saved_forms import restored_formdata


def _crumbs(*items):
    return [("工作台", url_for("account.home")), *items]


@bp.route("/")
@login
def home():
    """工作台; admins are sent on to the administration home. No error cases."""
    if current_user.is_admin:
        return redirect(url_for("admin.home"))
    return render("account/home.html", **services.workspace_overview(user=current_user))


@bp.route("/profile", methods=["GET", "POST"])
@login
def edit_profile():
    """基本资料; invalid input comes back with messages beside the fields."""
    kept = restored_formdata() if request.method == "GET" else None  # typed before the session ended
    form = profile_form(current_user, formdata=kept) if kept is not None else profile_form(current_user)
    if form.validate_on_submit():
        changed = services.profile_update(user=current_user, data=form.data)
        flash("基本资料已保存。" if changed else "基本资料没有变化。", "success" if changed else "info")
        return redirect_303(url_for("account.edit_profile"))
    return render(
        "account/profile.html",
        form=form,
        warnings=services.profile_warnings(user=current_user),
        breadcrumb=_crumbs(("基本资料", None)),
    )


@bp.route("/messages")
@login
def list_messages():
    """站内消息 list, newest first. No error cases."""
    page = services.messages_page(user=current_user, page=request.args.get("page", 1, type=db_int) or 1)
    return render("account/messages.html", page=page, breadcrumb=_crumbs(("站内消息", None)))


@bp.route("/messages/<int:message_id>")
@login
def show_message(message_id):
    """One message, marked read; 404 when it is not the user's own."""
    message = services.message_open(user=current_user, message_id=message_id)
    if message is None:
        abort(404)
    return render(
        "account/message.html",
        message=message,
        breadcrumb=_crumbs(("站内消息", url_for("account.list_messages")), (message.title, None)),
    )


@bp.route("/messages/read-all", methods=["POST"])
@login
def read_all_messages():
    """全部标为已读. No error cases (a stale CSRF token is refused app-wide with 400)."""
    count = services.messages_read_all(user=current_user)
    flash(f"已将 {count} 条消息标为已读。" if count else "没有未读消息。", "success" if count else "info")
    return redirect_303(url_for("account.list_messages"))


@bp.route("/password", methods=["GET", "POST"])
@login
def change_password():
    """修改密码; a wrong current password or a weak new one comes back with messages."""
    form = ChangePasswordForm(user=current_user)
    if form.validate_on_submit():
        services.password_change(user=current_user, new_password=form.new_password.data)
        flash("密码已修改。其他设备上的登录已全部退出，本次登录不受影响。", "success")
        return redirect_303(url_for("account.home"))
    return render(
        "account/password.html",
        form=form,
        forced=current_user.must_change_password,
        breadcrumb=_crumbs(("修改密码", None)),
    )
