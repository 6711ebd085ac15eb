"""Engine settings: SQLite in WAL mode with a busy timeout and BEGIN IMMEDIATE for writes."""
from flask import has_request_context, request
from sqlalchemy import event

READ_ONLY_METHODS = {"GET", "HEAD", "OPTIONS"}


def configure_engine(engine):
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy issue BEGIN itself (pysqlite would defer it), then set the pragmas.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # A transaction that may write takes the write lock up front, so two workers never
        # deadlock upgrading read locks ("database is locked"). Page views (GET) read in a
        # deferred transaction and so never wait for writers.
        if has_request_context() and request.method in READ_ONLY_METHODS:
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
