"""企业投诉: public 投诉登记 and 处理结果 pages, and the 投诉处理 pages of admins (thin views)."""

from io import BytesIO

from flask import abort, current_app, flash, redirect, request, send_file, session, url_for
from flask_login import current_user

from app.access import public, roles
from app.blueprints.complaints import bp, handling, services, stats
from app.blueprints.complaints.forms import (
    ACTION_FORMS,
    ComplaintForm,
    LookupForm,
    QueueFilterForm,
    RatingForm,
    SmsCodeForm,
    StatsFilterForm,
)
from app.blueprints.complaints.institution_section import institution_named
from app.blueprints.complaints.services import DRAFT_FIELDS, ComplaintError, mask_phone
from app.extensions import limiter
from app.filings.attachments import ALLOWED_NOTICE, attachment_response
from app.filings.export import XLSX
from app.htmx import redirect_303, render
from app.inputs import db_int
from app.utils import local_today, paginate
from app.verification import VerificationError

ADMINS = ("province_admin", "city_admin")
DRAFT, DONE, LOOKUP = "complaint_draft", "complaint_done", "complaint_lookup"


@bp.context_processor
def complaint_helpers():
    return {"deadline": handling.deadline, "mask_phone": mask_phone, "due_working_days": services.due_working_days}


def _field_error(form, error, default):
    name = getattr(error, "field", None) or default
    form[name].errors = [*form[name].errors, str(error)]


# --- 投诉登记 ------------------------------------------------------------------------------------


@bp.route("/", methods=["GET", "POST"])
@public
@limiter.limit("20 per minute", methods=["POST"])
def new_complaint():
    """投诉登记; errors: a required field empty, a phone malformed, 投诉事项 outside 10-2000 字, more than
    5 files or a refused file, a wrong image captcha, the SMS send limits."""
    draft = services.complaint_draft_get(draft_id=session.get(DRAFT))
    kept = list(draft.attachments) if draft is not None else []
    form = ComplaintForm(obj=draft if request.method == "GET" else None)
    form.fill_choices(kept)
    if form.validate_on_submit():
        try:
            draft = services.complaint_draft_save(
                draft_id=draft.id if draft is not None else None,
                data={name: form[name].data for name in DRAFT_FIELDS},
                files=form.evidence.data,
                remove_ids=form.remove_attachments.data or (),
            )
        except ComplaintError as error:
            _field_error(form, error, "evidence")
        except VerificationError as error:
            _field_error(form, error, "phone")
        else:
            session[DRAFT] = draft.id
            return redirect_303(url_for("complaints.confirm_complaint"))
        kept = list(draft.attachments) if draft is not None and draft.id else []
    form.captcha.data = ""
    return render("complaints/new.html", form=form, kept=kept, allowed_notice=ALLOWED_NOTICE)


def _draft_or_restart():
    draft = services.complaint_draft_get(draft_id=session.get(DRAFT))
    if draft is None:
        session.pop(DRAFT, None)
        flash("填写的投诉内容已过期或已提交，请重新填写。", "info")
    return draft


@bp.route("/confirm", methods=["GET", "POST"])
@public
@limiter.limit("20 per minute", methods=["POST"])
def confirm_complaint():
    """短信验证 then 确认提交; errors: no draft (back to the form), a wrong, expired or used code, too many tries.
    A repeated 确认提交 (double click, retry) lands on the receipt of the one registration."""
    if request.method == "POST":
        registered = services.complaint_get_registered(complaint_id=session.get(DRAFT))
        if registered is not None:
            session.pop(DRAFT, None)
            session[DONE] = registered.id
            return redirect_303(url_for("complaints.show_receipt"))
    draft = _draft_or_restart()
    if draft is None:
        return redirect(url_for("complaints.new_complaint"))
    form = SmsCodeForm()
    if form.validate_on_submit():
        try:
            complaint = services.complaint_register(draft_id=draft.id, code=form.sms_code.data)
        except VerificationError as error:
            form.sms_code.errors = [*form.sms_code.errors, str(error)]
        except ComplaintError as error:
            flash(str(error), "error")
            return redirect_303(url_for("complaints.new_complaint"))
        else:
            session.pop(DRAFT, None)
            session[DONE] = complaint.id
            # the phone was just verified: 处理结果 in this browser needs no second code for 30 minutes
            session[LOOKUP] = services.lookup_grant(phone=complaint.phone)
            return redirect_303(url_for("complaints.show_receipt"))
    return render("complaints/confirm.html", form=form, draft=draft, masked_phone=mask_phone(draft.phone))


