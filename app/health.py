"""/healthz: is the database, the rate-limit store (Redis), the page cache store, the job queue's
Redis and the upload folder (writable, with room left) usable? JSON for a load balancer or a
monitor; 200 when all are, 503 otherwise."""

import json
import logging
import shutil
import tempfile
from pathlib import Path

import redis
import sqlalchemy as sa
from flask import Blueprint, current_app

from app.access import public
from app.extensions import cache, db, limiter
from app.upload_modes import make_folder

bp = Blueprint("health", __name__)
log = logging.getLogger("app.health")
MB = 1024 * 1024
REDIS_TIMEOUT = 0.5  # seconds: a Redis that does not answer must not hold the health check


def _result(ok, detail, **extra):
    return {"ok": ok, "detail": detail, **extra}


def _database():
    try:
        db.session.execute(sa.text("SELECT 1"))
        db.session.rollback()
    except Exception:
        log.exception("health check: the database cannot be reached")
        db.session.rollback()
        return _result(False, "数据库无法访问")
    return _result(True, "正常")


def _limits():
    config = current_app.config
    if not limiter.enabled:
        return _result(True, "限流未启用")
    uri = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if uri.startswith("memory"):
        return _result(True, "进程内存计数（仅适合单进程）")
    try:
        alive = limiter.storage.check()
    except Exception:
        alive = False
    if not alive:
        log.warning(
            "health check: the rate-limit store %s cannot be reached; limits count in process memory",
            uri.split("@")[-1],
        )
        return _result(False, "限流存储（Redis）无法连接，限流已临时改为各进程内存计数")
    return _result(True, "正常")


def _page_cache():
    if current_app.config.get("CACHE_TYPE") != "RedisCache":
        return None
    try:
        cache.cache._read_client.ping()  # Flask-Caching has no public health call
    except Exception:
        log.warning("health check: the page cache store (Redis) cannot be reached")
        return _result(False, "页面缓存存储（Redis）无法连接")
    return _result(True, "正常")


def _jobs():
    """The job queue's Redis (JOBS_URL=redis://...); the embedded SQLite queue needs no check."""
    url = str(current_app.config.get("JOBS_URL") or "")
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    client = redis.Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT)
    try:
        client.ping()
    except redis.RedisError:
        log.warning("health check: the job queue's Redis %s cannot be reached", url.split("@")[-1])
        return _result(False, "后台任务队列（Redis）无法连接，导出、短信等任务暂停")
    finally:
        client.close()
    return _result(True, "正常")


def _uploads():
    """Writable, and with room left: below HEALTH_MIN_FREE_MB free the check fails, below
    HEALTH_WARN_FREE_MB it passes with a warning (and a log line)."""
    config = current_app.config
    folder = Path(config["UPLOAD_DIR"])
    try:
        make_folder(folder)  # as the first upload would (app/upload_modes.py)
        with tempfile.TemporaryFile(dir=folder) as probe:
            probe.write(b"ok")
        free_mb = shutil.disk_usage(folder).free // MB
    except OSError:
        log.exception("health check: the upload folder %s is not writable", folder)
        return _result(False, "附件存放目录不可写")
    minimum, warning = config["HEALTH_MIN_FREE_MB"], config["HEALTH_WARN_FREE_MB"]
    if free_mb < minimum:
        log.error("health check: %s MB free for uploads in %s, below HEALTH_MIN_FREE_MB=%s", free_mb, folder, minimum)
        return _result(
            False,
            f"附件存放目录剩余空间 {free_mb} MB，低于下限 {minimum} MB，上传将失败，请立即清理或扩容",
            free_mb=free_mb,
        )
    if free_mb < warning:
        log.warning(
            "health check: %s MB free for uploads in %s, below HEALTH_WARN_FREE_MB=%s", free_mb, folder, warning
        )
        return _result(True, f"附件存放目录剩余空间 {free_mb} MB，低于 {warning} MB，请及时清理或扩容", free_mb=free_mb)
    return _result(True, "正常", free_mb=free_mb)


@bp.route("/healthz")
@public
@limiter.exempt
def healthz():
    """Health of the services the site needs; 503 when one of them fails."""
    checks = {
        "database": _database(),
        "limits": _limits(),
        "cache": _page_cache(),
        "jobs": _jobs(),
        "uploads": _uploads(),
    }
    report = {name: result for name, result in checks.items() if result is not None}  # None: not configured
    healthy = all(item["ok"] for item in report.values())
    body = json.dumps(
        {"status": "ok" if healthy else "error", "checks": report}, ensure_ascii=False
    )  # readable Chinese
    response = current_app.response_class(body, status=200 if healthy else 503, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response
