"""What the auth module contributes to the app (app/modules.py)."""

from app.blueprints.auth import bp, routes  # noqa: F401  (importing the views puts them on bp)
from app.modules import Module

module = Module(name="auth", blueprint=bp, url_prefix="/auth")
