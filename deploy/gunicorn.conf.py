"""gunicorn settings, for production (behind deploy/nginx/hnsme.conf) and for `make run`.

    gunicorn -c deploy/gunicorn.conf.py

Each value can be changed from the environment (systemd reads /etc/hnsme/env): GUNICORN_BIND,
GUNICORN_WORKERS (or WEB_CONCURRENCY), GUNICORN_THREADS, GUNICORN_TIMEOUT,
GUNICORN_GRACEFUL_TIMEOUT, GUNICORN_MAX_REQUESTS, FORWARDED_ALLOW_IPS, GUNICORN_ACCESSLOG.
"""

import gc
import multiprocessing
import os
import queue
import signal
from pathlib import Path


def _int(name, default):
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# The checkout (the folder holding wsgi.py), wherever gunicorn is started from.
chdir = str(Path(__file__).resolve().parent.parent)
wsgi_app = "wsgi:app"

# Loopback only: nginx is the one way in (TLS, request buffering, static files, X-Accel-Redirect).
bind = [os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")]

# Sync workers: uploads reach gunicorn only once nginx has buffered the whole body, and exports
# run as jobs, so no request holds a worker for long. Several processes share nothing in memory:
# sessions, captchas and the cache topics' tokens are in the database, limits and the page cache in Redis.
workers = _int("GUNICORN_WORKERS", _int("WEB_CONCURRENCY", min(multiprocessing.cpu_count() * 2 + 1, 8)))
threads = _int("GUNICORN_THREADS", 1)
# A worker silent this long is killed and replaced (seconds); nginx's proxy_read_timeout is longer.
timeout = _int("GUNICORN_TIMEOUT", 60)
# On SIGTERM (systemctl stop/restart) a worker finishes the request in hand within this time.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = 5
# Replace a worker after this many requests (and a random few more, so they do not all restart at once).
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = max_requests // 10

# X-Forwarded-Proto (the scheme) is believed only from the local nginx. The app itself believes
# X-Forwarded-For / -Proto through ProxyFix, as far as TRUSTED_PROXIES says (1 for one nginx).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# The app is imported once, in the master, and each worker is a fork of it: a worker replaced after
# max_requests starts at once instead of importing the app again (about 2-3 s of CPU on a small
# server, during which its share of requests waits), and the workers share the loaded code's memory.
# post_fork gives each worker database pools of its own, so no connection crosses the fork.
# GUNICORN_PRELOAD=0 imports the app in each worker instead.
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") != "0"
reload = False

# Logs go to stderr (the journal under systemd). An access line carries the client's real address
# (X-Real-IP, set by nginx to the address it saw; "-" without nginx), the address gunicorn saw,
# the request id (the X-Request-ID the app answered with, the same as in the app's log lines and
# nginx's $request_id) and the time taken in milliseconds.
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
access_log_format = '%({x-real-ip}i)s %(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s "%(f)s" "%(a)s"'
proc_name = "hnsme-web"
# gunicorn 25+ opens a control socket in $HOME; the service account has no use for it (systemctl
# reload sends HUP), and ProtectHome= hides $HOME anyway.
control_socket_disable = True

# Worker heartbeats on a RAM-backed folder when there is one (a slow disk can make idle workers
# look dead).
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"


def _our_app(server):
    """With preload, the app the command line names as gunicorn loaded it, when it is this project's
    (the benchmark's peer and hello run under this config too); else None."""
    if not server.cfg.preload_app:
        return None
    from flask import Flask

    app = server.app.wsgi()
    return app if isinstance(app, Flask) and app.import_name == "app" else None


def when_ready(server):
    """With preload, compile the app's templates in the master before the first fork
    (app/web.py ``compile_templates``): every worker, and every replacement after max_requests,
    then starts with them compiled, and pre_fork's freeze keeps them out of its collections."""
    app = _our_app(server)
    if app is not None:
        from app.web import compile_templates

        compile_templates(app)


def pre_fork(server, worker):
    """With preload, move what the master has loaded (the app, its modules, templates and mappers:
    about 200,000 objects) out of the garbage collector's view before each fork, as Python's gc
    documentation advises for pre-forking servers: a worker's full collections then walk only its
    own objects (on the benchmark machine a full collection over the loaded app took 30-150 ms, and
    struck every twenty or so requests), and its pages of the master's memory stay shared."""
    if server.cfg.preload_app:
        gc.freeze()


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)


def _stop_if_told_while_booting(server, worker):
    """Until gunicorn installs a worker's own signal handlers (``init_signals``, after post_fork),
    the worker runs the master's handler it was forked with, which only puts the signal on the
    worker's copy of the master's queue, where nothing reads it: a worker told to stop while it
    boots would serve on until the master's graceful_timeout ran out and killed it (a stop that
    came as max_requests replaced a worker waited 30 s). From here a stop signal marks the worker
    not alive, and so does one already queued since the fork: it exits as soon as it has booted."""

    def stop(signum, frame):
        worker.alive = False

    for signum in STOP_SIGNALS:
        signal.signal(signum, stop)
    pending = server.SIG_QUEUE  # a SimpleQueue in recent gunicorn, a list in older ones
    while True:
        try:
            signum = pending.get_nowait() if hasattr(pending, "get_nowait") else pending.pop(0)
        except (queue.Empty, IndexError):
            break
        if signum in STOP_SIGNALS:
            worker.alive = False


def post_fork(server, worker):
    """A worker told to stop while it boots stops (``_stop_if_told_while_booting``). With preload
    the app (its database engine and job queue) was created in the master: give each worker pools
    of its own, never a connection inherited across the fork. (Redis clients notice the new
    process id and reconnect by themselves.)"""
    _stop_if_told_while_booting(server, worker)
    app = _our_app(server)
    if app is None:
        return
    from app.extensions import db
    from app.jobs import forget_connections

    with app.app_context():
        db.engine.dispose(close=False)  # the master's connections stay the master's
        forget_connections(app)
