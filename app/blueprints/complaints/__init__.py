"""企业投诉: 投诉登记 and 处理结果 for enterprises, 投诉处理 and 投诉统计 for admins.

Its contributions are declared in module.py; app/blueprints/__init__.py lists the modules."""

from flask import Blueprint

bp = Blueprint("complaints", __name__)
