"""调度管理 for admins: 报送情况 and 催报, 补报申请, 调度大数据, 季度通报, 数据导出, 调度期, 认定."""

from flask import abort, current_app, flash, request, url_for
from flask_login import current_user

from app.access import roles
from app.blueprints.admin.services import HomeCount
from app.blueprints.reports import (
    bp,
    completeness,
    export,
    recognitions,
    reminders,
    reopen,
    services,
    stats,
    stats_export,
)
from app.blueprints.reports.bulletin import QUARTER_NAMES, bulletin, current_quarter
from app.blueprints.reports.forms import PeriodForm, RecognitionForm, ReopenDecisionForm
from app.blueprints.reports.models import REOPEN_LABELS, REOPEN_PENDING
from app.blueprints.reports.wizard import wizard
from app.filings import workflow
from app.filings.services import waiting_select
from app.forms import EmptyForm
from app.htmx import redirect_303, render
from app.inputs import db_int, year_int
from app.jobs import job_start, job_token, jobs_recent
from app.reference.services import cities, dict_items, region_name
from app.utils import local_today

ADMINS = ("city_admin", "province_admin")
PROVINCE = ("province_admin",)


def _crumbs(label, *more):
    return [("调度管理", None), (label, None), *more]


def _city_choice():
    """The 市州 an admin looks at: a city admin its own, the province admin the chosen one (or all)."""
    if current_user.role == "city_admin":
        return current_user.city_code
    code = request.args.get("city_code") or None
    return code if code in {c.code for c in cities()} else None


# ---- 报送情况 and 催报 ----------------------------------------------------------------------------


def _missing_filters():
    """The missing list's filters on screen (市州 for the province admin, 机构类型, 填报状态); unknown
    values are ignored, as the page's selects offer only known ones."""
    type_id = request.args.get("institution_type_id", type=db_int)
    state = request.args.get("state") or None
    return completeness.MissingFilters(
        city_code=_city_choice(),
        institution_type_id=type_id if type_id in {t.id for t in dict_items("institution_type")} else None,
        state=state if state in completeness.STATES else None,
    )


@bp.route("/completeness")
@roles(*ADMINS)
def show_completeness():
    """报送情况 of one 调度期 (default the latest opened): by 市州, who has not reported, their last
    reminder; a closed period as it froze. No error cases (an unknown period shows the latest)."""
    rounds = services.periods_all()
    round = services.period_get(request.args.get("round_id", type=db_int)) or services.period_latest_started(
        among=rounds
    )
    filters = _missing_filters()
    context = {
        "round": round,
        "rounds": rounds,
        "city_code": filters.city_code,
        "filters": filters,
        "states": completeness.STATES,
        "types": dict_items("institution_type"),
        "cities": cities(),
        "form": EmptyForm(),
    }
    if round is not None:
        closure = completeness.period_closure(round)
        snapshot = completeness.period_snapshot(round, closure=closure)
        rows, overall = completeness.completeness(round=round, user=current_user, snapshot=snapshot)
        context.update(
            rows=rows,
            overall=overall,
            snapshot=snapshot,
            closure=closure,
            today=local_today(),
            reopen_state=completeness.reopen_state,
            missing=completeness.missing_institutions(
                round=round,
                user=current_user,
                filters=filters,
                snapshot=snapshot,
                page=request.args.get("page", 1, type=db_int),
                counted=(rows, overall),
            ),
            reminded=reminders.reminder_summary(round=round, user=current_user, city_code=filters.city_code),
        )
        context["remindable"] = completeness.remindable_count(
            round, current_user, filters, context["missing"].total, snapshot
        )
    return render("reports/completeness.html", breadcrumb=_crumbs("报送情况"), **context)


def _posted_city():
    """The 市州 a 催报 covers: a city admin's own, the province admin's choice (or all), as ``_city_choice``."""
    if current_user.role == "city_admin":
        return current_user.city_code
    code = request.form.get("city_code") or None
    return code if code in {c.code for c in cities()} else None


