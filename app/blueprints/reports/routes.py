"""核心服务机构调度数据 (manual section 4): the engine's views, 工作总结上报模板 and 申请补报."""

from io import BytesIO

import click
from flask import abort, flash, request, send_file, url_for
from flask_login import current_user

from app.access import public, roles
from app.blueprints.reports import bp, reopen, services, stats, stats_export
from app.blueprints.reports.documents import work_summary_docx
from app.blueprints.reports.forms import ReopenForm
from app.blueprints.reports.stats import stats_rebuild
from app.blueprints.reports.wizard import wizard
from app.filings.services import owned_filing_or_404
from app.filings.views import register_views
from app.htmx import redirect_303, render
from app.inputs import year_int

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

register_views(bp, wizard)


@bp.route("/<int:filing_id>/work-summary.docx", methods=["GET", "POST"])
@roles("institution")
def export_work_summary(filing_id):
    """工作总结上报模板: GET from the saved report, POST from the step's current (unsaved) values;
    404 for another's report. Nothing is saved."""
    report = owned_filing_or_404(wizard, filing_id, current_user)
    form = wizard.steps[0].make_form(report, submitted=True) if request.method == "POST" else None
    name = f"{report.institution.name}{report.year}年{report.month}月工作总结.docx"
    return send_file(BytesIO(work_summary_docx(report, form)), mimetype=DOCX, as_attachment=True, download_name=name)


@bp.route("/periods/<int:round_id>/reopen", methods=["GET", "POST"])
@roles("institution")
def new_reopen_request(round_id):
    """申请补报 after a period's deadline; 404 for an unknown period, refusals shown as messages."""
    round = services.period_get(round_id) or abort(404)
    form = ReopenForm()
    error = None
    if form.validate_on_submit():
        try:
            reopen.reopen_request_create(user=current_user, round_id=round.id, reason=form.reason.data)
        except services.ReportError as exc:
            error = str(exc)
        else:
            flash(f"已提交{round.title}的补报申请，请等待管理员处理，结果将通过站内消息和短信通知您。", "success")
            return redirect_303(url_for("reports.list_reports"))
    return render(
        "reports/reopen_new.html",
        form=form,
        round=round,
        error=error,
        status=422 if (form.errors or error) else 200,
        breadcrumb=[("基础数据", None), ("核心服务机构调度管理", url_for("reports.list_reports")), ("申请补报", None)],
    )


@bp.route("/big-data.xlsx")
@public
def export_public_stats():
    """The portal's 调度大数据 导出Excel: its tiles and tables for ``year`` (the page's choice when
    absent or without data). Aggregates only, as the page. No error cases."""
    return stats_export.public_download(stats.public_summary(year=request.args.get("year", type=year_int)))


@bp.cli.command("rebuild-stats")
def rebuild_stats_command():
    """Recompute the 调度大数据 rollups from the approved reports (after loading data directly)."""
    stats_rebuild()
    click.echo("调度大数据汇总已重新计算。")
