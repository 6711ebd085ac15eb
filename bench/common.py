"""Helpers of `make bench` (bench/run.py): data, serving under gunicorn, wrk, RSS sampling."""

import hashlib
import http.client
import importlib.metadata
import json
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CACHE = ROOT / "instance" / "bench-cache"
SECRET = "bench-secret-key-not-for-production-" + "0" * 16
CONNECTIONS = 16
DURATION = int(os.environ.get("BENCH_DURATION", "10"))
MB = 1024 * 1024
# what Chromium sends (to 127.0.0.1 too); the app compresses (Flask-Compress: brotli here), the peer does not
ACCEPT_ENCODING = "gzip, deflate, br, zstd"


def log(*args):
    print("[bench]", *args, flush=True)


# ---- setup ------------------------------------------------------------------------------------------


def env_for(database_url, upload_dir, app_env="development"):
    env = {k: v for k, v in os.environ.items() if k not in ("CAPTCHA_TEST_CODE", "FLASK_APP")}
    env.update(
        {
            "DATABASE_URL": database_url,
            "UPLOAD_DIR": str(upload_dir),
            "APP_ENV": app_env,
            "SECRET_KEY": SECRET,
            "RATELIMIT_STORAGE_URI": "memory://",
            "PYTHONUNBUFFERED": "1",
            "DOWNLOAD_CACHE_DIR": str(Path(upload_dir).parent / f"{Path(upload_dir).name}-downloads"),
            "JOBS_URL": f"sqlite:///{Path(upload_dir).parent / (Path(upload_dir).name + '-jobs.db')}",
            "JOBS_DIR": str(Path(upload_dir).parent / f"{Path(upload_dir).name}-jobs"),
            "GUNICORN_ACCESSLOG": "",
        }
    )
    if app_env == "production":  # what production insists on: shared rate limits, an SMS decision
        env["RATELIMIT_STORAGE_URI"] = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10")
        env["SMS_OUTBOX_IN_PRODUCTION"] = "1"
    return env


