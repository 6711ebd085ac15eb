from flask import Blueprint

bp = Blueprint("rounds", __name__)

from app.blueprints.rounds import routes  # noqa: E402,F401
