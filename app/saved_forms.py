"""Never lose typed work: a POST that arrives after the session ended (idle timeout, 退出 in another
tab) is kept server-side against a one-time key, and the page it came from gets it back after the
user has logged in again (issue 18).

The posted fields (not files, not the CSRF token) are written as JSON under ``SAVED_FORM_DIR``
(default ``instance/saved_forms``), so every worker process sees them. The key travels in the
login page's ``next`` address (``/…/step/basic?restore=<key>``): logging in clears the browser
session, the address survives it. A key is read once, only for the same page, within
``SAVED_FORM_TTL``, and only by the account that was signed in when it was kept (when the browser
still said which one).

Restoring fills a form, it saves nothing: the user checks the fields and presses 下一步 again,
with a fresh CSRF token.
"""

import json
import os
import secrets
import time
from datetime import timedelta

from flask import current_app, flash, g, make_response, redirect, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from app.htmx import is_htmx

SAVED_FORM_TTL = timedelta(hours=12)
MAX_BYTES = 512 * 1024  # a long 机构简介 is a few KB; more is not a form someone typed
SKIPPED = {"csrf_token", "captcha_refresh"}
KEY_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _folder():
    folder = current_app.config.get("SAVED_FORM_DIR") or os.path.join(current_app.instance_path, "saved_forms")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    return folder


def _path_of(key):
    if not key or len(key) > 64 or not set(key) <= KEY_CHARS:
        return None
    return os.path.join(_folder(), f"{key}.json")


def _sweep(folder, now):
    """Drop kept forms past their time (at most a few files a day per user)."""
    limit = now - SAVED_FORM_TTL.total_seconds()
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        try:
            if name.endswith(".json") and os.path.getmtime(path) < limit:
                os.remove(path)
        except OSError:
            pass


def form_keep(*, path, formdata, user_id=None):
    """Keep ``formdata`` (a MultiDict) posted to ``path``; returns the one-time key, or None when
    there is nothing worth keeping."""
    fields = [(name, value) for name, value in formdata.items(multi=True) if name not in SKIPPED]
    if not fields:
        return None
    text = json.dumps({"path": path, "user_id": user_id, "fields": fields}, ensure_ascii=False)
    if len(text.encode()) > MAX_BYTES:
        return None
    folder = _folder()
    _sweep(folder, time.time())
    key = secrets.token_urlsafe(24)
    temporary = os.path.join(folder, f".{key}.tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, os.path.join(folder, f"{key}.json"))
    return key


def form_take(key, *, path, user_id):
    """The fields kept under ``key`` for ``path`` as a MultiDict, used up; None when the key is
    unknown, used, too old, for another page or for another account."""
    file = _path_of(key)
    if file is None:
        return None
    try:
        too_old = os.path.getmtime(file) < time.time() - SAVED_FORM_TTL.total_seconds()
        with open(file, encoding="utf-8") as handle:
            kept = json.load(handle)
        os.remove(file)  # one time, whatever the outcome below
    except (OSError, ValueError):
        return None
    if too_old or kept.get("path") != path:
        return None
    if kept.get("user_id") is not None and kept["user_id"] != user_id:
        return None
    return MultiDict([tuple(pair) for pair in kept.get("fields", [])])


def restored_formdata():
    """In a page's GET: the fields kept for this page (``?restore=<key>``) with a message, or None."""
    key = request.args.get("restore")
    if not key:
        return None
    data = form_take(key, path=request.path, user_id=current_user.id)
    if data is None:
        flash("暂存的内容已过期或已恢复过，无法再次恢复。", "warning")
        return None
    flash("已恢复您在登录过期前填写的内容（尚未保存）。请核对后点击“下一步”或“保存草稿”。", "warning")
    return data


ENDED = {
    "timeout": "登录已超时（长时间未操作）。",
    "forced": "您的登录已被管理员结束。",
    "password_changed": "帐户密码已修改，原登录已失效。",
    "password_reset": "帐户密码已重置，原登录已失效。",
}


def _ended():
    """(user id, reason) of a session the loader found ended in this request, or (None, None):
    the browser held none (退出, perhaps in another tab)."""
    return g.get("ended_session") or (None, None)


def signed_out_reason():
    """Why a request has no signed-in session, for the message on 登录."""
    _, reason = _ended()
    return ENDED.get(reason, "登录已过期。") if reason else "您已退出登录或登录已过期。"


def signed_out_post(reason=None):
    """The answer to a POST that arrived without a signed-in session: keep what was sent when the
    page it came from can be shown again (its address answers GET), then go to 登录 with a
    ``next`` that brings it back. htmx gets 401 with HX-Redirect (a swap would put the login page
    inside the step); a plain form a 303."""
    reason = reason or signed_out_reason()
    key = None
    rule = request.url_rule
    if rule is not None and "GET" in (rule.methods or ()):
        key = form_keep(path=request.path, formdata=request.form, user_id=_ended()[0])
    if key:
        flash(f"{reason}您刚才提交的内容已暂存，重新登录后将回到原页面并恢复这些内容。", "warning")
        target = url_for("auth.login", next=f"{request.path}?restore={key}")
    else:
        flash(f"{reason}请重新登录。", "warning")
        target = url_for("auth.login")
    if is_htmx():
        response = make_response("", 401)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target, code=303)