@bp.route("/confirm/resend", methods=["POST"])
@public
@limiter.limit("10 per minute")
def resend_complaint_code():
    """重新获取验证码; errors: no draft, more than once a minute, the daily limit."""
    draft = _draft_or_restart()
    if draft is None:
        return redirect_303(url_for("complaints.new_complaint"))
    try:
        services.complaint_code_resend(draft_id=draft.id)
    except (VerificationError, ComplaintError) as error:
        flash(str(error), "error")
    else:
        flash(f"验证码已重新发送至 {mask_phone(draft.phone)}，请注意查收短信。", "success")
    return redirect_303(url_for("complaints.confirm_complaint"))


@bp.route("/done")
@public
def show_receipt():
    """登记成功: the 受理编号 and what happens next; without a complaint just registered here, the form."""
    complaint = services.complaint_get_registered(complaint_id=session.get(DONE))
    if complaint is None:
        return redirect(url_for("complaints.new_complaint"))
    return render("complaints/receipt.html", complaint=complaint)


# --- 处理结果 --------------------------------------------------------------------------------------


@bp.route("/results", methods=["GET", "POST"])
@public
@limiter.limit("20 per minute", methods=["POST"])
def start_lookup():
    """处理结果: 手机号码 + 验证码, then an SMS code; errors: not a mobile, a wrong captcha, the SMS send limits.
    A lookup verified within 30 minutes goes straight to the list."""
    if request.method == "GET" and services.lookup_phone(token=session.get(LOOKUP)):
        return redirect(url_for("complaints.list_results"))
    form = LookupForm()
    if form.validate_on_submit():
        try:
            token = services.lookup_start(phone=form.phone.data)
        except VerificationError as error:
            form.phone.errors = [*form.phone.errors, str(error)]
        else:
            session[LOOKUP] = token
            return redirect_303(url_for("complaints.verify_lookup"))
    form.captcha.data = ""
    return render("complaints/lookup.html", form=form)


@bp.route("/results/verify", methods=["GET", "POST"])
@public
@limiter.limit("10 per minute", methods=["POST"])
def verify_lookup():
    """处理结果, the SMS code; errors: no pending lookup (back to step 1), a wrong, expired or used code."""
    pending = services.lookup_pending(token=session.get(LOOKUP))
    if pending is None:
        flash("请先输入手机号码和验证码。", "info")
        return redirect(url_for("complaints.start_lookup"))
    form = SmsCodeForm()
    if form.validate_on_submit():
        try:
            services.lookup_verify(token=session.get(LOOKUP), code=form.sms_code.data)
        except VerificationError as error:
            form.sms_code.errors = [*form.sms_code.errors, str(error)]
        except ComplaintError as error:
            flash(str(error), "error")
            return redirect_303(url_for("complaints.start_lookup"))
        else:
            return redirect_303(url_for("complaints.list_results"))
    return render(
        "complaints/lookup_verify.html", form=form, masked_phone=mask_phone(pending.phone), sent_at=pending.code_sent_at
    )


