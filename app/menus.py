"""The workspace side menu. Modules add their items here; a role sees only what it may reach."""
from flask import request
from flask_login import current_user

from app.access import policy_of

# (group title, [(label, endpoint, url args)]) in display order; roles come from each
# endpoint's declared access policy, so the menu cannot offer a page the role cannot open.
MENU = [
    ("基础信息", [
        ("工作台", "account.home", {}),
        ("基本资料", "account.edit_profile", {}),
    ]),
    ("系统管理", [
        ("管理首页", "admin.home", {}),
        ("用户管理", "admin.list_users", {}),
        ("手机号变更申诉", "admin.list_phone_requests", {}),
        ("字典管理", "admin.list_dicts", {}),
        ("所属平台", "admin.list_platforms", {}),
        ("登录日志", "admin.list_login_logs", {}),
        ("在线用户", "admin.list_online", {}),
        ("操作日志", "admin.list_audit", {}),
        ("短信日志", "admin.list_sms", {}),
    ]),
    ("帐户", [
        ("站内消息", "account.list_messages", {}),
        ("修改密码", "account.change_password", {}),
    ]),
]


def add_menu_item(group, label, endpoint, args=None, *, before_group=None):
    """Let a module add an item; a new group is placed before ``before_group`` when given."""
    for title, items in MENU:
        if title == group:
            items.append((label, endpoint, args or {}))
            return
    entry = (group, [(label, endpoint, args or {})])
    titles = [title for title, _ in MENU]
    MENU.insert(titles.index(before_group) if before_group in titles else len(MENU), entry)


def _allowed(endpoint):
    policy = policy_of(endpoint)
    if policy in ("public", "login"):
        return True
    return bool(policy) and current_user.role in policy


def side_menu():
    groups = []
    for title, items in MENU:
        visible = [
            {"label": label, "endpoint": endpoint, "args": args, "active": request.endpoint == endpoint}
            for label, endpoint, args in items
            if _allowed(endpoint)
        ]
        if visible:
            groups.append({"title": title, "items": visible})
    return groups
