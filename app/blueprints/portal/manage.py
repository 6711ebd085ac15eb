"""内容管理 for province admins: 通知公告管理 and the 核心服务机构名单导入 (thin views)."""

from io import BytesIO

from flask import abort, flash, redirect, request, send_file, session, url_for
from flask_login import current_user

from app.access import roles
from app.blueprints.portal import bp, importer, notices
from app.blueprints.portal.forms import ImportForm, NoticeFilterForm, NoticeForm
from app.filings.attachments import ALLOWED_NOTICE
from app.forms import EmptyForm
from app.htmx import redirect_303, render
from app.inputs import db_int
from app.jobs import job_start
from app.utils import format_datetime, paginate_list

PROVINCE = ("province_admin",)
IMPORT_SESSION_KEY = "institution_import"
PREVIEW_PAGE_SIZE = 50


def _crumbs(*items):
    return [("通知公告管理", url_for("portal.manage_notices")), *items]


def _notice_or_404(notice_id):
    notice = notices.notice_admin_get(notice_id=notice_id)
    if notice is None:
        abort(404)
    return notice


def _checked():
    """The CSRF check of a plain action button (a stale token is refused app-wide with 400)."""
    if not EmptyForm().validate_on_submit():
        abort(400)


# ---- 通知公告管理 ------------------------------------------------------------------------------


@bp.route("/notices/manage")
@roles(*PROVINCE)
def manage_notices():
    """通知公告管理: every notice with its state; bad filter values are ignored."""
    form = NoticeFilterForm(request.args)
    values = form.values()
    page = notices.notice_admin_list(
        category=values["category"],
        status=values["status"],
        q=values["q"],
        page=request.args.get("page", 1, type=db_int) or 1,
    )
    return render(
        "portal/manage/notices.html",
        "portal/manage/_partials/_notice_results.html",
        form=form,
        page=page,
        breadcrumb=[("内容管理", None), ("通知公告管理", None)],
    )


def _notice_form_page(form, notice):
    title = "编辑通知公告" if notice else "新建通知公告"
    return render(
        "portal/manage/notice_form.html",
        form=form,
        notice=notice,
        title=title,
        allowed_notice=ALLOWED_NOTICE,
        breadcrumb=_crumbs((title, None)),
    )


def _save(form, notice):
    return notices.notice_save(
        notice=notice,
        title=form.title.data,
        category=form.category.data,
        body=form.body.data,
        publish=form.publish.data,
        publish_at=form.publish_at_utc,
        pinned=form.pinned.data,
        files=request.files.getlist(form.files.name),
        actor=current_user,
    )


def _saved_message(notice):
    if notice.status_label == "定时发布":
        return f"已保存，将于 {format_datetime(notice.published_at)} 自动发布：{notice.title}"
    return f"已保存（{notice.status_label}）：{notice.title}"


@bp.route("/notices/manage/new", methods=["GET", "POST"])
@roles(*PROVINCE)
def new_notice():
    """新建通知公告; bad input or a refused attachment comes back with messages, nothing saved."""
    form = NoticeForm()
    if form.validate_on_submit():
        try:
            notice = _save(form, None)
        except notices.NoticeError as error:
            form[error.field or "title"].errors.append(str(error))
        else:
            flash(_saved_message(notice), "success")
            return redirect_303(url_for("portal.manage_notices"))
    return _notice_form_page(form, None)


@bp.route("/notices/manage/<int:notice_id>/edit", methods=["GET", "POST"])
@roles(*PROVINCE)
def edit_notice(notice_id):
    """编辑通知公告 and its attachments; 404 for an unknown notice; bad input comes back with messages."""
    notice = _notice_or_404(notice_id)
    form = NoticeForm(obj=notice)
    if request.method == "GET":
        form.fill_from(notice)
    if form.validate_on_submit():
        try:
            notice = _save(form, notice)
        except notices.NoticeError as error:
            form[error.field or "title"].errors.append(str(error))
        else:
            flash(_saved_message(notice), "success")
            return redirect_303(url_for("portal.manage_notices"))
    return _notice_form_page(form, notice)


def _action(notice_id, action, message):
    _checked()
    notice = _notice_or_404(notice_id)
    try:
        action(notice)
    except notices.NoticeError as error:
        flash(str(error), "error")
    else:
        flash(message.format(title=notice.title), "success")
    return redirect_303(url_for("portal.manage_notices"))


@bp.route("/notices/manage/<int:notice_id>/pin", methods=["POST"])
@roles(*PROVINCE)
def pin_notice(notice_id):
    """设为首页头条 (pinned=1) or 取消头条 (pinned=0); 404 for an unknown notice."""
    pinned = request.form.get("pinned") == "1"
    return _action(
        notice_id,
        lambda n: notices.notice_pin(notice=n, pinned=pinned, actor=current_user),
        "已设为首页头条：{title}" if pinned else "已取消首页头条：{title}",
    )


@bp.route("/notices/manage/<int:notice_id>/publish", methods=["POST"])
@roles(*PROVINCE)
def publish_notice(notice_id):
    """立即发布; refused for a notice that is already public; 404 for an unknown notice."""
    return _action(notice_id, lambda n: notices.notice_publish(notice=n, actor=current_user), "已发布：{title}")


