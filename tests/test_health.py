"""/healthz, and the site when the rate-limit store (Redis) is down: limits fall back to the
process's memory, pages keep working, the failure is logged and /healthz shows it."""

import logging
import shutil

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


def fake_free_space(monkeypatch, free_mb):
    usage = shutil.disk_usage("/")
    monkeypatch.setattr(
        "app.health.shutil.disk_usage", lambda _path: usage._replace(free=free_mb * 1024 * 1024), raising=True
    )


def test_little_free_space_for_uploads_fails_the_check(app, client, monkeypatch, caplog):
    fake_free_space(monkeypatch, 700)
    monkeypatch.setitem(app.config, "HEALTH_MIN_FREE_MB", 1024)
    caplog.set_level(logging.WARNING)
    status, body = health(client)
    assert status == 503 and body["status"] == "error"
    assert body["checks"]["uploads"] == {
        "ok": False,
        "detail": "附件存放目录剩余空间 700 MB，低于下限 1024 MB，上传将失败，请立即清理或扩容",
        "free_mb": 700,
    }
    assert any("700 MB free for uploads" in record.getMessage() for record in caplog.records)


def test_free_space_below_the_warning_level_passes_with_a_warning(app, client, monkeypatch, caplog):
    fake_free_space(monkeypatch, 3000)
    monkeypatch.setitem(app.config, "HEALTH_MIN_FREE_MB", 1024)
    monkeypatch.setitem(app.config, "HEALTH_WARN_FREE_MB", 5120)
    caplog.set_level(logging.WARNING)
    status, body = health(client)
    assert status == 200 and body["checks"]["uploads"]["ok"] is True
    assert body["checks"]["uploads"]["detail"] == "附件存放目录剩余空间 3000 MB，低于 5120 MB，请及时清理或扩容"
    assert [r.levelname for r in caplog.records if "free for uploads" in r.getMessage()] == ["WARNING"]


def test_enough_free_space_is_reported_in_mb(client, monkeypatch):
    fake_free_space(monkeypatch, 80_000)
    status, body = health(client)
    assert status == 200 and body["checks"]["uploads"] == {"ok": True, "detail": "正常", "free_mb": 80_000}


def test_the_thresholds_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("HEALTH_MIN_FREE_MB", "2048")
    monkeypatch.setenv("HEALTH_WARN_FREE_MB", "10240")
    from app import create_app

    built = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'h.db'}"}
    )
    assert (built.config["HEALTH_MIN_FREE_MB"], built.config["HEALTH_WARN_FREE_MB"]) == (2048, 10240)


def test_a_job_queue_redis_that_cannot_be_reached_is_reported(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_URL", CLOSED_PORT_REDIS)
    status, body = health(client)
    assert status == 503
    assert body["checks"]["jobs"] == {"ok": False, "detail": "后台任务队列（Redis）无法连接，导出、短信等任务暂停"}


def test_a_reachable_job_queue_redis_is_healthy_and_sqlite_needs_no_check(app, client, monkeypatch):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_connect_timeout=0.5).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    monkeypatch.setitem(app.config, "JOBS_URL", "redis://127.0.0.1:6379/7")
    assert health(client)[1]["checks"]["jobs"] == {"ok": True, "detail": "正常"}
    monkeypatch.setitem(app.config, "JOBS_URL", "sqlite:////tmp/jobs.db")
    assert "jobs" not in health(client)[1]["checks"]
