"""核心服务机构申报: the engine's wizard (app/blueprints/applications/wizard.py) plus 模版下载.

Its contributions are declared in module.py; app/blueprints/__init__.py lists the modules."""

from flask import Blueprint

bp = Blueprint("applications", __name__)