@bp.route("/completeness/remind", methods=["POST"])
@roles(*ADMINS)
def send_reminders():
    """催报 as a job: remind every institution of the period (and 市州) that has not reported and was
    not reminded within REMINDER_INTERVAL; 404 for an unknown period. The job's page shows the
    outcome; the same form posted twice lands on the same job."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    round = services.period_get(request.form.get("round_id", type=db_int)) or abort(404)
    city_code = _posted_city()
    back = url_for(
        "reports.show_completeness",
        round_id=round.id,
        city_code=city_code if current_user.role == "province_admin" else None,
    )
    job = job_start(
        kind="reports.remind",
        params={"round_id": round.id, "city_code": city_code, "back": back},
        user=current_user,
        title=f"{round.title}催报" + (f"（{region_name(city_code)}）" if city_code else ""),
        token=request.form.get("token"),
    )
    return redirect_303(url_for("jobs.show_job", job_id=job.id))


@bp.route("/completeness/missing.xlsx")
@roles(*ADMINS)
def export_missing():
    """导出未报送名单 of a period (default the latest opened) with the page's filters, in the admin's
    市州; 404 when there is no period."""
    round = (
        services.period_get(request.args.get("round_id", type=db_int)) or services.period_latest_started() or abort(404)
    )
    return completeness.missing_export(round=round, user=current_user, filters=_missing_filters())


# ---- 补报申请 --------------------------------------------------------------------------------------


@bp.route("/reopen-requests")
@roles(*ADMINS)
def list_reopen_requests():
    """补报申请 in the admin's scope; filter by status (default 待处理)."""
    status = request.args.get("status", REOPEN_PENDING)
    if status not in REOPEN_LABELS:
        status = ""
    page = reopen.reopen_requests(
        user=current_user, status=status or None, page=request.args.get("page", 1, type=db_int)
    )
    return render(
        "reports/reopen_requests.html",
        page=page,
        chosen=status,
        labels=REOPEN_LABELS,
        breadcrumb=[("审核管理", None), ("补报申请", None)],
    )


@bp.route("/reopen-requests/<int:request_id>", methods=["GET", "POST"])
@roles(*ADMINS)
def decide_reopen_request(request_id):
    """同意 (until a date) or 不同意 a 补报申请; 404 outside the admin's 市州, errors beside the fields."""
    item = reopen.reopen_request_or_none(request_id=request_id, user=current_user) or abort(404)
    form = ReopenDecisionForm(until=reopen.grace_until_default()) if request.method == "GET" else ReopenDecisionForm()
    error = None
    if request.method == "POST" and form.validate_on_submit():  # the service refuses a decided one
        try:
            reopen.reopen_request_decide(
                request=item,
                grant=form.decision.data == "grant",
                until=form.until.data,
                note=form.note.data,
                actor=current_user,
            )
        except services.ReportError as exc:
            error = str(exc)
        else:
            flash(f"已处理 {item.institution.name} 的补报申请：{item.status_label}。", "success")
            return redirect_303(url_for("reports.list_reopen_requests"))
    return render(
        "reports/reopen_decide.html",
        reopen=item,
        form=form,
        error=error,
        status=422 if (form.errors or error) else 200,
        breadcrumb=[("审核管理", None), ("补报申请", url_for("reports.list_reopen_requests")), ("处理", None)],
    )


# ---- 调度大数据 (admin) ------------------------------------------------------------------------------


def _filters():
    args = request.args
    years = stats.years_with_data()
    year = args.get("year", type=year_int) or (years[0] if years else local_today().year)
    month_from = min(12, max(1, args.get("month_from", 1, type=db_int)))
    # by default up to the last month with approved data, so 环比 compares two real months
    month_to = min(12, max(1, args.get("month_to", stats.last_month_with_data(year) or 12, type=db_int)))
    if month_to < month_from:
        month_from, month_to = month_to, month_from
    type_id = args.get("institution_type_id", type=db_int)
    types = dict_items("institution_type")
    if type_id not in {t.id for t in types}:
        type_id = None
    return stats.Filters(year, month_from, month_to, _city_choice(), type_id), years, types


@bp.route("/stats")
@roles(*ADMINS)
def show_stats():
    """调度大数据 with filters (year, months, 市州, 机构类型): totals, 环比/同比, trend, breakdowns, top institutions."""
    f, years, types = _filters()
    return render(
        "reports/stats.html",
        d=stats.dashboard(f),
        f=f,
        years=sorted(set(years) | {f.year, local_today().year}, reverse=True),
        types=types,
        cities=cities(),
        named=stats.filters_named(f),
        token=job_token(),
        breadcrumb=_crumbs("调度大数据"),
    )