@bp.route("/notices/manage/<int:notice_id>/unpublish", methods=["POST"])
@roles(*PROVINCE)
def unpublish_notice(notice_id):
    """撤回; refused for an unpublished notice; 404 for an unknown notice."""
    return _action(
        notice_id, lambda n: notices.notice_unpublish(notice=n, actor=current_user), "已撤回，公众不再能看到：{title}"
    )


@bp.route("/notices/manage/<int:notice_id>/delete", methods=["POST"])
@roles(*PROVINCE)
def delete_notice(notice_id):
    """删除 a notice with its attachments; 404 for an unknown notice."""
    return _action(notice_id, lambda n: notices.notice_delete(notice=n, actor=current_user), "已删除：{title}")


@bp.route("/notices/manage/<int:notice_id>/attachments/<int:attachment_id>/delete", methods=["POST"])
@roles(*PROVINCE)
def delete_notice_attachment(notice_id, attachment_id):
    """删除 one attachment of a notice; 404 when the notice or the attachment (of that notice) is unknown."""
    _checked()
    notice = _notice_or_404(notice_id)
    attachment = notices.notice_attachment_get(notice=notice, attachment_id=attachment_id)
    if attachment is None:
        abort(404)
    notices.notice_attachment_delete(notice=notice, attachment=attachment, actor=current_user)
    flash(f"已删除附件：{attachment.original_name}", "success")
    return redirect_303(url_for("portal.edit_notice", notice_id=notice.id))


# ---- 核心服务机构名单导入 -------------------------------------------------------------------------


def _import_crumbs(*items):
    return [("内容管理", None), ("核心服务机构名单导入", url_for("portal.import_institutions")), *items]


def _own_token_or_404(token):
    if token != session.get(IMPORT_SESSION_KEY):
        abort(404)


@bp.route("/institutions/import", methods=["GET", "POST"])
@roles(*PROVINCE)
def import_institutions():
    """名单导入: upload a sheet for the preview; a missing, non-.xlsx or unreadable file comes back with the reason."""
    form = ImportForm()
    if form.validate_on_submit():
        try:
            token = importer.import_start(file_storage=form.sheet.data)
        except importer.SheetError as error:
            form.sheet.errors.append(str(error))
        else:
            session[IMPORT_SESSION_KEY] = token
            return redirect_303(url_for("portal.preview_institution_import", token=token))
    return render(
        "portal/manage/import.html",
        form=form,
        columns=importer.COLUMNS,
        required=importer.REQUIRED_COLUMNS,
        template_columns=importer.TEMPLATE_COLUMNS,
        breadcrumb=_import_crumbs(),
    )


@bp.route("/institutions/import/template.xlsx")
@roles(*PROVINCE)
def download_import_template():
    """核心服务机构名单导入模板.xlsx. No error cases."""
    return send_file(
        BytesIO(importer.import_template_xlsx()),
        as_attachment=True,
        download_name="核心服务机构名单导入模板.xlsx",
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@bp.route("/institutions/import/<token>")
@roles(*PROVINCE)
def preview_institution_import(token):
    """预览: what each row would do and why; 404 for another session's sheet; an expired one goes back to the upload."""
    _own_token_or_404(token)
    try:
        plan = importer.import_plan(token=token)
    except importer.SheetError as error:
        flash(str(error), "error")
        plan = None
    if plan is None:
        session.pop(IMPORT_SESSION_KEY, None)
        flash("预览已失效，请重新选择文件。", "info")
        return redirect(url_for("portal.import_institutions"))
    outcome = request.args.get("outcome", "")
    rows = [row for row in plan.rows if row.outcome == outcome] if outcome in importer.OUTCOMES else plan.rows
    page = paginate_list(rows, page=request.args.get("page", 1, type=db_int), per_page=PREVIEW_PAGE_SIZE)
    return render(
        "portal/manage/import_preview.html",
        plan=plan,
        page=page,
        token=token,
        outcome=outcome,
        outcomes=importer.OUTCOMES,
        breadcrumb=_import_crumbs(("导入预览", None)),
    )


@bp.route("/institutions/import/<token>/commit", methods=["POST"])
@roles(*PROVINCE)
def commit_institution_import(token):
    """确认导入 as a job: writes what the preview showed (checked again) and its page says what was
    done; 404 for another session's sheet. Posting it twice lands on the same job."""
    _checked()
    _own_token_or_404(token)
    job = job_start(
        kind="portal.import",
        params={"token": token, "back": url_for("portal.list_institutions")},
        user=current_user,
        title="核心服务机构名单导入",
        token=f"import:{token}",
    )
    session.pop(IMPORT_SESSION_KEY, None)
    return redirect_303(url_for("jobs.show_job", job_id=job.id))


@bp.route("/institutions/import/<token>/discard", methods=["POST"])
@roles(*PROVINCE)
def discard_institution_import(token):
    """取消导入: the stored sheet is removed; 404 for another session's sheet."""
    _checked()
    _own_token_or_404(token)
    importer.import_discard(token=token)
    session.pop(IMPORT_SESSION_KEY, None)
    flash("已取消导入，未写入任何数据。", "info")
    return redirect_303(url_for("portal.import_institutions"))
