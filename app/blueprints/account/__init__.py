"""工作台 and 基本资料, 站内消息, 修改密码: every signed-in account's own pages.

Its contributions are declared in module.py; app/blueprints/__init__.py lists the modules."""

from flask import Blueprint

bp = Blueprint("account", __name__)