@bp.route("/stats.xlsx")
@roles(*ADMINS)
def export_stats():
    """调度大数据 导出Excel: every table of the page, for the page's filters (read by the same ``_filters``,
    so a bad value falls back as on the page; a city admin gets its own 市州). No error cases."""
    f, _years, _types = _filters()
    return stats_export.dashboard_download(stats.dashboard(f))


# ---- 季度通报 ----------------------------------------------------------------------------------------


def _quarter():
    default_year, default_quarter = current_quarter()
    year = request.args.get("year", default_year, type=year_int)
    quarter = request.args.get("quarter", default_quarter, type=db_int)
    if quarter not in QUARTER_NAMES or not 2000 <= year <= 2100:
        abort(404)
    return year, quarter


@bp.route("/bulletin")
@roles(*PROVINCE)
def show_bulletin():
    """季度通报 of a quarter (default the last complete one); 404 for an impossible quarter."""
    year, quarter = _quarter()
    b = bulletin(year=year, quarter=quarter, user=current_user)
    return render(
        "reports/bulletin.html",
        b=b,
        quarters=QUARTER_NAMES,
        years=range(local_today().year, 2022, -1),
        today=local_today(),
        form=EmptyForm(),
        token=job_token(),
        breadcrumb=_crumbs("季度通报"),
    )


