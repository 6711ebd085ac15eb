"""登录, 注册, 找回密码: accounts and their sessions.

Its contributions are declared in module.py; app/blueprints/__init__.py lists the modules."""

from flask import Blueprint

bp = Blueprint("auth", __name__)