@bp.route("/results/resend", methods=["POST"])
@public
@limiter.limit("10 per minute")
def resend_lookup_code():
    """重新获取验证码 for the lookup; errors: no pending lookup, more than once a minute, the daily limit."""
    try:
        services.lookup_resend(token=session.get(LOOKUP))
    except ComplaintError as error:
        flash(str(error), "error")
        return redirect_303(url_for("complaints.start_lookup"))
    except VerificationError as error:
        flash(str(error), "error")
    else:
        flash("验证码已重新发送，请注意查收短信。", "success")
    return redirect_303(url_for("complaints.verify_lookup"))


def _verified_phone():
    return services.lookup_phone(token=session.get(LOOKUP))


def _results_page(phone, forms=None, status=200):
    complaints = services.lookup_complaints(phone=phone)
    forms = forms or {}
    for complaint in complaints:
        if services.rateable(complaint) and complaint.id not in forms:
            forms[complaint.id] = RatingForm(prefix=f"c{complaint.id}", formdata=None)
    return render(
        "complaints/results.html",
        complaints=complaints,
        rating_forms=forms,
        masked_phone=mask_phone(phone),
        today=local_today(),
        status=status,
    )


@bp.route("/results/list")
@public
def list_results():
    """The verified phone's complaints with their history and results; after 30 minutes, back to step 1."""
    phone = _verified_phone()
    if phone is None:
        flash("查询已超过 30 分钟或尚未验证手机号码，请重新查询。", "info")
        return redirect(url_for("complaints.start_lookup"))
    return _results_page(phone)


@bp.route("/results/<int:complaint_id>/rate", methods=["POST"])
@public
@limiter.limit("20 per minute")
def rate_complaint(complaint_id):
    """评价; errors: lookup expired (back to step 1), no choice made, not this phone's or not ratable (404)."""
    phone = _verified_phone()
    if phone is None:
        flash("查询已超过 30 分钟，请重新查询后再评价。", "info")
        return redirect_303(url_for("complaints.start_lookup"))
    form = RatingForm(prefix=f"c{complaint_id}")
    if form.validate_on_submit():
        try:
            complaint = services.complaint_rate(
                complaint_id=complaint_id, phone=phone, rating=form.rating.data, note=form.note.data or ""
            )
        except ComplaintError:
            abort(404)
        message = "感谢您的评价。"
        if complaint.rating == "dissatisfied":
            message += "该投诉已重新交省中小企业服务中心办理。"
        flash(message, "success")
        return redirect_303(url_for("complaints.list_results"))
    return _results_page(phone, {complaint_id: form})


@bp.route("/results/end", methods=["POST"])
@public
def end_lookup():
    """退出查询. No error cases."""
    services.lookup_end(token=session.pop(LOOKUP, None))
    flash("已退出查询。", "success")
    return redirect_303(url_for("complaints.start_lookup"))


# --- 投诉处理 (admins) -----------------------------------------------------------------------------


def _crumbs(*items):
    return [("投诉处理", url_for("complaints.list_complaints")), *items]


@bp.route("/admin")
@roles(*ADMINS)
def list_complaints():
    """投诉列表 with filters; a city admin sees only complaints transferred to its 市州. Bad filter values are ignored."""
    form = QueueFilterForm(request.args)
    form.fill_choices()
    values = form.values()
    select = handling.complaints_select(viewer=current_user, **values)
    page = paginate(select, page=request.args.get("page", 1, type=db_int), per_page=current_app.config["PAGE_SIZE"])
    return render(
        "complaints/admin/list.html",
        "complaints/admin/_partials/_queue_results.html",
        form=form,
        page=page,
        push_url=request.full_path,
        breadcrumb=_crumbs(("投诉列表", None)),
    )


def _action_forms(complaint, posted=None):
    forms = {}
    for action in handling.allowed_actions(complaint, current_user):
        if posted is not None and posted[0] == action:
            forms[action] = posted[1]
            continue
        form = ACTION_FORMS[action](prefix=action, formdata=None)
        if action == "transfer":
            form.fill_choices()
            form.city_code.data = complaint.respondent_city_code
        forms[action] = form
    return forms


