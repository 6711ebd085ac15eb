"""Configuration: instance secret key, environment overrides, production guards."""

import os

import pytest

from app import create_app
from tests.limited import keep_limiter


def test_a_secret_key_is_generated_into_instance_once(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    from app.config import instance_secret_key

    first = instance_secret_key(tmp_path)
    assert len(first) == 64 and (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert instance_secret_key(tmp_path) == first


def test_environment_overrides_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db.example/smehn")
    monkeypatch.setenv("UPLOAD_DIR", str(tmp_path / "files"))
    monkeypatch.setenv("SMS_BACKEND", "outbox")
    monkeypatch.setenv("SECRET_KEY", "from-env")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db.example/smehn"
    assert app.config["UPLOAD_DIR"] == str(tmp_path / "files")
    assert app.config["SECRET_KEY"] == "from-env"


def test_captcha_test_code_is_refused_with_production_settings(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv("CAPTCHA_TEST_CODE", "TEST")
    with pytest.raises(RuntimeError, match="CAPTCHA_TEST_CODE"):
        create_app()


def test_production_settings_make_cookies_secure(monkeypatch, request):
    monkeypatch.setenv("APP_ENV", "production")
    # what production now demands besides (tests/test_production_config.py has the refusals)
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/15")
    monkeypatch.setenv("SMS_OUTBOX_IN_PRODUCTION", "1")
    monkeypatch.delenv("CAPTCHA_TEST_CODE", raising=False)
    keep_limiter(request)
    umask = os.umask(0o022)
    request.addfinalizer(lambda: os.umask(umask))  # a production app sets the process umask (FILE_UMASK)
    os.umask(umask)
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
