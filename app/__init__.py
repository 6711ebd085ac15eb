"""湖南省中小微企业核心服务机构调度管理系统."""

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

# Every module is imported here, before any of them runs, so the import order is the same whichever
# module a caller imports first. Importing does no I/O; create_app binds everything.
from app import (
    health,
    models,  # noqa: F401  (every model is mapped before the first query)
)
from app.blueprints import MENU_GROUPS, MODULES
from app.blueprints.auth.sessions import load_user
from app.cli import register_cli
from app.config import load_config, prepare_files
from app.database import init_database
from app.extensions import (
    cache as cache_store,  # not plain ``cache``: app.cache is a module of this package
)
from app.extensions import csrf, db, limiter, login_manager, migrate
from app.filecheck import SWEEP_SCHEDULE
from app.filings.export import EXPORT_JOB
from app.inputs import install_converters
from app.jobs import init_jobs
from app.logs import configure_logging
from app.modules import wire_modules, wiring
from app.sms import delivery_kind, init_sms_log
from app.static_files import init_static
from app.web import register_web
from app.widgets import install as install_widgets


def create_app(test_config=None, modules=None):
    """Application factory. Importing the package does no I/O; this function binds everything.

    ``modules`` (default: every module of app/blueprints/__init__.py, in order) lets a test build an
    app from a subset."""
    app = Flask(__name__, instance_relative_config=True)
    load_config(app, test_config)
    configure_logging(app)  # before prepare_files: its warnings carry the log format
    prepare_files(app)

    db.init_app(app)
    migrate.init_app(app, db)
    csrf.init_app(app)
    limiter.init_app(app)
    cache_store.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录。"
    login_manager.session_protection = None  # the server-side session table does this job
    login_manager.user_loader(load_user)

    init_database(app)  # SQLite's pragmas; PostgreSQL: the idle ping, page views outside a transaction

    install_widgets()  # WTForms' attributes rendered at a fifth of the cost, same output (app/widgets.py)
    install_converters(app)  # before the blueprints: <int:...> ids bounded to the database's integer range
    wire_modules(app, MODULES if modules is None else modules, MENU_GROUPS)
    app.register_blueprint(health.bp)
    register_web(app)
    init_static(app)  # fingerprinted static names, compressed responses
    # The background jobs: the core's SMS delivery and the engine's review-queue export (导出Excel of
    # every filing kind), then each module's, in the modules' order; the
    # schedules: each module's, then the core's daily sweep of half-written uploads.
    init_jobs(app, [delivery_kind(app.config), EXPORT_JOB, *wiring(app).jobs], [*wiring(app).schedules, SWEEP_SCHEDULE])
    init_sms_log()
    register_cli(app)

    if app.config["TRUSTED_PROXIES"]:
        # Behind nginx: the client's address and scheme come from the X-Forwarded-For and
        # X-Forwarded-Proto entries the trusted proxies appended; anything before them is ignored.
        count = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)
    return app
