"""Flask extensions, created unbound and bound in create_app()."""

import weakref

from flask import has_request_context, request
from flask_caching import Cache
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session
from flask_static_digest import FlaskStaticDigest
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData

# Stable constraint names so Alembic migrations work on SQLite and PostgreSQL alike.
naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# request.environ key set on PostgreSQL for a page view (app/database.py, mark_page_view)
PAGE_VIEW = "smehn.page_view"
_autocommit = weakref.WeakKeyDictionary()  # engine -> the same engine (same pool) in autocommit


class RequestSession(Session):
    """``db.session``. On PostgreSQL a page view's statements run outside a transaction, on the
    engine's autocommit variant: app/database.py says why and what keeps that safe."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        engine = super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)
        if bind is not None or not has_request_context() or not request.environ.get(PAGE_VIEW):
            return engine
        reading = _autocommit.get(engine)
        if reading is None:
            reading = _autocommit[engine] = engine.execution_options(isolation_level="AUTOCOMMIT")
        return reading


db = SQLAlchemy(metadata=MetaData(naming_convention=naming_convention), session_options={"class_": RequestSession})
migrate = Migrate(render_as_batch=True)
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)
cache = Cache()  # the page cache (app/cache.py)
compress = Compress()  # gzip / brotli responses (app/static_files.py)
static_digest = FlaskStaticDigest()  # fingerprinted static file names (app/static_files.py)
