"""系统管理: users, 手机号变更申诉, 字典, 所属平台, the logs and the 管理首页.

Its contributions are declared in module.py; app/blueprints/__init__.py lists the modules."""

from flask import Blueprint

bp = Blueprint("admin", __name__)
