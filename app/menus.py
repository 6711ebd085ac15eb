"""The workspace side menu: the modules' MenuItems (app/modules.py), grouped in the order
app/blueprints/__init__.py gives; a role sees only what its access policy lets it reach."""

from flask import request
from flask_login import current_user

from app.access import policy_of
from app.modules import wiring


def _allowed(endpoint):
    policy = policy_of(endpoint)
    if policy in ("public", "login"):
        return True
    return bool(policy) and current_user.role in policy


def side_menu():
    groups = []
    for title, items in wiring().menu:
        visible = [
            {"label": label, "endpoint": endpoint, "args": args, "active": request.endpoint == endpoint}
            for label, endpoint, args in items
            if _allowed(endpoint)
        ]
        if visible:
            groups.append({"title": title, "items": visible})
    return groups