def _show_page(complaint, posted=None, status=200):
    return render(
        "complaints/admin/show.html",
        complaint=complaint,
        respondent_institution_id=institution_named(complaint.respondent_name, viewer=current_user),
        forms=_action_forms(complaint, posted),
        status=status,
        breadcrumb=_crumbs(("投诉列表", url_for("complaints.list_complaints")), (complaint.ticket_no, None)),
    )


@bp.route("/admin/<int:complaint_id>")
@roles(*ADMINS)
def show_complaint(complaint_id):
    """投诉详情 with its history, deadline clock and the actions allowed now. 404: unknown or another 市州's."""
    complaint = handling.complaint_for_admin(complaint_id=complaint_id, viewer=current_user) or abort(404)
    return _show_page(complaint)


@bp.route("/admin/<int:complaint_id>/<action>", methods=["POST"])
@roles(*ADMINS)
def handle_complaint(complaint_id, action):
    """受理 / 不予受理 / 转办 / 开始处理 / 办结 / 延期. 404: unknown action or complaint, another 市州's;
    a missing reason or result beside its field; an action its state does not allow is refused."""
    if action not in ACTION_FORMS:
        abort(404)
    complaint = handling.complaint_for_admin(complaint_id=complaint_id, viewer=current_user) or abort(404)
    form = ACTION_FORMS[action](prefix=action)
    if hasattr(form, "fill_choices"):
        form.fill_choices()
    if form.validate_on_submit():
        try:
            handling.complaint_act(
                complaint_id=complaint.id, action=action, actor=current_user, **form.data_for_service()
            )
        except ComplaintError as error:
            if error.field and error.field in form:
                form[error.field].errors = [*form[error.field].errors, str(error)]
            else:
                flash(str(error), "error")
                return redirect_303(url_for("complaints.show_complaint", complaint_id=complaint.id))
        else:
            flash(f"投诉 {complaint.ticket_no} 已{form.done_label}。", "success")
            return redirect_303(url_for("complaints.show_complaint", complaint_id=complaint.id))
    if action not in handling.allowed_actions(complaint, current_user):
        flash(f"该投诉当前为“{complaint.status_label}”，不能进行此操作。", "error")
        return redirect_303(url_for("complaints.show_complaint", complaint_id=complaint.id))
    return _show_page(complaint, (action, form), status=422)


@bp.route("/admin/<int:complaint_id>/attachments/<int:attachment_id>")
@roles(*ADMINS)
def download_attachment(complaint_id, attachment_id):
    """下载证据材料. 404: unknown complaint or file, another 市州's complaint."""
    complaint = handling.complaint_for_admin(complaint_id=complaint_id, viewer=current_user) or abort(404)
    attachment = next((a for a in complaint.attachments if a.id == attachment_id), None) or abort(404)
    return attachment_response(attachment)


def _stats_year():
    form = StatsFilterForm(request.args)
    return form.year.data if form.validate() and form.year.data else local_today().year


@bp.route("/admin/stats")
@roles("province_admin")
def show_stats():
    """投诉统计 per month and per 市州 for a year; a bad year falls back to this year."""
    year = _stats_year()
    by_month, by_city, total = stats.complaint_stats(year=year)
    return render(
        "complaints/admin/stats.html",
        year=year,
        by_month=by_month,
        by_city=by_city,
        total=total,
        years=sorted(set(stats.complaint_years()) | {local_today().year}, reverse=True),
        breadcrumb=_crumbs(("投诉统计", None)),
    )


@bp.route("/admin/stats.xlsx")
@roles("province_admin")
def export_stats():
    """导出 Excel of the year's statistics; a bad year falls back to this year."""
    year = _stats_year()
    return send_file(
        BytesIO(stats.stats_workbook(year=year)),
        mimetype=XLSX,
        as_attachment=True,
        download_name=f"{year}年企业投诉统计.xlsx",
    )  # RFC 5987 name
