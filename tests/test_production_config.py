"""Production guards (APP_ENV=production): what refuses to start, what only warns, `flask
check-config`, the __Host- session cookie, HSTS, and files created readable by the owner only."""

import os
import stat

import pytest

from app import create_app
from app.config import ConfigError
from app.extensions import db
from tests.limited import keep_limiter

GOOD_KEY = "k" * 64
REDIS = "redis://127.0.0.1:6379/15"


@pytest.fixture(autouse=True)
def _keep_umask():
    """A production app sets the process umask (FILE_UMASK); give the rest of the suite its own back."""
    before = os.umask(0o022)
    os.umask(before)
    yield
    os.umask(before)


@pytest.fixture(autouse=True)
def _keep_limiter(request):
    keep_limiter(request)


@pytest.fixture
def production(monkeypatch, tmp_path):
    """Environment of a production start that passes every check; a test breaks one thing."""
    for key in ("CAPTCHA_TEST_CODE", "TRUSTED_PROXIES", "HSTS_MAX_AGE", "SMS_BACKEND"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", GOOD_KEY)
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", REDIS)
    monkeypatch.setenv("SMS_OUTBOX_IN_PRODUCTION", "1")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.db'}")
    monkeypatch.setenv("UPLOAD_DIR", str(tmp_path / "uploads"))
    return monkeypatch


def test_a_complete_production_config_starts_and_warns_about_sqlite(production, caplog):
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-smehn_session"
    warnings = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    assert any(text.startswith("配置警告：数据库为 SQLite") for text in warnings), warnings


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("SECRET_KEY", "x" * 31, "SECRET_KEY 只有 31 字节，至少需要 32 字节"),
        ("RATELIMIT_STORAGE_URI", "memory://", "RATELIMIT_STORAGE_URI 为 memory://"),
        ("SMS_OUTBOX_IN_PRODUCTION", "0", "SMS_BACKEND 为 outbox"),
        ("CAPTCHA_TEST_CODE", "TEST", "CAPTCHA_TEST_CODE 只能用于测试环境"),
        ("JOBS_URL", "memory://", "JOBS_URL 为 memory://"),
    ],
)
def test_unsafe_settings_refuse_to_start(production, key, value, message):
    production.setenv(key, value)
    with pytest.raises(ConfigError, match=message):
        create_app()


def test_the_refusal_lists_every_problem_at_once(production):
    production.setenv("SECRET_KEY", "short")
    production.setenv("RATELIMIT_STORAGE_URI", "memory://")
    production.delenv("SMS_OUTBOX_IN_PRODUCTION")
    with pytest.raises(ConfigError) as refused:
        create_app()
    lines = str(refused.value).splitlines()
    assert lines[0] == "生产配置（APP_ENV=production）不安全，拒绝启动："
    assert [line.split(" ", 2)[1] for line in lines[1:]] == ["SECRET_KEY", "RATELIMIT_STORAGE_URI", "SMS_BACKEND"]


def test_a_real_sms_backend_needs_no_permission(production):
    production.delenv("SMS_OUTBOX_IN_PRODUCTION")
    production.setenv("SMS_BACKEND", "tests.test_production_config:NoSms")
    assert create_app().config["SMS_BACKEND"] == "tests.test_production_config:NoSms"


class NoSms:
    def send(self, phone, text):
        pass


def test_a_bad_number_is_refused_with_a_clear_message(monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXIES", "nginx")
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES 应为整数"):
        create_app()


def test_check_config_prints_every_finding(production):
    app = create_app()
    result = app.test_cli_runner().invoke(args=["check-config"])
    assert result.exit_code == 0, result.output
    assert "APP_ENV=production" in result.output
    assert "警告：数据库为 SQLite" in result.output
    assert "警告：TRUSTED_PROXIES 为 0" in result.output
    assert "错误" not in result.output


def test_check_config_in_development_names_what_production_would_refuse(app):
    result = app.test_cli_runner().invoke(args=["check-config"])
    assert result.exit_code == 0, result.output
    assert "APP_ENV=development" in result.output
    assert "生产环境下拒绝启动：RATELIMIT_STORAGE_URI 为 memory://" in result.output
    assert "生产环境下拒绝启动：SECRET_KEY" in result.output  # the suite's key is short
    assert "生产环境下拒绝启动：CAPTCHA_TEST_CODE" in result.output


def test_production_headers_and_cookie(production):
    production.setenv("HSTS_MAX_AGE", "600")
    app = create_app()
    with app.app_context():
        db.create_all()
    response = app.test_client().get("/auth/captcha/login.png")  # puts the captcha token in the session
    assert response.headers["Strict-Transport-Security"] == "max-age=600"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-smehn_session=")
    assert "Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie and "HttpOnly" in cookie


def test_no_hsts_outside_production(client):
    assert "Strict-Transport-Security" not in client.get("/auth/login").headers


def test_new_files_are_the_owners_only(production, tmp_path):
    app = create_app()
    assert stat.S_IMODE((tmp_path / "uploads").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "prod.db").stat().st_mode) == 0o600
    # the process umask covers what is written later (uploads, exports, SQLite's -wal file)
    assert app.config["FILE_UMASK"] == 0o077
    later = tmp_path / "later.txt"
    later.write_text("x")
    assert stat.S_IMODE(later.stat().st_mode) == 0o600


def test_development_creates_them_owner_only_too(monkeypatch, tmp_path):
    for key in ("APP_ENV", "DATABASE_URL", "UPLOAD_DIR"):
        monkeypatch.delenv(key, raising=False)
    create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db' / 'dev.db'}", "UPLOAD_DIR": str(tmp_path / "up")}
    )
    assert stat.S_IMODE((tmp_path / "up").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "db").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "db" / "dev.db").stat().st_mode) == 0o600
