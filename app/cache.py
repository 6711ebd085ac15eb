"""Whole-page cache for read-only pages, invalidated by a content version.

Every committed transaction that wrote to a table a page may show bumps ``content_version``
in that same transaction (just before COMMIT). A cached page is keyed by that version, the
current minute, the visitor's session (or "anon") and the full URL, so

- a write anywhere (web, CLI, import) makes every earlier page unreachable at once;
- anything that turns on the clock (a notice scheduled for 09:00, a filing deadline, the day an
  认定 expires) is at most a minute old — and those are all set to the minute; so is a change
  made behind the application's back (by hand in the database);
- a signed-in user only ever gets pages rendered for their own session (access is still checked
  by ``enforce_access`` before the view runs; the cache sits inside the view).

Pages are only stored when nothing personal leaked into them: a flash message, or, for an
anonymous visitor, a CSRF token. Storage is Flask-Caching (``CACHE_TYPE``: SimpleCache per
worker by default, RedisCache to share it between workers); the version row makes either correct.
"""

import hashlib
import os
import re
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from flask import current_app, g, request, session
from flask.signals import message_flashed
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import cache, db
from app.htmx import is_htmx
from app.utils import utcnow

# Bookkeeping tables no cached page shows: writing them does not change any page.
# (A page that shows one of these must not use ``cached_page``.)
UNCACHED_TABLES = frozenset(
    {
        "content_version",
        "alembic_version",
        "user_session",
        "login_log",
        "audit_log",
        "sms_message",
        "sms_code",
        "captcha_challenge",
        "complaint_lookup",
        "job",  # a job's progress and status (app/jobs.py); what a job changes bumps the version itself
        "schedule_run",
    }
)

_WRITE = re.compile(r'^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO)\s+"?(\w+)"?', re.I)
BUMP = "UPDATE content_version SET version = version + 1 WHERE id = 1"
CURRENT = "SELECT version FROM content_version WHERE id = 1"


class ContentVersion(db.Model):
    """One row: how many content-changing transactions have committed."""

    __tablename__ = "content_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(sa.BigInteger, default=0)


def content_version():
    """The current version, or None when the row is missing (then nothing is cached)."""
    # On the request's own connection and transaction, without the ORM's statement machinery.
    return db.session.connection().exec_driver_sql(CURRENT).scalar()


def watch_writes(engine):
    """Bump the version in every transaction that wrote to a page's tables."""

    @event.listens_for(engine, "after_cursor_execute")
    def _note_write(conn, _cursor, statement, _parameters, _context, _executemany):
        match = _WRITE.match(statement)
        if match and match.group(1).lower() not in UNCACHED_TABLES:
            conn.info["content_changed"] = True

    @event.listens_for(engine, "commit")
    def _bump(conn):
        if conn.info.pop("content_changed", False):
            # Straight to the driver, inside the transaction being committed (no events, no
            # autoflush); the row lock is held only for the instant before COMMIT.
            cursor = conn.connection.cursor()
            try:
                cursor.execute(BUMP)
            finally:
                cursor.close()

    @event.listens_for(engine, "rollback")
    def _forget(conn):
        conn.info.pop("content_changed", None)


@message_flashed.connect
def _flashed(_app, **_kw):
    g._page_flashed = True


def _bypass():
    """Not cacheable: not a GET, a pending flash message, or no version row."""
    if request.method != "GET" or session.get("_flashes"):
        return True
    g._page_version = content_version()
    return g._page_version is None


def _key(*_args, **_kwargs):
    scope = session.get("sid") if current_user.is_authenticated else "anon"
    part = "fragment" if is_htmx() else "page"
    return f"page:{g._page_version}:{utcnow():%Y%m%d%H%M}:{scope}:{part}:{request.host}{request.full_path}"


def _storable(response):
    """Only a plain 200 with nothing personal in it for someone else to see."""
    if getattr(response, "status_code", 200) != 200 or g.get("_page_flashed"):
        return False
    return current_user.is_authenticated or "csrf_token" not in g


cached_page = cache.cached(unless=_bypass, make_cache_key=_key, response_filter=_storable)
cached_page.__doc__ = "Decorator: serve this GET view from the page cache (see the module docstring)."


def cached_file(parts, write, suffix=".xlsx"):
    """A generated download kept on disk for the current content version: an open file.

    ``parts`` say what the file depends on besides the data (kind, reviewer scope, filters);
    ``write(out)`` writes it into a binary file when it is not there yet. The file is written
    aside and renamed into place, so a reader never sees half of one; files of older versions
    are removed when a new one is written. Exports never turn on the clock, so no minute here.
    """
    version = content_version()
    if version is None:  # no version row: build a private copy every time
        out = tempfile.TemporaryFile()
        write(out)
        out.seek(0)
        return out
    folder = Path(current_app.config["DOWNLOAD_CACHE_DIR"] or Path(current_app.instance_path) / "cache" / "downloads")
    digest = hashlib.sha256(repr(tuple(parts)).encode()).hexdigest()[:32]
    path = folder / f"{version}-{digest}{suffix}"
    try:
        return path.open("rb")
    except FileNotFoundError:
        pass
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".part-", delete=False) as out:
        try:
            write(out)
        except BaseException:
            os.unlink(out.name)
            raise
    handle = open(out.name, "rb")  # opened first: a newer version's writer may prune it any time
    os.replace(out.name, path)
    _prune(folder, keep=f"{version}-")
    return handle


def _prune(folder, keep):
    """Remove the files of older versions, and half-written ones left by a killed worker an hour ago."""
    an_hour_ago = time.time() - 3600
    for old in folder.iterdir():
        try:
            if old.name.startswith(".part-"):
                if old.stat().st_mtime < an_hour_ago:
                    old.unlink()
            elif not old.name.startswith(keep):
                old.unlink()  # a download already under way keeps its open file
        except FileNotFoundError:
            pass  # another worker pruned it first