@bp.route("/bulletin/docx", methods=["POST"])
@roles(*PROVINCE)
def start_bulletin():
    """下载通报 (.docx) as a job: its page shows progress, then the file; 404 for an impossible quarter."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    year = request.form.get("year", type=year_int)
    quarter = request.form.get("quarter", type=db_int)
    if quarter not in QUARTER_NAMES or not year or not 2000 <= year <= 2100:
        abort(404)
    job = job_start(
        kind="reports.bulletin",
        params={"year": year, "quarter": quarter, "back": url_for("reports.show_bulletin", year=year, quarter=quarter)},
        user=current_user,
        title=f"{year}年第{QUARTER_NAMES[quarter]}季度通报（Word）",
        token=request.form.get("token"),
    )
    return redirect_303(url_for("jobs.show_job", job_id=job.id))


# ---- 数据导出 ------------------------------------------------------------------------------------------


@bp.route("/exports")
@roles(*ADMINS)
def export_page():
    """调度数据导出: choose a year, months, 市州, 机构类型 and status; 导出Excel starts ``start_export``. No error cases."""
    years = sorted({local_today().year, *stats.years_with_data()}, reverse=True)
    return render(
        "reports/export.html",
        years=years,
        form=EmptyForm(),
        token=job_token(),
        recent=jobs_recent(user=current_user, kind="reports.export", limit=5),
        cities=cities(),
        types=dict_items("institution_type"),
        statuses=[s for s in workflow.STATUS_LABELS if s != workflow.DRAFT],
        status_label=wizard.status_label,
        breadcrumb=_crumbs("调度数据导出"),
    )


@bp.route("/exports", methods=["POST"])
@roles(*ADMINS)
def start_export():
    """导出Excel as a job (a full year takes seconds): its page shows progress, then the file. Bad
    choices fall back as on the page (months 1-12, the admin's own 市州); a repeat lands on the same job."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    criteria = export.export_criteria(request.form, user=current_user)
    job = job_start(
        kind="reports.export",
        params={**criteria, "back": url_for("reports.export_page")},
        user=current_user,
        title=export.export_title(**criteria),
        token=request.form.get("token"),
    )
    return redirect_303(url_for("jobs.show_job", job_id=job.id))


# ---- 调度期管理 --------------------------------------------------------------------------------------


@bp.route("/periods", methods=["GET", "POST"])
@roles(*PROVINCE)
def list_periods():
    """调度期: every month opened so far and 开启调度期 (deadline defaults to the 10th of the next month)."""
    today = local_today()
    # the month to open is the one that has just ended (its 调度期 opens on the 1st of this month)
    year, month = services.previous_month(today.year, today.month)
    form = PeriodForm(year=year, month=month) if request.method == "GET" else PeriodForm()
    error = None
    if form.validate_on_submit():
        try:
            round = services.period_open(
                year=form.year.data,
                month=form.month.data,
                opens_on=form.opens_on.data,
                closes_on=form.closes_on.data,
                actor=current_user,
            )
        except services.ReportError as exc:
            error = str(exc)
            form.month.errors = [*form.month.errors, error]
        else:
            flash(f"已开启{round.title}，截止日期 {round.closes_on:%Y-%m-%d}。", "success")
            return redirect_303(url_for("reports.list_periods"))
    return render(
        "reports/periods.html",
        form=form,
        page=services.periods_list(page=request.args.get("page", 1, type=db_int)),
        today=today,
        status=422 if form.errors else 200,
        breadcrumb=_crumbs("调度期管理"),
    )


# ---- 核心服务机构认定 ------------------------------------------------------------------------------------


@bp.route("/recognitions")
@roles(*PROVINCE)
def list_recognitions():
    """核心服务机构名单 (in force in a year) and 直接认定: search institutions to add."""
    year = request.args.get("year", local_today().year, type=year_int)
    q = (request.args.get("q") or "").strip()[:60]
    start, end = recognitions.default_term()
    return render(
        "reports/recognitions.html",
        year=year,
        q=q,
        page=recognitions.recognitions(
            year=year,
            keyword=(request.args.get("kw") or "").strip() or None,
            page=request.args.get("page", 1, type=db_int),
        ),
        candidates=recognitions.recognition_candidates(keyword=q, year=year),
        form=RecognitionForm(formdata=None, term_start=start, term_end=end),
        importer=_importer(),
        breadcrumb=_crumbs("核心服务机构认定"),
    )


def _importer():
    """Whether the portal's 核心服务机构名单导入 (a whole list from Excel) is there to link to."""
    return "portal.import_institutions" in current_app.view_functions


@bp.route("/recognitions", methods=["POST"])
@roles(*PROVINCE)
def add_recognitions():
    """认定所选机构 for a term; a bad term or no choice comes back with the message beside it."""
    form = RecognitionForm()
    ids = request.form.getlist("institution_id", type=db_int)
    q = (request.form.get("q") or "").strip()[:60]
    year = local_today().year
    if form.validate_on_submit():
        try:
            added, skipped = recognitions.recognition_set(
                institution_ids=ids,
                term_start=form.term_start.data,
                term_end=form.term_end.data,
                note=form.note.data,
                actor=current_user,
            )
        except services.ReportError as exc:
            flash(str(exc), "error")
        else:
            if added:
                flash(f"已认定 {len(added)} 家机构：{'、'.join(added)}。", "success")
            if skipped:
                flash(f"{'、'.join(skipped)} 在该期间已有有效认定，未重复认定。", "warning")
            return redirect_303(url_for("reports.list_recognitions", q=q or None))
    return render(
        "reports/recognitions.html",
        year=year,
        q=q,
        page=recognitions.recognitions(year=year),
        chosen=set(ids),
        candidates=recognitions.recognition_candidates(keyword=q, year=year),
        form=form,
        status=422,
        importer=_importer(),
        breadcrumb=_crumbs("核心服务机构认定"),
    )


@bp.route("/recognitions/<int:recognition_id>/revoke", methods=["POST"])
@roles(*PROVINCE)
def revoke_recognition(recognition_id):
    """撤销认定; an unknown or revoked one gives a message."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        recognition = recognitions.recognition_revoke(recognition_id=recognition_id, actor=current_user)
        flash(f"已撤销 {recognition.institution.name} 的认定（{recognition.term_label}）。", "success")
    except services.ReportError as exc:
        flash(str(exc), "error")
    return redirect_303(url_for("reports.list_recognitions"))


# ---- 管理首页 counts and audit labels --------------------------------------------------------------

ACTION_LABELS = {
    "report.create": "新建调度数据草稿",
    "report.submit": "提交调度数据",
    "report.withdraw": "撤回调度数据",
    "report.approve": "通过调度数据",
    "report.return": "退回调度数据",
    "report.delete": "删除调度数据草稿",
    "report.remind": "调度催报",
    "report.reopen_request": "申请补报",
    "report.reopen_grant": "同意补报",
    "report.reopen_refuse": "不同意补报",
    "recognition.set": "直接认定核心服务机构",
    "recognition.revoke": "撤销核心服务机构认定",
}
TARGET_LABELS = {
    "MonthlyReport": "调度数据",
    "ReportReopenRequest": "补报申请",
    "Recognition": "核心服务机构认定",
    "Round": "批次",
}


def report_counts(user):
    return [
        HomeCount("待审核调度数据", waiting_select(wizard=wizard, user=user), url_for("reports.review_reports"), "份"),
        HomeCount("待处理补报申请", reopen.reopen_pending_select(user), url_for("reports.list_reopen_requests"), "件"),
    ]
