"""Configuration defaults.

Order of precedence: these defaults < ``instance/config.py`` < environment variables.
Under ``APP_ENV=production`` the settings are checked (``config_findings``): an unsafe one stops
the app from starting; ``flask check-config`` prints every finding.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import make_url

from app.upload_modes import PRIVATE, UploadGroupError, group_id, make_folder, may_use_group, upload_modes

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
    "TRUSTED_PROXIES",
    "HSTS_MAX_AGE",
    "HEALTH_MIN_FREE_MB",
    "HEALTH_WARN_FREE_MB",
    "SMS_OUTBOX_IN_PRODUCTION",
    "X_ACCEL_REDIRECT_PREFIX",
    "UPLOAD_GROUP",
    "JOBS_URL",
    "JOBS_EMBEDDED_WORKER",
    "JOBS_BASE_URL",
    "JOBS_DIR",
)
# Settings that are numbers or switches: environment values (strings) are converted.
INT_KEYS = ("TRUSTED_PROXIES", "HSTS_MAX_AGE", "HEALTH_MIN_FREE_MB", "HEALTH_WARN_FREE_MB")
BOOL_KEYS = (
    "SMS_OUTBOX_IN_PRODUCTION",
    "HSTS_INCLUDE_SUBDOMAINS",
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED",
    "JOBS_EMBEDDED_WORKER",
)
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}

MIN_SECRET_KEY_BYTES = 32
COOKIE_NAME = "smehn_session"


class ConfigError(RuntimeError):
    """The settings are unsafe for production; the message lists every problem, one per line."""


class Defaults:
    APP_ENV = "development"  # "production" switches on the production guards
    SQLALCHEMY_DATABASE_URI = None  # filled in by load_config: sqlite in instance/
    # PostgreSQL's connections are pinged when idle (app/database.py, ping_when_idle), not at every
    # checkout as pool_pre_ping would
    SQLALCHEMY_ENGINE_OPTIONS = {}
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = False
    # When the limit store (Redis) cannot be reached, count in this process's memory instead of
    # failing the request; Flask-Limiter retries the store with a growing back-off.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # A Redis that does not answer must not hold a request for long (seconds).
    RATELIMIT_REDIS_TIMEOUT = 0.5
    # Number of reverse proxies in front of the app (nginx: 1). Each appends the address it saw to
    # X-Forwarded-For; with 0 the header is ignored, so a visitor cannot pick its own address.
    TRUSTED_PROXIES = 0
    # Cache of anonymous portal pages and of data every visitor sees (app/cache.py): per worker by
    # default; CACHE_TYPE=RedisCache + CACHE_REDIS_URL shares it between workers. Entries are keyed
    # by the tokens of the data topics they show (in the database) and, for pages, the minute.
    CACHE_TYPE = "SimpleCache"
    CACHE_DEFAULT_TIMEOUT = 120
    CACHE_THRESHOLD = 500  # entries per worker (a page is 3-90 KB)
    CACHE_KEY_PREFIX = "smehn:"
    SMS_BACKEND = "outbox"
    SMS_INLINE_SECONDS = 20  # delivery after a commit stops after this; the rest waits for flask sms-deliver
    SMS_OUTBOX_IN_PRODUCTION = False  # the outbox sends nothing: production refuses it unless allowed
    UPLOAD_DIR = None  # instance/uploads unless set
    # /healthz fails below HEALTH_MIN_FREE_MB free for uploads and warns below HEALTH_WARN_FREE_MB.
    HEALTH_MIN_FREE_MB = 1024
    HEALTH_WARN_FREE_MB = 5120
    # nginx in front: attachment downloads answer with X-Accel-Redirect: <prefix><path under
    # UPLOAD_DIR> and nginx streams the file from an internal location (deploy/), e.g.
    # "/_protected_files/". None: the app sends the file itself.
    X_ACCEL_REDIRECT_PREFIX = None
    # With X_ACCEL_REDIRECT_PREFIX set: the group (name or gid) the service account shares with
    # nginx's workers. Uploads are then written 0640 in 2750 folders of that group, so nginx can
    # send them (app/upload_modes.py); unset, or without X-Accel, they stay 0600 in 0700 folders.
    UPLOAD_GROUP = None
    # Uploads written aside (UPLOAD_DIR/.incoming) and never committed are removed after this long.
    INCOMING_SWEEP_HOURS = 24
    MAX_FILE_SIZE = 50 * MB
    # Several files may go up in one request (the manual: 选择 several, then 上传), each at most
    # MAX_FILE_SIZE; Werkzeug spools them to disk, so the request limit costs no memory.
    MAX_FILES_PER_REQUEST_SIZE = 200 * MB
    MAX_CONTENT_LENGTH = MAX_FILES_PER_REQUEST_SIZE + 512 * 1024
    FILING_MAX_FILES = 30  # attachments per filing
    FILING_MAX_BYTES = 500 * MB  # their total size
    COMPLAINT_MAX_FILES = 5  # attachments per complaint
    WTF_CSRF_TIME_LIMIT = None  # the server-side session bounds the token's life
    WTF_I18N_ENABLED = False  # WTForms' own Chinese messages (no Flask-Babel)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = COOKIE_NAME  # "__Host-smehn_session" in production
    SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
    SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=12)
    # Strict-Transport-Security in production (seconds; 0 sends none).
    HSTS_MAX_AGE = 365 * 24 * 3600
    HSTS_INCLUDE_SUBDOMAINS = False
    # The process umask: None leaves it alone; production uses 0o077, so the database, uploads
    # and exports are readable by the service account only.
    FILE_UMASK = None
    PASSWORD_HASH_METHOD = "scrypt"
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCK_MINUTES = 15
    SMS_CODE_TTL = timedelta(minutes=10)
    SMS_CODE_MAX_TRIES = 5
    SMS_SENDS_PER_DAY = 10
    SMS_SEND_INTERVAL = timedelta(minutes=1)
    # Background jobs (app/jobs.py): redis://host:port/db, sqlite:///path or memory:// (immediate).
    # Unset: instance/jobs.db, or memory:// under TESTING.
    JOBS_URL = None
    JOBS_EMBEDDED_WORKER = None  # in-process worker threads; unset: on in development, off otherwise
    JOBS_BASE_URL = None  # links in messages written by jobs (e.g. https://example.gov.cn/)
    JOBS_DIR = None  # the jobs' files (exports, 通报): instance/jobs unless set
    SMS_RETRIES = 4  # a failed gateway call is tried again this many times,
    SMS_RETRY_DELAY = 30  # first after this many seconds,
    SMS_RETRY_BACKOFF = 2  # each wait this many times the one before
    REMINDER_INTERVAL = timedelta(hours=24)  # 催报: an institution is reminded at most once per period in this time
    CAPTCHA_TEST_CODE = None
    PAGE_SIZE = 20
    CENTRE_TECH_PHONE = "0731-89706287"
    CENTRE_CONSULT_PHONE = "0731-89706283"


def load_config(app, test_config=None):
    """Apply defaults, instance/config.py, then the environment (or test_config).

    Raises ConfigError under APP_ENV=production when a setting is unsafe (see config_findings).
    """
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    for key in ENV_KEYS:
        if os.environ.get(key):
            app.config[key] = os.environ[key]
    if os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    if test_config:
        app.config.update(test_config)
    _convert_types(app.config)

    instance = Path(app.instance_path)
    uri = app.config.get("SQLALCHEMY_DATABASE_URI") or f"sqlite:///{instance / 'app.db'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(uri)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # No server-side prepared statements: a statement psycopg prepared (at its 5th run on a
        # connection) gets PostgreSQL's generic plan from its 10th or so, and 报送完整性's
        # aggregate went from 6 ms to 170 ms with it. Page views keep their connection's state
        # from one request to the next (app/database.py), so the threshold would be reached.
        options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        options["connect_args"] = {"prepare_threshold": None, **options.get("connect_args", {})}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    app.config["UPLOAD_DIR"] = str(app.config.get("UPLOAD_DIR") or instance / "uploads")
    if not app.config.get("JOBS_URL"):
        app.config["JOBS_URL"] = "memory://" if app.config.get("TESTING") else f"sqlite:///{instance / 'jobs.db'}"
    if app.config.get("JOBS_EMBEDDED_WORKER") is None:
        app.config["JOBS_EMBEDDED_WORKER"] = app.config["APP_ENV"] != "production" and not app.config.get("TESTING")
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key(instance)
    if str(app.config.get("RATELIMIT_STORAGE_URI", "")).startswith(("redis://", "rediss://", "redis+unix://")):
        timeout = app.config["RATELIMIT_REDIS_TIMEOUT"]
        app.config.setdefault(
            "RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": timeout, "socket_timeout": timeout}
        )
    if app.config["APP_ENV"] == "production":
        app.config["SESSION_COOKIE_SECURE"] = True
        # __Host-: the browser keeps it only if Secure, Path=/ and no Domain, so no other host
        # (a sibling subdomain) can set or shadow the session cookie.
        if app.config["SESSION_COOKIE_NAME"] == COOKIE_NAME:
            app.config["SESSION_COOKIE_NAME"] = f"__Host-{COOKIE_NAME}"
        app.config["SESSION_COOKIE_DOMAIN"] = None
        app.config["SESSION_COOKIE_PATH"] = "/"
        if app.config.get("FILE_UMASK") is None:
            app.config["FILE_UMASK"] = 0o077
        errors = [text for level, text in config_findings(app.config) if level == "error"]
        if errors:
            raise ConfigError(
                "生产配置（APP_ENV=production）不安全，拒绝启动：\n" + "\n".join(f"- {text}" for text in errors)
            )


def _convert_types(config):
    for key in INT_KEYS:
        value = config.get(key)
        if isinstance(value, str):
            try:
                config[key] = int(value.strip())
            except ValueError:
                raise ConfigError(f"{key} 应为整数，当前为 {value!r}。") from None
        if isinstance(config.get(key), int) and config[key] < 0:
            raise ConfigError(f"{key} 不能为负数，当前为 {config[key]}。")
    for key in BOOL_KEYS:
        value = config.get(key)
        if isinstance(value, str):
            word = value.strip().lower()
            if word not in TRUE_WORDS | FALSE_WORDS:
                raise ConfigError(f"{key} 应为 1 或 0，当前为 {value!r}。")
            config[key] = word in TRUE_WORDS


def config_findings(config):
    """Every problem of these settings for production, as (level, message) pairs.

    ``level`` is "error" (production refuses to start) or "warning" (it starts, but look again).
    """
    findings = []
    key = config.get("SECRET_KEY") or ""
    key_bytes = len(key.encode() if isinstance(key, str) else key)
    if key_bytes < MIN_SECRET_KEY_BYTES:
        findings.append(
            (
                "error",
                f"SECRET_KEY 只有 {key_bytes} 字节，至少需要 {MIN_SECRET_KEY_BYTES} 字节"
                "（可用 python3 -c 'import secrets; print(secrets.token_hex(32))' 生成）。",
            )
        )
    storage = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if storage.startswith("memory"):
        findings.append(
            (
                "error",
                "RATELIMIT_STORAGE_URI 为 memory://：限流计数只在单个进程内有效，多个 worker 时形同虚设。请使用 Redis，如 redis://127.0.0.1:6379/0。",
            )
        )
    if config.get("SMS_BACKEND") == "outbox" and not config.get("SMS_OUTBOX_IN_PRODUCTION"):
        findings.append(
            (
                "error",
                "SMS_BACKEND 为 outbox：短信只记入发件箱，不会真正发出，用户收不到验证码。"
                "请接入实际短信通道；确需使用发件箱时设置 SMS_OUTBOX_IN_PRODUCTION=1。",
            )
        )
    jobs = str(config.get("JOBS_URL") or "")
    if jobs.startswith("memory"):
        findings.append(
            (
                "error",
                "JOBS_URL 为 memory://：后台任务会在网页请求中直接执行，导出、催报会让请求长时间等待。请使用 Redis，如 redis://127.0.0.1:6379/1。",
            )
        )
    elif jobs.startswith("sqlite"):
        findings.append(
            (
                "warning",
                "JOBS_URL 为 SQLite：后台任务队列仅适合单机使用，多台服务器时请改用 Redis（并运行 flask jobs worker 和 flask jobs scheduler）。",
            )
        )
    if config.get("CAPTCHA_TEST_CODE"):
        findings.append(("error", "CAPTCHA_TEST_CODE 只能用于测试环境，生产配置下禁止设置。"))
    if str(config.get("SQLALCHEMY_DATABASE_URI") or "").startswith("sqlite"):
        findings.append(
            (
                "warning",
                "数据库为 SQLite：仅适合单机小规模使用，多个 worker 高并发写入时请改用 PostgreSQL（DATABASE_URL）。",
            )
        )
    if not config.get("TRUSTED_PROXIES"):
        findings.append(
            (
                "warning",
                "TRUSTED_PROXIES 为 0：如在 nginx 等反向代理之后运行，所有访客会共用代理的地址（限流、登录日志都会失真），请设为代理层数（通常为 1）。",
            )
        )
    if not config.get("HSTS_MAX_AGE"):
        findings.append(("warning", "HSTS_MAX_AGE 为 0：不发送 Strict-Transport-Security，浏览器可能被降级到 HTTP。"))
    findings.extend(upload_group_findings(config))
    if not storage.startswith("memory") and not config.get("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"):
        findings.append(
            ("warning", "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED 已关闭：Redis 不可用时登录、注册等页面会出错。")
        )
    return findings


def upload_group_findings(config):
    """X-Accel-Redirect needs nginx's workers to read the uploads: UPLOAD_GROUP (app/upload_modes.py)."""
    group, accel = config.get("UPLOAD_GROUP"), config.get("X_ACCEL_REDIRECT_PREFIX")
    if accel and not group:
        return [
            (
                "warning",
                "已设置 X_ACCEL_REDIRECT_PREFIX 但未设置 UPLOAD_GROUP：附件只有服务账号可读（0600），"
                "nginx 的 worker（Debian 为 www-data）读不到，下载会得到 403。请设置 UPLOAD_GROUP 为服务账号与 "
                "nginx 共有的组（见 deploy/README.md），或取消 X_ACCEL_REDIRECT_PREFIX（由 gunicorn 发送文件）。",
            )
        ]
    if not group:
        return []
    try:
        gid = group_id(group)
    except UploadGroupError:
        return [("error", f"UPLOAD_GROUP={group}：本机没有这个组，附件无法按组保存。请先创建（见 deploy/README.md）。")]
    if not may_use_group(gid):
        return [
            (
                "error",
                f"UPLOAD_GROUP={group}：当前用户不在该组中，无法把附件交给该组，每次上传都会失败。"
                f"请执行 usermod -aG {group} <服务账号> 后重启服务。",
            )
        ]
    if not accel:
        return [
            (
                "warning",
                f"已设置 UPLOAD_GROUP={group} 但未设置 X_ACCEL_REDIRECT_PREFIX：附件由 gunicorn 发送，"
                "仍只有服务账号可读（0600/0700），UPLOAD_GROUP 不起作用。",
            )
        ]
    return []