def flask(args, env):
    started = time.perf_counter()
    result = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode:
        sys.exit(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout, time.perf_counter() - started


def cache_key(institutions, months):
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    head = ScriptDirectory.from_config(config).get_current_head()
    source = hashlib.sha256((ROOT / "app" / "scale.py").read_bytes()).hexdigest()[:12]
    return f"{head}-{source}-{institutions}x{months}"


def seeded_sqlite(workdir, name, institutions, months):
    """A fresh seeded SQLite database in ``workdir`` (copied from the cache when possible)."""
    db_path, uploads = workdir / f"{name}.db", workdir / f"{name}-uploads"
    key = cache_key(institutions, months)
    cached_db, cached_up = CACHE / f"{key}.db", CACHE / f"{key}-uploads"
    if cached_db.exists() and cached_up.exists():
        shutil.copyfile(cached_db, db_path)
        shutil.copytree(cached_up, uploads)
        log(f"{name}: reused the cached seeded database {cached_db.name}")
        return db_path, uploads, None
    env = env_for(f"sqlite:///{db_path}", uploads)
    flask(["db", "upgrade"], env)
    out, seconds = flask(["seed-scale", "--institutions", str(institutions), "--months", str(months)], env)
    log(f"{name}: seeded in {seconds:.0f} s\n" + out.strip())
    with sqlite3.connect(db_path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    CACHE.mkdir(parents=True, exist_ok=True)
    for old in CACHE.glob(f"*-{institutions}x{months}*"):
        shutil.rmtree(old) if old.is_dir() else old.unlink()
    shutil.copyfile(db_path, cached_db)
    shutil.copytree(uploads, cached_up)
    return db_path, uploads, seconds


def make_app(database_url, upload_dir):
    """An in-process app on that database (same secret key as the served one). Like a gunicorn
    worker it runs no job consumer of its own: in development the app would start one at the first
    request, and its threads (the 调度期 freeze, 催报 schedules) ran beside the measured requests."""
    for key, value in {**env_for(database_url, upload_dir), "JOBS_EMBEDDED_WORKER": "0"}.items():
        os.environ[key] = value
    sys.path.insert(0, str(ROOT))
    from app import create_app

    return create_app()


# ---- serving ----------------------------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """``target`` served as `make run` serves the app: deploy/gunicorn.conf.py (sync workers,
    keep-alive 5 s, max_requests 2000 ± 10 %), ``workers`` of them, from the ``cwd`` folder."""

    def __init__(self, target, env, cwd, workers=2):
        self.port = free_port()
        self.count = workers
        self.log = open(Path(tempfile.gettempdir()) / f"bench-gunicorn-{self.port}.log", "w")
        env = {**env, "GUNICORN_BIND": f"127.0.0.1:{self.port}", "GUNICORN_WORKERS": str(workers)}
        self.proc = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"), "--chdir", str(cwd), target],
            cwd=cwd,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                if self.proc.poll() is not None:
                    sys.exit(f"gunicorn {target} exited; see {self.log.name}")
                time.sleep(0.2)
        while len(self.workers()) < workers and time.time() < deadline:
            time.sleep(0.1)

    def url(self, path="/"):
        return f"http://127.0.0.1:{self.port}{path}"

    def workers(self):
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    status = (entry / "status").read_text()
                except OSError:
                    continue
                if re.search(rf"^PPid:\s+{self.proc.pid}$", status, re.M):
                    pids.append(int(entry.name))
        return pids

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def rss(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class RssSampler(threading.Thread):
    """Samples the workers' RSS every 5 ms; .peak_delta is the largest rise of one worker."""

    def __init__(self, pids):
        super().__init__(daemon=True)
        self.pids = pids
        self.base = {pid: rss(pid) for pid in pids}
        self.peak = dict(self.base)
        self.running = True

    def run(self):
        while self.running:
            for pid in self.pids:
                self.peak[pid] = max(self.peak[pid], rss(pid))
            time.sleep(0.005)

    def stop(self):
        self.running = False
        self.join()
        pid = max(self.pids, key=lambda p: self.peak[p] - self.base[p])
        return self.peak[pid] - self.base[pid], self.base[pid], self.peak[pid]


def wrk(url, cookie=None, headers=None, duration=DURATION):
    command = [
        "wrk",
        "-t2",
        f"-c{CONNECTIONS}",
        f"-d{duration}s",
        "--timeout",
        "30s",
        "-s",
        str(ROOT / "bench" / "stats.lua"),
        "-H",
        f"Accept-Encoding: {ACCEPT_ENCODING}",
    ]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run(command + [url], capture_output=True, text=True).stdout
    match = re.search(r"BENCHJSON (\{.*\})", out)
    if not match:
        sys.exit(f"wrk gave no result for {url}:\n{out}")
    data = json.loads(match.group(1))
    data["rps"] = data["requests"] / (data["duration_us"] / 1e6)
    data["errors"] = sum(data[k] for k in ("connect", "read", "write", "status", "timeout"))
    return data


def settle(server, limit=120):
    """Wait until the workers have worked off what wrk left queued (a quick static file answers fast)."""
    deadline = time.time() + limit
    while time.time() < deadline:
        started = time.perf_counter()
        try:
            get(server.port, "/static/app.css")
        except OSError:
            pass
        if time.perf_counter() - started < 0.05:
            return
        time.sleep(0.2)


def cookie_header(app_cookie_name, value):
    return f"{app_cookie_name}={value}" if value else None


def get(port, path, cookie=None, headers=None, method="GET", body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request(method, path, body=body, headers={**({"Cookie": cookie} if cookie else {}), **(headers or {})})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response, body


def machine():
    cpu = "unknown CPU"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return f"{cpu}, {os.cpu_count()} CPUs, {mem:.0f} GB RAM, {platform.platform()}, Python {platform.python_version()}"


def versions(pg_url=None):
    """gunicorn, SQLite, PostgreSQL server, Locust and Chromium versions, as text."""
    out = {"gunicorn": subprocess.run([str(BIN / "gunicorn"), "--version"], capture_output=True, text=True).stdout}
    out["gunicorn"] = out["gunicorn"].strip().replace("gunicorn (version ", "").rstrip(")")
    out["SQLite"] = sqlite3.sqlite_version
    try:  # not imported: Locust patches the standard library for gevent on import
        out["Locust"] = importlib.metadata.version("locust")
    except importlib.metadata.PackageNotFoundError:
        out["Locust"] = "missing"
    if pg_url:
        try:
            version = subprocess.run(
                ["psql", pg_url.replace("postgresql+psycopg://", "postgresql://"), "-tAc", "SHOW server_version"],
                capture_output=True,
                text=True,
                timeout=20,
            ).stdout.strip()
            out["PostgreSQL"] = version or "?"
        except (OSError, subprocess.SubprocessError):
            out["PostgreSQL"] = "?"
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    out["wrk"] = (wrk_version.stdout + wrk_version.stderr).split()[1] if shutil.which("wrk") else "missing"
    return out


def load_average():
    return os.getloadavg()


def session_payload(value):
    """The Flask session cookie's content (signed, not encrypted)."""
    import base64
    import zlib

    compressed = value.startswith(".")
    payload = value.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    return json.loads(zlib.decompress(raw) if compressed else raw)
