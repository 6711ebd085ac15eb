from flask import Blueprint

bp = Blueprint("reports", __name__)

from app.blueprints.reports import admin_routes, routes  # noqa: E402,F401
