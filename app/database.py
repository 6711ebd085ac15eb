"""Engine settings.

SQLite runs in WAL mode with a busy timeout, and a transaction that may write starts with
BEGIN IMMEDIATE.

On PostgreSQL:
- a pooled connection is pinged before use only when it has been idle (``ping_when_idle``);
- a page view (GET, HEAD, OPTIONS) reads outside a transaction, its connection in autocommit
  (``mark_page_view``, and ``RequestSession`` in app/extensions.py). READ COMMITTED gives each
  statement its own snapshot inside a transaction too, so a page reads what it read before. What
  goes is two round trips of a signed-in page's seven to nine, BEGIN and ROLLBACK. This is safe
  because a page view never writes in its own transaction: its writes go through
  ``writing_connection`` (``write_aside``, ``page_view_write``), in a transaction of their own, and
  tests/conftest.py fails any test whose GET writes otherwise;
- statements are not prepared on the server (app/config.py): planned for their values each time.
"""

import logging
import time
from contextlib import contextmanager

import sqlalchemy as sa
from flask import has_request_context, request, request_started
from sqlalchemy import event

from app.extensions import PAGE_VIEW, db

log = logging.getLogger(__name__)

READ_ONLY_METHODS = {"GET", "HEAD", "OPTIONS"}
BUSY_TIMEOUT_MS = 5000  # how long a write waits for SQLite's write lock
ASIDE_WAIT_MS = 500  # how long a page view's bookkeeping write waits before it is skipped
# A pooled connection used this recently is taken as alive without a ping (HikariCP's
# aliveBypassWindowMs is 500 ms too).
ALIVE_BYPASS_SECONDS = 0.5


def init_database(app):
    """Bind the engine settings above to ``app``'s engine."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        configure_sqlite(engine)
    else:
        ping_when_idle(engine)
        request_started.connect(mark_page_view, app)


def mark_page_view(_app, **_extra):
    """request_started, on PostgreSQL: a page view's statements run outside a transaction."""
    if request.method in READ_ONLY_METHODS:
        request.environ[PAGE_VIEW] = True


def configure_sqlite(engine):
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy issue BEGIN itself (pysqlite would defer it), then set the pragmas.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # A transaction that may write takes the write lock up front, so two workers never
        # deadlock upgrading read locks ("database is locked"). Page views (GET) read in a
        # deferred transaction and so never wait for writers; a GET's bookkeeping write runs on a
        # connection of its own marked ``info["write"]`` (app/blueprints/auth/sessions.py).
        if has_request_context() and request.method in READ_ONLY_METHODS and not connection.info.get("write"):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def ping_when_idle(engine):
    """Check a pooled connection with a ping before use only when it has been idle for more than
    ALIVE_BYPASS_SECONDS (SQLAlchemy's ``pool_pre_ping`` pings at every checkout: on a deadline
    day that is one more round trip to PostgreSQL per request, about 8 % of a worker's time in the
    mix). A dead connection found by the ping is replaced before the request uses it; one that
    died within the window (the server restarted under load) fails its next statement, and
    SQLAlchemy then invalidates the pool, so each worker sees at most one such error."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record):
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, _proxy):
        idle_since = record.info.pop("checked_in_at", None)
        if idle_since is None or time.monotonic() - idle_since < ALIVE_BYPASS_SECONDS:
            return  # new, or in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # the pool discards this connection and checks out a fresh one
            raise sa.exc.DisconnectionError(str(error)) from error


@contextmanager
def writing_connection():
    """A connection of its own for a page view's write, marked ``info["write"]``: SQLite begins its
    transactions with BEGIN IMMEDIATE (``_on_begin``), and the tests' check of page views lets it
    write. For page views only: a POST's own transaction may hold SQLite's write lock, which this
    connection would wait for."""
    with db.engine.connect() as connection:
        connection.info["write"] = True
        try:
            yield connection
        finally:
            connection.info.pop("write", None)  # the info dict stays with the pooled connection


@contextmanager
def page_view_write():
    """A transaction of its own for a write that is a page view's very point (an image captcha
    issues its challenge), committed when the block ends; yields the connection."""
    with writing_connection() as connection, connection.begin():
        yield connection


def write_aside(statement):
    """Run one bookkeeping write (a session's last-seen time, a message marked read) in a short
    transaction of its own, never inside the request's: a page view (GET) then never holds a write
    lock, and when the write cannot be made now (the database busy on a deadline day) the page is
    still served. Returns the row count, or None when the write failed."""
    try:
        with writing_connection() as connection:
            sqlite = connection.dialect.name == "sqlite"
            try:
                if sqlite:  # wait a moment for the write lock, not the 5 s a real write may
                    _pragma(connection, f"busy_timeout={ASIDE_WAIT_MS}")
                with connection.begin():
                    if not sqlite:
                        connection.exec_driver_sql(f"SET LOCAL lock_timeout = {ASIDE_WAIT_MS}")
                    return connection.execute(statement).rowcount
            finally:
                if sqlite:
                    _pragma(connection, f"busy_timeout={BUSY_TIMEOUT_MS}")
    except sa.exc.OperationalError as error:
        log.warning("bookkeeping write skipped: %s", error)
        return None


def _pragma(connection, setting):
    """A PRAGMA straight on the driver's connection: outside any transaction, no autobegin."""
    cursor = connection.connection.cursor()
    try:
        cursor.execute(f"PRAGMA {setting}")
    finally:
        cursor.close()


def end_read_transaction():
    """End the request's transaction before slow work such as a password hash.

    On SQLite a POST's transaction holds the database's write lock from its first statement
    (BEGIN IMMEDIATE, above); hashing inside it would queue every other writer behind ~100 ms of
    scrypt. Callers have only read so far; a commit (not a rollback) keeps anything a caller did
    add, should one ever have."""
    db.session.commit()
