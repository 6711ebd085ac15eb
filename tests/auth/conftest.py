import pytest
from flask import g, request_started


@pytest.fixture(autouse=True)
def _fresh_login_per_request(app):
    """With ``app_ctx`` pushed, Flask reuses that app context (and its ``g``) for every test
    request, so Flask-Login's cached ``g._login_user`` would leak from one request (or client) to
    the next. Drop it when a request starts, so each request loads its user from its own cookie
    and server-side session, as in production."""

    def forget_user(sender, **extra):
        g.pop("_login_user", None)

    request_started.connect(forget_user, app)
    yield
    request_started.disconnect(forget_user, app)
