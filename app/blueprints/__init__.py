"""The app's modules, in order: ``create_app`` registers their blueprints and merges their
contributions (app/modules.py) in this order; ``MENU_GROUPS`` orders the side menu's groups."""

from app.blueprints.account.module import module as account_module
from app.blueprints.admin.module import module as admin_module
from app.blueprints.applications.module import module as applications_module
from app.blueprints.auth.module import module as auth_module
from app.blueprints.awards.module import module as awards_module
from app.blueprints.complaints.module import module as complaints_module
from app.blueprints.jobs.module import module as jobs_module
from app.blueprints.portal.module import module as portal_module
from app.blueprints.reports.module import module as reports_module
from app.blueprints.rounds.module import module as rounds_module

# (names end in _module: the bare names are the packages)
MODULES = (
    portal_module,
    auth_module,
    account_module,
    admin_module,
    applications_module,
    complaints_module,
    reports_module,
    rounds_module,
    awards_module,
    jobs_module,
)

MENU_GROUPS = (
    "基础信息",
    "优秀评选",
    "审核管理",
    "内容管理",
    "投诉处理",
    "调度管理",
    "优秀评选管理",
    "系统管理",
    "帐户",
)
