"""Configuration defaults.

Order of precedence: these defaults < ``instance/config.py`` < environment variables.
"""
import os
import secrets
from datetime import timedelta
from pathlib import Path

MB = 1024 * 1024

# Environment variables read on top of the defaults and instance/config.py.
ENV_KEYS = (
    "DATABASE_URL",
    "SECRET_KEY",
    "RATELIMIT_STORAGE_URI",
    "SMS_BACKEND",
    "UPLOAD_DIR",
    "APP_ENV",
    "CAPTCHA_TEST_CODE",
    "CACHE_TYPE",
    "CACHE_REDIS_URL",
    "DOWNLOAD_CACHE_DIR",
)


class Defaults:
    APP_ENV = "development"  # "production" switches on the production guards
    SQLALCHEMY_DATABASE_URI = None  # filled in by load_config: sqlite in instance/
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = False
    # Page cache (app/cache.py): per worker by default; CACHE_TYPE=RedisCache + CACHE_REDIS_URL
    # shares it between workers. Entries are keyed by the content version and the minute.
    CACHE_TYPE = "SimpleCache"
    CACHE_DEFAULT_TIMEOUT = 120
    CACHE_THRESHOLD = 500  # entries per worker (a page is 3-90 KB)
    CACHE_KEY_PREFIX = "smehn:"
    DOWNLOAD_CACHE_DIR = None  # generated exports kept per content version: instance/cache/downloads
    SMS_BACKEND = "outbox"
    UPLOAD_DIR = None  # instance/uploads unless set
    MAX_FILE_SIZE = 50 * MB
    # Several files may go up in one request (the manual: 选择 several, then 上传), each at most
    # MAX_FILE_SIZE; Werkzeug spools them to disk, so the request limit costs no memory.
    MAX_FILES_PER_REQUEST_SIZE = 200 * MB
    MAX_CONTENT_LENGTH = MAX_FILES_PER_REQUEST_SIZE + 512 * 1024
    WTF_CSRF_TIME_LIMIT = None  # the server-side session bounds the token's life
    WTF_I18N_ENABLED = False  # WTForms' own Chinese messages (no Flask-Babel)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "smehn_session"
    SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
    SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=12)
    PASSWORD_HASH_METHOD = "scrypt"
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCK_MINUTES = 15
    SMS_CODE_TTL = timedelta(minutes=10)
    SMS_CODE_MAX_TRIES = 5
    SMS_SENDS_PER_DAY = 10
    SMS_SEND_INTERVAL = timedelta(minutes=1)
    REMINDER_INTERVAL = timedelta(hours=24)  # 催报: an institution is reminded at most once per period in this time
    CAPTCHA_TEST_CODE = None
    PAGE_SIZE = 20
    CENTRE_TECH_PHONE = "0731-89706287"
    CENTRE_CONSULT_PHONE = "0731-89706283"


def load_config(app, test_config=None):
    """Apply defaults, instance/config.py, then the environment (or test_config)."""
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    for key in ENV_KEYS:
        if os.environ.get(key):
            app.config[key] = os.environ[key]
    if os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    if test_config:
        app.config.update(test_config)

    instance = Path(app.instance_path)
    uri = app.config.get("SQLALCHEMY_DATABASE_URI") or f"sqlite:///{instance / 'app.db'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(uri)
    if uri.startswith("sqlite"):
        # A file has no connection to lose: pinging it only costs every request a statement.
        options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        options.pop("pool_pre_ping", None)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    app.config["UPLOAD_DIR"] = str(app.config.get("UPLOAD_DIR") or instance / "uploads")
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key(instance)
    if app.config["APP_ENV"] == "production":
        app.config["SESSION_COOKIE_SECURE"] = True
        if app.config.get("CAPTCHA_TEST_CODE"):
            raise RuntimeError("CAPTCHA_TEST_CODE 只能用于测试环境，生产配置下禁止设置。")


def normalise_database_url(uri):
    """postgres:// and postgresql:// URLs use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if uri.startswith(prefix):
            return "postgresql+psycopg://" + uri[len(prefix):]
    return uri


def instance_secret_key(instance):
    """Read instance/secret_key, creating it with a random key on first run."""
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
