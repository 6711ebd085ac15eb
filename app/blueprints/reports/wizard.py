"""The declaration of 基础数据填报 (monthly report) for the filing engine."""

from flask import url_for

from app.blueprints.reports import export, services
from app.blueprints.reports.forms import ACTIVITY_HINT, ReportForm, category_field_names, report_form_class
from app.blueprints.reports.models import STATUS_LABELS, MonthlyReport
from app.filings import services as engine
from app.filings.hooks import Hooks
from app.filings.wizard import Endpoints, Step, Wizard
from app.reference.services import dict_items


class ReportHooks(Hooks):
    """基础数据填报's rules: several open 调度期 (and 补报), the deadline lock, the anomaly notes."""

    def prefill(self, wizard, filing, *, user):
        services.report_prefill(filing, user=user)

    def creatable_rounds(self, wizard, user):
        return services.creatable_rounds(user)

    def locked_message(self, wizard, filing):
        return services.report_locked_message(filing)

    def extra_checks(self, wizard, filing):
        return services.report_extra_checks(filing)

    def on_transition(self, wizard, filing, transition, actor):
        services.report_on_transition(filing, transition, actor)

    def review_notes(self, wizard, filing):
        return services.report_review_notes(filing)

    def late_clause(self, wizard):
        return MonthlyReport.late.is_(True)  # set at the first submission (report_on_transition)

    def closed_message(self, wizard, *, user=None):
        return services.closed_message(user)

    def locked_rows(self, wizard, filings):
        return services.reports_locked(filings)

    def list_context(self, wizard, *, user):
        # 基础数据填报 starts the earliest open month not yet filed; filed months are not offered
        found = services.periods_and_reports(user)  # read once for both
        creatable, filed = services.creatable_and_filed(user, found=found)
        unfiled = [r for r in creatable if r.id not in filed]
        periods = services.institution_periods(user, found=found)
        closed = None
        if not unfiled and creatable:
            unsent = [p["round"] for p in periods if p["editable"]]
            closed = services.all_filed_message(creatable, unsent)
        elif not unfiled:
            closed = services.closed_message(user)
        return {
            "current_round": unfiled[0] if unfiled else None,
            "creatable_rounds": unfiled,
            "closed_message": closed,
            "periods": periods,
        }

    def detail_sections(self, wizard, filing):
        """基本信息, then 服务活动情况 with one line per 服务类别 (a reviewer pins the block by its
        活动数 field, which the step highlights)."""
        (title, rows), *rest = wizard.step_sections(filing)
        basic = [row for row in rows if not row[3].startswith("cat")]
        head = [("填报年度", filing.year, "", "year"), ("月份", filing.month, "", "month")]
        categories = [
            (
                row.category_name,
                f"活动数 {row.activities or 0} 场次，参与企业数 {row.participants or 0} 家，服务企业数 {row.served or 0} 家次",
                "",
                category_field_names(row.category_id)[0],
            )
            for row in filing.activities
        ]
        totals = (
            "合计",
            f"活动数 {filing.activities_total} 场次，参与企业数 {filing.participants_total} 家，服务企业数 {filing.served_total} 家次",
            "",
            "totals",
        )
        return [(title, head + basic), ("服务活动情况", categories + [totals]), *rest]


def export_write(wizard, out, *, user, filters, criteria, progress=None):
    """The review queue's 导出Excel (a job, app/filings/export.py): the reports the queue shows under
    its filters (the engine's queue select in ``user``'s scope: 批次, 市州, 审核状态, 机构类型,
    报送情况, keyword), in the 调度数据导出 columns. Returns the file's name."""
    shown = engine.queue_select(
        wizard=wizard, user=user, columns=[MonthlyReport.id], **{**filters, "sort": "submitted"}
    ).order_by(None)
    round = services.period_get(filters.get("round_id"))
    if round is not None:
        period = dict(year=round.year, month_from=round.month, month_to=round.month)
    else:  # a year and month range may narrow it too (export.export_period read it from the query)
        period = dict(criteria)
    export.export_write(out, progress=progress, user=user, ids=shown, **period)
    return export.export_name(**period)


def _prepare(form, filing):
    form.filing = filing
    form.institution_type_id.choices = [
        (item.id, item.name) for item in dict_items("institution_type", include_id=filing.institution_type_id)
    ]


def _context(filing):
    return {
        "activity_hint": ACTIVITY_HINT,
        "summary_url": url_for("reports.export_work_summary", filing_id=filing.id),
        "carried_from": services.report_carried_note(filing),
        "offered_ids": services.report_offered_category_ids(filing),
    }


wizard = Wizard(
    kind="report",
    hooks=ReportHooks(),
    export_write=export_write,
    export_criteria=export.export_period,
    model=MonthlyReport,
    blueprint="reports",
    endpoints=Endpoints(
        list="reports.list_reports",
        new="reports.new_report",
        edit="reports.edit_report",
        attachments="reports.edit_report_attachments",
        delete_attachment="reports.delete_report_attachment",
        download="reports.download_report_attachment",
        submit="reports.submit_report",
        show="reports.show_report",
        delete="reports.delete_report",
        withdraw="reports.withdraw_report",
        queue="reports.review_reports",
        review="reports.review_report",
        approve_selected="reports.approve_selected_reports",
        export="reports.export_reports",
    ),
    title="核心服务机构调度数据",
    round_kind="report",
    steps=[
        Step(
            "basic",
            "基本信息",
            ReportForm,
            "reports/_partials/_step_basic.html",
            prepare=_prepare,
            context=_context,
            form_for=report_form_class,
            load=services.report_load_activities,
            save=services.report_save_activities,
        ),
    ],
    attachment_title="附件材料上传",
    levels=("city",),
    breadcrumb_root="基础数据",
    breadcrumb_section="核心服务机构调度管理",
    edit_label="新增基础数据填报",
    new_label="基础数据填报",
    submit_label="提交",
    duplicate_message="该月份已填报过调度数据，每个机构每月只能填报一次。",
    status_labels=STATUS_LABELS,
    action_labels={"approve": "通过", "return": "退回"},
    list_columns=[
        ("填报年度", lambda f: f.year, ""),
        ("月份", lambda f: f.month, ""),
        ("服务活动数(场次)", lambda f: f.activities_total, "num"),
        ("服务企业数(家次)", lambda f: f.served_total, "num"),
        ("报送情况", lambda f: ("逾期报送" if f.late else "按时报送") if f.first_submitted_at else "未提交", "nowrap"),
    ],
    list_template="reports/list.html",
    owner_columns=False,  # an institution lists its own reports
)
