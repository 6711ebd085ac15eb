"""Fixtures: one app per test session; every test starts from an empty database with reference data.

Tests use SQLite unless TEST_DATABASE_URL is set (e.g. postgresql://postgres@127.0.0.1:5432/test).
CSRF, rate limits and the image captcha are relaxed by default (the captcha accepts "TEST");
tests of those mechanisms switch them back on with ``monkeypatch.setitem(app.config, ...)``.
"""

import os
import re
import shutil
import threading

import pytest
import sqlalchemy as sa
from flask import g, has_request_context, request, request_finished, request_started
from sqlalchemy import event
from werkzeug.serving import make_server

from app import create_app
from app.cache import topics_renew
from app.extensions import db, limiter
from app.jobs import registry
from app.sms import log as sms_log
from tests import sms_capture


def _worker_database(url):
    """Under pytest-xdist each worker gets a PostgreSQL database of its own (<name>_gw0 ...)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker or not url.startswith("postgres"):
        return url
    parsed = sa.engine.make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"{parsed.database}_{worker}"
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("app")
    url = _worker_database(os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp / 'test.db'}")
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "CAPTCHA_TEST_CODE": "TEST",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "UPLOAD_DIR": str(tmp / "uploads"),
            "JOBS_DIR": str(tmp / "jobs"),
            "SERVER_NAME": None,
        }
    )
    sms_log.addHandler(sms_capture.Capture())
    with app.app_context():
        db.drop_all()
        _drop_alembic_version()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def _drop_alembic_version():
    with db.engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(autouse=True)
def _clean_database(app):
    """Empty every table and the upload folder, and load the reference data, before each test."""
    shutil.rmtree(app.config["UPLOAD_DIR"], ignore_errors=True)
    sms_capture.DELIVERED.clear()
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(table.delete())
        topics_renew()  # what the migration inserts, with new tokens: no cached page outlives a test
        from app.reference.services import load_reference

        load_reference()
        db.session.remove()
    if limiter.enabled:  # with RATELIMIT_ENABLED off, Flask-Limiter has no storage to reset
        limiter.reset()
    yield
    with app.app_context():
        db.session.remove()


WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.I)


@pytest.fixture(autouse=True)
def writes_in_gets(app):
    """Every test proves that no page view (GET, HEAD) writes in its own transaction (DESIGN.md,
    Security; on PostgreSQL a page view reads outside a transaction, app/database.py, so such a
    write would not even be atomic). Bookkeeping goes through app.database.write_aside, on a
    connection marked ``info["write"]``. Yields the list of writes seen, for tests that look."""
    seen = []
    # the request being served: app_ctx is a GET request context too, and so is the one a job run
    # in immediate mode builds for its links (a worker's, in production)
    serving = []

    def note(conn, _cursor, statement, _params, _context, _many):
        if not serving or not has_request_context() or request._get_current_object() is not serving[0]:
            return
        if request.method not in ("GET", "HEAD"):
            return
        if not conn.info.get("write") and WRITE.match(statement):
            seen.append((request.path, statement.split("\n")[0][:120]))

    def started(sender, **extra):
        serving[:] = [request._get_current_object()]

    def finished(sender, **extra):
        serving.clear()

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    request_started.connect(started, app)
    request_finished.connect(finished, app)
    yield seen
    request_finished.disconnect(finished, app)
    request_started.disconnect(started, app)
    event.remove(engine, "before_cursor_execute", note)
    assert seen == [], f"a page view wrote in its own transaction: {seen}"


@pytest.fixture
def held(app, monkeypatch):
    """Background jobs held: the queue out of immediate mode: a started job waits until ``work()`` runs it."""
    huey = registry(app).huey
    monkeypatch.setattr(huey, "immediate", False)

    def work():
        ran = 0
        while (task := huey.dequeue()) is not None:
            huey.execute(task)
            ran += 1
        return ran

    return work


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def app_ctx(app):
    """Keep an app context open for the whole test, so factory objects stay usable."""
    with app.test_request_context():
        yield
        db.session.remove()


@pytest.fixture(autouse=True)
def _fresh_login_per_request(app):
    """With ``app_ctx`` pushed, Flask reuses that app context (and its ``g``) for every test
    request, so Flask-Login's cached ``g._login_user`` would leak from one request (or client) to
    the next. Drop it when a request starts, so each request loads its user from its own cookie
    and server-side session, as in production."""

    def forget_user(sender, **extra):
        g.pop("_login_user", None)

    def end_transaction(sender, **extra):
        # In production each request's session is removed at teardown (its transaction ends);
        # with app_ctx pushed the session outlives the request, and a transaction left open by
        # a POST (SQLite: BEGIN IMMEDIATE) would hold the write lock into the next request.
        db.session.rollback()

    request_started.connect(forget_user, app)
    request_finished.connect(end_transaction, app)
    yield
    request_started.disconnect(forget_user, app)
    request_finished.disconnect(end_transaction, app)


@pytest.fixture(scope="session")
def live_server(app):
    """Serve the test app on a free loopback port, one thread per request (browser and
    concurrency tests: tests/concurrency.py)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
