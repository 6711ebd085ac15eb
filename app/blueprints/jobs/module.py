"""What the jobs module contributes to the app (app/modules.py)."""

from app.blueprints.jobs import bp, routes, services  # noqa: F401  (importing the views puts them on bp)
from app.modules import MenuItem, Module

module = Module(
    name="jobs",
    blueprint=bp,
    url_prefix="/jobs",
    menu=(
        MenuItem("系统管理", "后台任务", "jobs.list_jobs"),
        MenuItem("系统管理", "定时任务", "jobs.list_schedules"),
    ),
    home_counts=(services.failed_sms_counts,),
    action_labels={"schedule.update": "修改定时任务"},
    target_labels={"Schedule": "定时任务"},
)
