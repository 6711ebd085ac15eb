"""/healthz: is the database, the rate-limit store (Redis), the page cache store and the upload
folder usable? JSON for a load balancer or a monitor; 200 when all are, 503 otherwise."""

import json
import logging
import tempfile
from pathlib import Path

import sqlalchemy as sa
from flask import Blueprint, current_app

from app.access import public
from app.extensions import cache, db, limiter

bp = Blueprint("health", __name__)
log = logging.getLogger("app.health")


def _database():
    try:
        db.session.execute(sa.text("SELECT 1"))
        db.session.rollback()
    except Exception:
        log.exception("health check: the database cannot be reached")
        db.session.rollback()
        return False, "数据库无法访问"
    return True, "正常"


def _limits():
    config = current_app.config
    if not limiter.enabled:
        return True, "限流未启用"
    uri = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if uri.startswith("memory"):
        return True, "进程内存计数（仅适合单进程）"
    try:
        alive = limiter.storage.check()
    except Exception:
        alive = False
    if not alive:
        log.warning(
            "health check: the rate-limit store %s cannot be reached; limits count in process memory",
            uri.split("@")[-1],
        )
        return False, "限流存储（Redis）无法连接，限流已临时改为各进程内存计数"
    return True, "正常"


def _page_cache():
    if current_app.config.get("CACHE_TYPE") != "RedisCache":
        return None
    try:
        cache.cache._read_client.ping()  # Flask-Caching has no public health call
    except Exception:
        log.warning("health check: the page cache store (Redis) cannot be reached")
        return False, "页面缓存存储（Redis）无法连接"
    return True, "正常"


def _uploads():
    folder = Path(current_app.config["UPLOAD_DIR"])
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # as the first upload would
        with tempfile.TemporaryFile(dir=folder) as probe:
            probe.write(b"ok")
    except OSError:
        log.exception("health check: the upload folder %s is not writable", folder)
        return False, "附件存放目录不可写"
    return True, "正常"


@bp.route("/healthz")
@public
@limiter.exempt
def healthz():
    """Health of the services the site needs; 503 when one of them fails."""
    checks = {"database": _database(), "limits": _limits(), "cache": _page_cache(), "uploads": _uploads()}
    report = {}
    for name, result in checks.items():
        if result is not None:  # None: not configured (the page cache without Redis)
            report[name] = {"ok": result[0], "detail": result[1]}
    healthy = all(item["ok"] for item in report.values())
    body = json.dumps(
        {"status": "ok" if healthy else "error", "checks": report}, ensure_ascii=False
    )  # readable Chinese
    response = current_app.response_class(body, status=200 if healthy else 503, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response
