"""The workspace side menu: the modules' MenuItems (app/modules.py), grouped in the order
app/blueprints/__init__.py gives; a role sees only what its access policy lets it reach."""

from flask import current_app, request, url_for
from flask_login import current_user

from app.access import policy_of
from app.modules import wiring


def _allowed(endpoint, role):
    policy = policy_of(endpoint)
    if policy in ("public", "login"):
        return True
    return bool(policy) and role in policy


def _menu_of(role):
    """[(group title, [(label, endpoint, url)])] the role may reach: the same for every request of
    the app (the modules' menus and the access policies are fixed when it is built, and so are the
    links under one script root), so worked out once per role, script root and process."""
    kept = current_app.extensions.setdefault("menus_by_role", {})
    key = (role, request.script_root)
    if key not in kept:
        groups = []
        for title, items in wiring().menu:
            visible = [
                (label, endpoint, url_for(endpoint, **(args or {})))
                for label, endpoint, args in items
                if _allowed(endpoint, role)
            ]
            if visible:
                groups.append((title, visible))
        kept[key] = groups
    return kept[key]


def side_menu():
    return [
        {
            "title": title,
            "items": [
                {"label": label, "url": url, "active": request.endpoint == endpoint} for label, endpoint, url in items
            ],
        }
        for title, items in _menu_of(current_user.role)
    ]
