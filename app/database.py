"""Engine settings: SQLite in WAL mode with a busy timeout and BEGIN IMMEDIATE for writes."""

import logging

import sqlalchemy as sa
from flask import has_request_context, request
from sqlalchemy import event

from app.extensions import db

log = logging.getLogger(__name__)

READ_ONLY_METHODS = {"GET", "HEAD", "OPTIONS"}
BUSY_TIMEOUT_MS = 5000  # how long a write waits for SQLite's write lock
ASIDE_WAIT_MS = 500  # how long a page view's bookkeeping write waits before it is skipped


def configure_engine(engine):
    if engine.dialect.name != "sqlite":
        return

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


def write_aside(statement):
    """Run one bookkeeping write (a session's last-seen time, a message marked read) in a short
    transaction of its own, never inside the request's: a page view (GET) then never holds a write
    lock, and when the write cannot be made now (the database busy on a deadline day) the page is
    still served. Returns the row count, or None when the write failed."""
    try:
        with db.engine.connect() as connection:
            connection.info["write"] = True  # SQLite: BEGIN IMMEDIATE (see _on_begin)
            sqlite = connection.dialect.name == "sqlite"
            try:
                if sqlite:  # wait a moment for the write lock, not the 5 s a real write may
                    _pragma(connection, f"busy_timeout={ASIDE_WAIT_MS}")
                with connection.begin():
                    if not sqlite:
                        connection.exec_driver_sql(f"SET LOCAL lock_timeout = {ASIDE_WAIT_MS}")
                    return connection.execute(statement).rowcount
            finally:
                connection.info.pop("write", None)  # the info dict stays with the pooled connection
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
