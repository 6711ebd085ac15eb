"""核心服务机构调度数据: the monthly report wizard, 调度管理 for admins, 调度大数据 for the portal.

Its contributions are declared in module.py; app/blueprints/__init__.py lists the modules."""

from flask import Blueprint

bp = Blueprint("reports", __name__)
