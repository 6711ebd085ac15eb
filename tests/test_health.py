"""/healthz, and the site when the rate-limit store (Redis) is down: limits fall back to the
process's memory, pages keep working, the failure is logged and /healthz shows it."""

import logging

import pytest

from tests.factories import PASSWORD, make_institution
from tests.limited import limited_app

CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def health(client):
    response = client.get("/healthz")
    assert response.mimetype == "application/json" and response.headers["Cache-Control"] == "no-store"
    return response.status_code, response.get_json()


def test_healthy(client):
    status, body = health(client)
    assert status == 200 and body["status"] == "ok"
    assert "正常" in client.get("/healthz").get_data(as_text=True)  # plain UTF-8, not \u escapes
    assert {name: item["ok"] for name, item in body["checks"].items()} == {
        "database": True,
        "limits": True,
        "uploads": True,
    }


def test_an_unwritable_upload_folder_is_reported(app, client, monkeypatch, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(blocker / "uploads"))
    status, body = health(client)
    assert status == 503 and body["status"] == "error"
    assert body["checks"]["uploads"] == {"ok": False, "detail": "附件存放目录不可写"}
    assert body["checks"]["database"]["ok"] is True


def test_a_database_that_cannot_be_reached_is_reported(app, request):
    broken = limited_app(app, request, SQLALCHEMY_DATABASE_URI="postgresql://postgres@127.0.0.1:1/nowhere")
    status, body = health(broken.test_client())
    assert status == 503 and body["checks"]["database"] == {"ok": False, "detail": "数据库无法访问"}


def test_with_redis_down_login_and_forms_still_work_and_healthz_says_so(app, request, caplog):
    limited = limited_app(app, request, RATELIMIT_STORAGE_URI=CLOSED_PORT_REDIS)
    with limited.app_context():
        username = make_institution().username
    client = limited.test_client()
    caplog.set_level(logging.WARNING)
    response = client.post("/auth/login", data={"username": username, "password": PASSWORD, "captcha": "TEST"})
    assert response.status_code == 303
    assert any("falling back to in-memory" in record.getMessage() for record in caplog.records)
    # the other limited forms answer too (validation errors here, not 500)
    assert limited.test_client().post("/auth/register/enterprise", data={"username": "x"}).status_code == 200
    assert limited.test_client().post("/complaints/", data={"company_name": "x"}).status_code == 200
    status, body = health(client)
    assert status == 503 and body["checks"]["limits"]["ok"] is False
    assert "Redis" in body["checks"]["limits"]["detail"]
    assert body["checks"]["database"]["ok"] is True


def test_the_fallback_still_limits(app, request):
    limited = limited_app(app, request, RATELIMIT_STORAGE_URI=CLOSED_PORT_REDIS)
    client = limited.test_client()
    data = {"username": "nobody@example.com", "password": "Wrong2026pass", "captcha": "TEST"}
    statuses = [
        client.post("/auth/login", data={**data, "username": f"n{n}@example.com"}).status_code for n in range(21)
    ]
    assert statuses[:20] == [200] * 20 and statuses[20] == 429


def test_a_reachable_redis_is_healthy(app, request):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_connect_timeout=0.5).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    limited = limited_app(
        app,
        request,
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/15",
        CACHE_TYPE="RedisCache",
        CACHE_REDIS_URL="redis://127.0.0.1:6379/15",
    )
    status, body = health(limited.test_client())
    assert status == 200 and body["checks"]["limits"] == {"ok": True, "detail": "正常"}
    assert body["checks"]["cache"] == {"ok": True, "detail": "正常"}


def test_a_page_cache_redis_that_cannot_be_reached_is_reported(app, request):
    """The page cache itself falls back to rendering (Flask-Caching logs and renders); /healthz tells."""
    cached = limited_app(
        app, request, RATELIMIT_ENABLED=False, CACHE_TYPE="RedisCache", CACHE_REDIS_URL=CLOSED_PORT_REDIS
    )
    status, body = health(cached.test_client())
    assert status == 503 and body["checks"]["cache"] == {"ok": False, "detail": "页面缓存存储（Redis）无法连接"}
    assert cached.test_client().get("/").status_code == 200
