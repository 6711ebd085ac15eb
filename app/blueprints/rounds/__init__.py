"""批次管理: 申报批次 / 调度期 / 评选年度 (province admins).

Its contributions are declared in module.py; app/blueprints/__init__.py lists the modules."""

from flask import Blueprint

bp = Blueprint("rounds", __name__)
