"""What the complaints module contributes to the app (app/modules.py)."""

from app.blueprints.complaints import bp, handling, institution_section, routes, schedules, services  # noqa: F401  (importing the views puts them on bp)
from app.modules import MenuItem, Module

module = Module(
    name="complaints",
    blueprint=bp,
    url_prefix="/complaints",
    menu=(
        MenuItem("投诉处理", "投诉列表", "complaints.list_complaints"),
        MenuItem("投诉处理", "投诉统计", "complaints.show_stats"),
    ),
    home_counts=(handling.complaint_counts,),
    admin_institution_sections=(institution_section.sections,),
    action_labels=services.ACTION_LABELS,
    target_labels=services.TARGET_LABELS,
    field_labels=services.FIELD_LABELS,
    schedules=schedules.SCHEDULES,
)
