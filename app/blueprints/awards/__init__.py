from flask import Blueprint

bp = Blueprint("awards", __name__)

from app.blueprints.awards import routes  # noqa: E402,F401
