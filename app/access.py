"""Deny-by-default access policy.

Every view declares who may reach it with one of the decorators below. A request to an endpoint
without a declaration is refused (403), and ``tests/test_access.py`` walks ``app.url_map`` so no
endpoint ships undeclared.

    @public                       anyone, logged in or not
    @login                        any logged-in account
    @roles("province_admin")      only these roles
"""

from flask import abort, current_app, flash, redirect, request, url_for
from flask_login import current_user

from app.saved_forms import signed_out_post

PUBLIC = "public"
LOGIN = "login"
ALL_ROLES = ("enterprise", "institution", "expert", "city_admin", "province_admin")
ADMINS = ("city_admin", "province_admin")


def _declare(view, policy):
    view.access_policy = policy
    return view


def public(view):
    return _declare(view, PUBLIC)


def login(view):
    return _declare(view, LOGIN)


def roles(*names):
    unknown = set(names) - set(ALL_ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {unknown}")

    def decorator(view):
        return _declare(view, tuple(names))

    return decorator


def policy_of(endpoint):
    """The declared policy of an endpoint, or None when it has none."""
    if endpoint == "static":
        return PUBLIC
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "access_policy", None)


# Endpoints a user who must change the password may still reach.
PASSWORD_CHANGE_ALLOWED = {"account.change_password", "auth.logout", "static"}


def enforce_access():
    """before_request hook: apply the endpoint's declared policy."""
    if request.endpoint is None:
        return None  # 404 and 405 are raised by routing itself
    policy = policy_of(request.endpoint)
    if policy is None:
        abort(403)
    if policy == PUBLIC:
        return None
    if not current_user.is_authenticated:
        if request.method == "POST":
            return signed_out_post()  # what was typed is kept for after the login
        flash("请先登录。", "info")
        return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
    if current_user.must_change_password and request.endpoint not in PASSWORD_CHANGE_ALLOWED:
        flash("您的密码是管理员设置的（新建帐户或重置密码），请先设置只有您自己知道的新密码。", "warning")
        return redirect(url_for("account.change_password"))
    if policy == LOGIN:
        return None
    if current_user.role not in policy:
        abort(403)
    return None
