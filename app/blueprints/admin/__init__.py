from flask import Blueprint

bp = Blueprint("admin", __name__)

from app.blueprints.admin import reference_routes, routes  # noqa: E402,F401
