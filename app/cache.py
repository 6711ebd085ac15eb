"""Cache of the public portal pages an anonymous visitor sees, keyed by the data they show.

Only anonymous visitors get cached pages; a signed-in user's pages are always rendered for them
(they are cheap enough: docs/benchmarks.md). A portal view declares the *topics* it shows::

    @bp.route("/notices")
    @public
    @public_page(NOTICES)
    def list_notices(): ...

and a page is keyed by each topic's current token, the minute, htmx or not, and the URL. So a
notice scheduled for 09:00 or an 认定 that ends today shows within the minute.

A topic changes when a transaction that wrote its rows commits. Which rows feed which topic is
declared on the tables themselves (``cache_topics`` in a model's ``__table_args__`` info, or a
``Table(..., info={"cache_topics": ...})``), so every writer — a service, the importer, a CLI
command, a bulk ``UPDATE`` — invalidates what it changes without having to remember to; nothing
reads SQL text. Just before COMMIT the touched topics get a new random token (table
``cache_topic``), in that same transaction: a page rendered from the new data can never be stored
under the old token, and a token never comes back (a restore or a downgrade cannot revive a stale
page, unlike a counter would).

Storage is Flask-Caching (``CACHE_TYPE``: SimpleCache per worker by default, RedisCache to share
it between workers); the tokens are in the database, so either is correct.
"""

import hashlib
import logging
import secrets

import sqlalchemy as sa
from flask import g, has_request_context, request, session
from flask.signals import message_flashed
from flask_login import current_user
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.extensions import cache, db
from app.htmx import is_htmx
from app.utils import utcnow

log = logging.getLogger(__name__)
CACHE_DOWN = (RedisError, OSError)  # what a RedisCache raises when its server cannot be reached

# The topics, and what each covers.
NOTICES = "notices"  # 通知公告 / 工作动态 and their attachments
DIRECTORY = "directory"  # recognised institutions, their public profile and 服务类别
AWARDS = "awards"  # published 优秀评选 results
BIG_DATA = "big_data"  # the approved monthly reports' rollups (调度大数据)
REFERENCE = "reference"  # 市州 / 区县 names, 机构类型, 服务类别, 所属平台
TOPICS = (NOTICES, DIRECTORY, AWARDS, BIG_DATA, REFERENCE)


class CacheTopic(db.Model):
    """One row per topic: the token cached pages of that topic are keyed by."""

    __tablename__ = "cache_topic"

    name: Mapped[str] = mapped_column(sa.String(30), primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(32))


def topics(*names):
    """``__table_args__``/``Table`` info declaring which topics a table's rows feed."""
    unknown = set(names) - set(TOPICS)
    if unknown:
        raise ValueError(f"unknown cache topics: {sorted(unknown)}")
    return {"cache_topics": tuple(names)}


def _table_topics(table):
    return table.info.get("cache_topics", ()) if table is not None else ()


def _note(session, names):
    if names:
        session.info.setdefault("cache_topics", set()).update(names)


@event.listens_for(Session, "after_flush")
def _flushed(session, _context):
    for instance in (*session.new, *session.dirty, *session.deleted):
        of_row = getattr(instance, "cache_topics_of", None)  # a table whose rows differ (attachment)
        if of_row is not None:
            _note(session, set(of_row()))
            continue
        mapper = sa.inspect(instance).mapper
        _note(session, {name for table in mapper.tables for name in _table_topics(table)})


