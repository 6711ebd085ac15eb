"""What the admin module contributes to the app (app/modules.py)."""

from app.blueprints.admin import bp, display, institutions, reference_routes, routes, services  # noqa: F401  (importing the views puts them on bp)
from app.modules import MenuItem, Module

module = Module(
    name="admin",
    blueprint=bp,
    url_prefix="/admin",
    menu=tuple(
        MenuItem("系统管理", label, endpoint)
        for label, endpoint in (
            ("管理首页", "admin.home"),
            ("用户管理", "admin.list_users"),
            ("手机号变更申诉", "admin.list_phone_requests"),
            ("字典管理", "admin.list_dicts"),
            ("所属平台", "admin.list_platforms"),
            ("登录日志", "admin.list_login_logs"),
            ("在线用户", "admin.list_online"),
            ("操作日志", "admin.list_audit"),
            ("短信日志", "admin.list_sms"),
        )
    ),
    home_counts=(services.phone_request_counts, services.account_counts, services.online_counts),
    action_labels=display.ACTION_LABELS,
    target_labels=display.TARGET_LABELS,
    field_labels=display.FIELD_LABELS,
)
