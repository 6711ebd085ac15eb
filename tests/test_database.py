"""app/database.py on PostgreSQL: page views read outside a transaction, and a pooled connection is
pinged only when it has been idle. (On SQLite neither applies: a page view reads in a deferred
transaction, and a file has no connection to lose.)"""

import pytest
import sqlalchemy as sa
from flask import has_request_context, request
from psycopg.pq import TransactionStatus
from sqlalchemy import event

from app import database
from app.extensions import db
from tests.factories import make_institution
from tests.helpers import login


@pytest.fixture
def postgresql(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("PostgreSQL's connections")
        yield db.engine


def _statuses(engine):
    """(method, path, transaction status after the statement) of each statement a request runs on
    its own connection (not a write apart)."""
    seen = []

    def note(conn, _cursor, _statement, _params, _context, _many):
        if has_request_context() and not conn.info.get("write"):
            status = conn.connection.dbapi_connection.info.transaction_status
            seen.append((request.method, request.path, status))

    event.listen(engine, "after_cursor_execute", note)
    return seen, lambda: event.remove(engine, "after_cursor_execute", note)


def test_a_page_view_reads_outside_a_transaction_and_a_post_writes_in_one(app, client, postgresql):
    with app.app_context():
        user = make_institution().username
    seen, stop = _statuses(postgresql)
    try:
        login(client, user)
        for path in ("/workspace/", "/reports/", "/workspace/messages"):
            assert client.get(path).status_code == 200
        assert client.post("/auth/logout").status_code in (302, 303)  # on a connection a page view used
    finally:
        stop()
    posts = {(path, status) for method, path, status in seen if method == "POST"}
    gets = [(path, status) for method, path, status in seen if method == "GET"]
    # the login's and the logout's writes, each in its transaction
    assert {path for path, _ in posts} == {"/auth/login", "/auth/logout"}
    assert {status for _, status in posts} == {TransactionStatus.INTRANS}
    assert {path for path, _ in gets} == {"/workspace/", "/reports/", "/workspace/messages"}
    assert {status for _, status in gets} == {TransactionStatus.IDLE}  # no BEGIN was sent


def test_a_connection_used_a_moment_ago_is_not_pinged(app, client, postgresql, monkeypatch):
    pings = []
    real = postgresql.dialect.do_ping

    def counting(dbapi_connection):
        pings.append(dbapi_connection)
        return real(dbapi_connection)

    monkeypatch.setattr(postgresql.dialect, "do_ping", counting)
    monkeypatch.setattr(database, "ALIVE_BYPASS_SECONDS", 60)
    assert client.get("/").status_code == 200
    assert client.get("/notices").status_code == 200
    assert pings == []
    monkeypatch.setattr(database, "ALIVE_BYPASS_SECONDS", 0)  # every pooled connection counts as idle
    assert client.get("/notices").status_code == 200
    assert len(pings) >= 1


@pytest.fixture
def dropping(postgresql):
    """``_drop_other_connections``, and a fresh pool afterwards: the next test's first checkout
    would otherwise meet a dropped connection within the window."""
    yield _drop_other_connections
    postgresql.dispose()


def _drop_other_connections(engine):
    """What a server restart does to the pool: every other connection to this database ends."""
    outside = sa.create_engine(engine.url, poolclass=sa.pool.NullPool)
    with outside.connect() as connection:
        ended = connection.execute(
            sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar()
    outside.dispose()
    return ended


def test_an_idle_connection_the_server_dropped_is_replaced_before_use(app, client, postgresql, dropping, monkeypatch):
    assert client.get("/notices").status_code == 200  # a connection in the pool
    assert dropping(postgresql) >= 1
    monkeypatch.setattr(database, "ALIVE_BYPASS_SECONDS", 0)
    assert client.get("/notices").status_code == 200  # pinged, found dead, replaced


def test_a_connection_dropped_within_the_window_fails_once_then_the_pool_is_renewed(
    app, client, postgresql, dropping, monkeypatch
):
    """The price of skipping the ping (app/database.py): a server restart under load fails the next
    request of each worker, not the ones after it."""
    assert client.get("/notices").status_code == 200
    assert dropping(postgresql) >= 1
    monkeypatch.setattr(database, "ALIVE_BYPASS_SECONDS", 3600)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # the visitor's view: the error page
    assert client.get("/notices").status_code == 500
    assert client.get("/notices").status_code == 200


def test_statements_are_not_prepared_on_the_server(app, postgresql):
    """A prepared statement gets PostgreSQL's generic plan after a few runs; for some (报送完整性's
    aggregate) that plan is many times slower than the one made for the values at hand."""
    with postgresql.connect() as connection:
        assert connection.connection.driver_connection.prepare_threshold is None
