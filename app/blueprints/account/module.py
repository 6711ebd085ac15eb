"""What the account module contributes to the app (app/modules.py)."""

from app.blueprints.account import bp, routes  # noqa: F401  (importing the views puts them on bp)
from app.modules import MenuItem, Module

module = Module(
    name="account",
    blueprint=bp,
    url_prefix="/workspace",
    menu=(
        MenuItem("基础信息", "工作台", "account.home"),
        MenuItem("基础信息", "基本资料", "account.edit_profile"),
        MenuItem("帐户", "站内消息", "account.list_messages"),
        MenuItem("帐户", "修改密码", "account.change_password"),
    ),
)