def normalise_database_url(uri):
    """postgres:// and postgresql:// URLs use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if uri.startswith(prefix):
            return "postgresql+psycopg://" + uri[len(prefix) :]
    return uri


def instance_secret_key(instance):
    """Read instance/secret_key, creating it with a random key on first run."""
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(mode=0o700, parents=True, exist_ok=True)
        _write_private(path, secrets.token_hex(32))
    return path.read_text().strip()


def _write_private(path, text):
    """Create ``path`` readable by the owner only from the first byte (no chmod afterwards)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(text)


def sqlite_path(app):
    """The file of a SQLite database (relative paths are under instance/, as Flask-SQLAlchemy
    resolves them), or None for another database or an in-memory one."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    path = Path(url.database)
    return path if path.is_absolute() else Path(app.instance_path) / path


def prepare_files(app):
    """Set the process umask (FILE_UMASK) and create the upload folder (0700, or 2750 of
    UPLOAD_GROUP: app/upload_modes.py) and a new SQLite
    database file (0600, in a 0700 folder; SQLite gives its -wal and -shm files the same mode).
    Under production, log every warning of config_findings and storage_findings."""
    if app.config.get("FILE_UMASK") is not None:
        os.umask(app.config["FILE_UMASK"])
    try:
        modes = upload_modes(app.config)
    except UploadGroupError:  # production refused it already; elsewhere check-config says so
        modes = PRIVATE
    make_folder(app.config["UPLOAD_DIR"], modes)
    database = sqlite_path(app)
    if database is not None and not database.exists():
        database.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:  # another worker created it first
            pass
    if app.config["APP_ENV"] == "production":
        # The errors stopped load_config already; what is left is worth a line in the log.
        for _level, text in [*config_findings(app.config), *storage_findings(app)]:
            app.logger.warning("配置警告：%s", text)


def storage_findings(app):
    """Warnings about files others can read (the upload folder and the SQLite database), and an
    upload folder nginx cannot enter under UPLOAD_GROUP."""
    findings = []
    try:
        modes = upload_modes(app.config)
    except UploadGroupError:
        modes = PRIVATE  # config_findings reports it
    upload_dir = Path(app.config["UPLOAD_DIR"])
    places = [("UPLOAD_DIR", upload_dir)]
    database = sqlite_path(app)
    if database is not None:
        places.append(("SQLite 数据库文件", database))
    if modes.shared and upload_dir.is_dir():
        stat = upload_dir.stat()
        if stat.st_gid != modes.gid or stat.st_mode & 0o2750 != 0o2750:
            group = app.config["UPLOAD_GROUP"]
            findings.append(
                (
                    "warning",
                    f"UPLOAD_DIR {upload_dir} 的属组或权限（{stat.st_mode & 0o7777:04o}）不是 UPLOAD_GROUP={group} 的 2750："
                    f"nginx 读不到附件。请执行 chgrp {group} {upload_dir} && chmod 2750 {upload_dir}，"
                    "再运行 flask check-files --fix 修正已有文件。",
                )
            )
    for label, path in places:
        try:
            mode = path.stat().st_mode & 0o777
        except OSError:
            continue
        # the upload folder may be the group's (read and enter) under UPLOAD_GROUP, never others'
        if mode & (0o007 if modes.shared and path == upload_dir else 0o077):
            findings.append(
                ("warning", f"{label} {path} 的权限为 {mode:04o}，其他用户可访问；请执行 chmod go-rwx {path}。")
            )
    return findings
