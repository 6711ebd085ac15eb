"""What the applications module contributes to the app (app/modules.py)."""

from app.blueprints.applications import bp, institution_section, routes
from app.blueprints.applications.wizard import wizard
from app.modules import MenuItem, Module

module = Module(
    name="applications",
    blueprint=bp,
    url_prefix="/applications",
    menu=(
        MenuItem("基础信息", "核心服务机构申报管理", "applications.list_applications"),
        MenuItem("审核管理", "核心服务机构申报审核", "applications.review_applications"),
    ),
    home_counts=(routes.waiting_applications,),
    admin_institution_sections=(institution_section.sections,),
    wizards=(wizard,),
    action_labels={"recognition.grant": "认定核心服务机构（申报终审通过）"},
)
