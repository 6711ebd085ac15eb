"""门户: the public site (首页, 通知公告, lists, 搜索, entry buttons) and its 内容管理.

Its contributions are declared in module.py; app/blueprints/__init__.py lists the modules."""

from flask import Blueprint

bp = Blueprint("portal", __name__)
