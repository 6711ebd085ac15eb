"""优秀评选: three nominations (the engine's wizards), 评审管理, the reviewers' pages, 公示 and 发布.

Its contributions are declared in module.py; app/blueprints/__init__.py lists the modules."""

from flask import Blueprint

bp = Blueprint("awards", __name__)
