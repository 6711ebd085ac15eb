from flask import Blueprint

bp = Blueprint("complaints", __name__)

from app.blueprints.complaints import routes  # noqa: E402,F401
