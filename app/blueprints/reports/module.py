"""What the reports module contributes to the app (app/modules.py)."""

from app.blueprints.reports import admin_routes, bp, institution_section, jobs, routes, snapshots, stats  # noqa: F401  (importing the views puts them on bp)
from app.blueprints.reports.wizard import wizard
from app.modules import Entry, MenuItem, Module

module = Module(
    name="reports",
    blueprint=bp,
    url_prefix="/reports",
    menu=(
        MenuItem("基础信息", "核心服务机构调度数据", "reports.list_reports"),
        MenuItem("审核管理", "调度数据审核", "reports.review_reports"),
        MenuItem("审核管理", "补报申请", "reports.list_reopen_requests"),
        MenuItem("调度管理", "报送情况", "reports.show_completeness"),
        MenuItem("调度管理", "调度大数据", "reports.show_stats"),
        MenuItem("调度管理", "季度通报", "reports.show_bulletin"),
        MenuItem("调度管理", "调度数据导出", "reports.export_page"),
        MenuItem("调度管理", "调度期管理", "reports.list_periods"),
        MenuItem("调度管理", "核心服务机构认定", "reports.list_recognitions"),
    ),
    big_data=stats.public_summary,
    # 调度管理入口: institutions file, admins review
    entries=(Entry("report", ("reports.list_reports", "reports.review_reports")),),
    home_counts=(admin_routes.report_counts,),
    admin_institution_sections=(institution_section.sections,),
    wizards=(wizard,),
    action_labels={**admin_routes.ACTION_LABELS, **snapshots.ACTION_LABELS},
    target_labels=admin_routes.TARGET_LABELS,
    jobs=jobs.JOBS,
    schedules=jobs.SCHEDULES + snapshots.SCHEDULES,
)
