"""湖南省中小微企业核心服务机构调度管理系统."""
from flask import Flask


def create_app(test_config=None):
    """Application factory. Importing the package does no I/O; this function binds everything."""
    app = Flask(__name__, instance_relative_config=True)

    from app.config import load_config, prepare_files

    load_config(app, test_config)
    prepare_files(app)

    from app.extensions import cache, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db)
    csrf.init_app(app)
    limiter.init_app(app)
    cache.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录。"
    login_manager.session_protection = None  # the server-side session table does this job

    from app import models  # noqa: F401  (register every model)
    from app import sessions  # noqa: F401  (registers the user loader)
    from app.database import configure_engine

    from app.cache import watch_writes

    with app.app_context():
        configure_engine(db.engine)
        watch_writes(db.engine)

    from app.blueprints import register_blueprints
    from app.inputs import install_converters

    install_converters(app)  # before the blueprints: <int:...> ids bounded to the database's integer range
    register_blueprints(app)

    from app import health

    app.register_blueprint(health.bp)

    from app.web import register_web

    register_web(app)

    from app.sms import init_sms_log

    init_sms_log()

    from app.cli import register_cli

    register_cli(app)

    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Behind nginx: the client's address and scheme come from the X-Forwarded-For and
        # X-Forwarded-Proto entries the trusted proxies appended; anything before them is ignored.
        count = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)
    return app
