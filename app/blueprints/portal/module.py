"""What the portal module contributes to the app (app/modules.py)."""

from app.blueprints.portal import bp, jobs, manage, routes, services  # noqa: F401  (importing the views puts them on bp)
from app.modules import MenuItem, Module

module = Module(
    name="portal",
    blueprint=bp,
    menu=(
        MenuItem("内容管理", "通知公告管理", "portal.manage_notices"),
        MenuItem("内容管理", "核心服务机构名单导入", "portal.import_institutions"),
    ),
    home_blocks=services.HOME_BLOCKS,
    search_sources=services.SEARCH_SOURCES,
    entries=services.ENTRIES,
    action_labels={
        "notice.pin": "设为首页头条",
        "notice.unpin": "取消首页头条",
        "notice.publish": "发布通知公告",
        "notice.unpublish": "撤回通知公告",
        "notice.attachment_delete": "删除通知公告附件",
        "institution.import": "导入名单新建帐户",
        "recognition.import": "导入名单认定",
        "directory.import": "导入核心服务机构名单",
    },
    jobs=jobs.JOBS,
)