@event.listens_for(Session, "do_orm_execute")
def _bulk(state):
    """INSERT / UPDATE / DELETE statements run through the session (ORM-enabled or Core)."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    names = set(_table_topics(table))
    if state.bind_mapper is not None:  # joined inheritance: an UPDATE of the base may touch a subclass row
        names.update(name for t in state.bind_mapper.tables for name in _table_topics(t))
    _note(state.session, names)


@event.listens_for(Session, "before_commit")
def _renew_tokens(session):
    session.flush()  # what is still pending counts too
    names = sorted(session.info.pop("cache_topics", ()))
    if not names:
        return
    # new random tokens, in the transaction being committed (sorted: two commits lock in one order)
    table = CacheTopic.__table__
    session.execute(
        table.update().where(table.c.name == sa.bindparam("topic")).values(token=sa.bindparam("fresh")),
        [{"topic": name, "fresh": secrets.token_hex(16)} for name in names],
    )


@event.listens_for(Session, "after_rollback")
def _forget(session):
    if session.in_nested_transaction():
        return  # a savepoint rolled back (SQLAlchemy 2.1 says so here too): the rest still commits
    session.info.pop("cache_topics", None)


def topic_tokens(names):
    """{topic: token} of ``names`` as committed (None when a row is missing: then nothing is
    cached). Read once per request — one small query — and again after the request commits."""
    # kept on the request itself (an app context, and so ``g``, may outlive a request)
    tokens = getattr(request, "_topic_tokens", None) if has_request_context() else None
    if tokens is None:
        tokens = dict(db.session.execute(sa.select(CacheTopic.name, CacheTopic.token)).all())
        if has_request_context():
            _keep_tokens(tokens)
    if any(name not in tokens for name in names):
        return None
    return {name: tokens[name] for name in names}


def token_columns():
    """Every topic's token as a labelled scalar subquery, for a statement that runs first in every
    signed-in request (the session loader): it reads them beside its own columns, and
    ``tokens_read`` keeps them for the request, so no statement of its own asks for them later.
    (Read before any of the request's data, as ``topic_tokens`` is: a value computed from that data
    is never kept under a token newer than the data.)"""
    return [
        sa.select(CacheTopic.token).where(CacheTopic.name == name).scalar_subquery().label(f"topic_{name}")
        for name in TOPICS
    ]


def tokens_read(row):
    """Keep the tokens a ``token_columns`` statement read (``row``) as this request's, unless the
    request read them already."""
    if getattr(request, "_topic_tokens", None) is None:
        tokens = {name: getattr(row, f"topic_{name}") for name in TOPICS}
        _keep_tokens({name: token for name, token in tokens.items() if token is not None})


def _keep_tokens(tokens):
    """The request's tokens, and an empty memo of what is worked out from them."""
    request._topic_tokens = tokens
    request._token_memo = {}


def token_memo():
    """A dict for what this request worked out from the tokens it read (``topic_tokens``), or
    None before it read them; emptied with them when a commit may have moved them."""
    return getattr(request, "_token_memo", None) if has_request_context() else None


@event.listens_for(Session, "after_commit")
def _tokens_moved(_session):
    if has_request_context():
        request._topic_tokens = None
        request._token_memo = None


def by_topics(names, key, compute, timeout=None):
    """``compute()``, kept in the cache store until a topic in ``names`` changes (or ``timeout``
    seconds pass): for data that every visitor's page shows, signed in or not (the 首页 blocks,
    the 调度大数据 figures). ``key`` says what else the value depends on; values must pickle.
    When the store cannot be reached the value is computed afresh."""
    tokens = topic_tokens(names)
    if tokens is None:
        return compute()
    name = "data:" + hashlib.sha256(repr((key, sorted(tokens.items()))).encode()).hexdigest()[:32]
    try:
        kept = cache.get(name)
    except CACHE_DOWN as error:
        log.warning("cache store unavailable: %s", error)
        return compute()
    if kept is not None:
        return kept[0]
    value = compute()
    try:
        cache.set(name, (value,), timeout=timeout)
    except CACHE_DOWN as error:
        log.warning("cache store unavailable: %s", error)
    return value


def topics_renew(names=TOPICS):
    """Give ``names`` fresh tokens now, creating missing rows (after a restore, or a change made
    behind the ORM's back). Commits on a connection of its own."""
    with db.engine.begin() as connection:
        present = set(connection.execute(sa.select(CacheTopic.name).where(CacheTopic.name.in_(names))).scalars())
        for name in names:
            token = secrets.token_hex(16)
            if name in present:
                connection.execute(sa.update(CacheTopic).where(CacheTopic.name == name).values(token=token))
            else:
                connection.execute(sa.insert(CacheTopic).values(name=name, token=token))


@message_flashed.connect
def _flashed(_app, **_kw):
    g._page_flashed = True


def public_page(*names):
    """Decorator: serve this GET view from the cache to anonymous visitors, keyed by ``names``."""
    names = tuple(sorted(names))

    def bypass():
        if request.method != "GET" or current_user.is_authenticated or session.get("_flashes"):
            return True
        g._page_tokens = topic_tokens(names)
        return g._page_tokens is None

    def key(*_args, **_kwargs):
        tokens = ".".join(g._page_tokens[name] for name in names)
        part = "fragment" if is_htmx() else "page"
        return f"page:{tokens}:{utcnow():%Y%m%d%H%M}:{part}:{request.host}{request.full_path}"

    return cache.cached(unless=bypass, make_cache_key=key, response_filter=_storable)


def _storable(response):
    """Only a plain 200 with nothing personal in it: no flash, no CSRF token."""
    if getattr(response, "status_code", 200) != 200 or g.get("_page_flashed"):
        return False
    return "csrf_token" not in g
