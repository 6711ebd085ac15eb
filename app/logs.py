"""Log lines that say which request, which user and which client address they belong to.

Every request has an id: nginx's ``X-Request-ID`` ($request_id) when the request came through the
trusted proxies (``TRUSTED_PROXIES`` > 0) and the value looks like an id, a new random one
otherwise (a visitor talking to the app directly cannot choose it). The response carries it back in
``X-Request-ID``, so gunicorn's access line (deploy/gunicorn.conf.py), nginx's log and every line
the app logs while serving the request share it. The client address is ``request.remote_addr``
after ProxyFix, i.e. the visitor's, not nginx's.

    2026-07-08 09:30:01,123 WARNING [3f9c...] 36.157.20.4 user=42 app.health: ...

Lines logged outside a request (CLI, jobs) show ``-`` in those places.
"""

import logging
import re
import sys
import uuid

import sqlalchemy as sa
from flask import current_app, g, has_request_context, request
from flask.logging import default_handler
from flask_login import AnonymousUserMixin

REQUEST_ID_HEADER = "X-Request-ID"
# nginx's $request_id is 32 hex digits; other proxies use UUIDs. Anything else (a newline, a very
# long value) is replaced rather than written into the log.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")
LOG_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(client_addr)s user=%(user_id)s %(name)s: %(message)s"


def request_id():
    """This request's id (taken from the trusted proxy or made on first use)."""
    if "request_id" not in g:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        trusted = current_app.config.get("TRUSTED_PROXIES", 0) > 0
        g.request_id = given if trusted and _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
    return g.request_id


def _user_id():
    """The signed-in user's id if Flask-Login has loaded one for this request; never loads it (a
    log call must not run a query, least of all while a database error is being logged)."""
    user = g.get("_login_user")
    if user is None or isinstance(user, AnonymousUserMixin):
        return "-"
    state = sa.inspect(user, raiseerr=False)
    identity = state.identity if state is not None else None
    return str(identity[0]) if identity else "-"


class RequestContextFilter(logging.Filter):
    """Adds ``request_id``, ``client_addr`` and ``user_id`` to every record it sees."""

    def filter(self, record):
        if has_request_context():
            record.request_id = request_id()
            record.client_addr = request.remote_addr or "-"
            record.user_id = _user_id()
        else:
            record.request_id = record.client_addr = record.user_id = "-"
        return True


class AppLogHandler(logging.StreamHandler):
    """stderr (the journal under systemd, the terminal under make run), in LOG_FORMAT."""

    def __init__(self):
        super().__init__()
        self.addFilter(RequestContextFilter())
        self.setFormatter(logging.Formatter(LOG_FORMAT))

    @property
    def stream(self):
        return sys.stderr  # whatever it is now (test runners replace it), not what it was at start

    @stream.setter
    def stream(self, _value):
        pass


def configure_logging(app):
    """One handler on the root logger for the app's and the libraries' lines (gunicorn keeps its
    own loggers); the app's own loggers (``app.*``) log from INFO up. Idempotent: the suite builds
    many apps in one process."""
    root = logging.getLogger()
    if not any(isinstance(handler, AppLogHandler) for handler in root.handlers):
        root.addHandler(AppLogHandler())
    package = logging.getLogger(app.name)  # app.logger; app.health, app.sms ... below it
    package.removeHandler(default_handler)  # Flask's own, which would print each line twice
    if package.level == logging.NOTSET:
        package.setLevel(app.config.get("LOG_LEVEL", "INFO"))

    @app.after_request
    def send_request_id(response):
        response.headers[REQUEST_ID_HEADER] = request_id()
        return response
