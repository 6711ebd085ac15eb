"""`make bench`: province-scale data, page speed against bare Flask, page weight, upload and export memory.

Steps (DESIGN.md "Performance budgets", issue 8):
1. A fresh SQLite database in a temp dir: `flask db upgrade` + `flask seed-scale` (2,000 institutions,
   36 months), or a copy of the cached seeded file in instance/bench-cache/ (keyed by the migration
   head, the generator's source and the size). With BENCH_DATABASE_URL (an EMPTY PostgreSQL database)
   the load test is repeated on PostgreSQL.
2. Query counts per page, in-process with a SQLAlchemy event listener, on the big database and on a
   tiny one (14 institutions, 2 months): the count must not grow with the rows shown; and the
   in-process time of a render with the page cache emptied (what a request costs after a write).
3. The app under gunicorn (2 sync workers, APP_ENV=production with a throw-away SECRET_KEY). Logins
   are server-side session rows written here plus a cookie signed with that key (the captcha is not
   weakened; CAPTCHA_TEST_CODE is refused in production anyway).
4. wrk over loopback, 16 connections, for each page and for a bare Flask "hello" app served the
   same way: requests/s, ratio to hello, p50, p95. Nothing is written meanwhile, so after its first
   render in each worker a page is answered by the page cache (app/cache.py), as it would be
   between two writes in production.
5. Page weight in headless Chromium (HTML + CSS + JS as gzip would send them: production serves
   through nginx with `gzip on`; sizes are gzip level 1 = nginx's default gzip_comp_level), and the
   htmx step swap.
6. Upload of a 50 MB attachment: the worker's RSS sampled from /proc during the upload, and the time.
7. The full-year Excel export: time and the worker's peak RSS.
Writes docs/benchmarks.md; exits 1 when a budget is missed.

wrk is Debian's package: `apt-get install wrk`. Chromium: /usr/bin/chromium (`apt-get install chromium`).
Environment: BENCH_DURATION (seconds per page, default 10), BENCH_INSTITUTIONS, BENCH_MONTHS,
BENCH_DATABASE_URL, BENCH_KEEP (keep the temp dir).
"""

import gzip
import hashlib
import http.client
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
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CACHE = ROOT / "instance" / "bench-cache"
DOC = ROOT / "docs" / "benchmarks.md"
SECRET = "bench-secret-key-not-for-production-" + "0" * 16
CONNECTIONS = 16
WORKERS = 2
DURATION = int(os.environ.get("BENCH_DURATION", "10"))
INSTITUTIONS = int(os.environ.get("BENCH_INSTITUTIONS", "2000"))
MONTHS = int(os.environ.get("BENCH_MONTHS", "36"))
MB = 1024 * 1024
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

BUDGET_FIRST_LOAD = 60 * 1024
BUDGET_SWAP = 15 * 1024
BUDGET_P95_MS = 50
BUDGET_UPLOAD = 16 * MB
BUDGET_RATIO = 0.15
BUDGET_RATIO_PUBLIC = 0.30


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
        }
    )
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
    """An in-process app on that database (same secret key as the served one)."""
    for key, value in env_for(database_url, upload_dir).items():
        os.environ[key] = value
    sys.path.insert(0, str(ROOT))
    from app import create_app

    return create_app()


def login_cookies(app):
    """Server-side sessions for the benchmark's accounts and their signed cookies (no captcha)."""
    import secrets

    import sqlalchemy as sa

    from app.blueprints.applications.models import CoreApplication
    from app.blueprints.auth.models import User, UserSession
    from app.blueprints.reports.models import MonthlyReport
    from app.extensions import db

    serializer = app.session_interface.get_signing_serializer(app)
    out = {}
    with app.app_context():
        for label, username in (("admin", "bench-admin"), ("institution", "bench-inst-00001")):
            user = db.session.scalar(sa.select(User).where(User.username_key == username))
            sid = secrets.token_urlsafe(32)
            db.session.add(UserSession(id=sid, user_id=user.id, ip="127.0.0.1", user_agent="bench"))
            db.session.commit()
            out[label] = serializer.dumps({"sid": sid, "_user_id": str(user.id), "_fresh": True})
            if label == "institution":
                out["draft_application"] = db.session.scalar(
                    sa.select(CoreApplication.id).where(
                        CoreApplication.owner_id == user.id, CoreApplication.status == "draft"
                    )
                )
                out["draft_report"] = db.session.scalar(
                    sa.select(MonthlyReport.id)
                    .where(MonthlyReport.owner_id == user.id, MonthlyReport.status == "draft")
                    .order_by(MonthlyReport.year.desc(), MonthlyReport.month.desc())
                )
        from app.filings.models import Round

        latest = db.session.execute(
            sa.select(Round.id, Round.year)
            .where(Round.kind == "report")
            .order_by(Round.year.desc(), Round.month.desc())
            .limit(2)
        ).all()
        out["review_round"] = latest[-1].id  # the last closed month (its export is the review queue's button)
        out["full_year"] = latest[0].year - 1  # the last whole calendar year of reports
    return out


def pages(ctx):
    """(key, label, path, cookie, headers, kind) — kind: public / list / swap / export."""
    return [
        ("home", "首页", "/", None, {}, "public"),
        ("notices", "通知公告", "/notices", None, {}, "public"),
        ("directory", "核心服务机构", "/institutions", None, {}, "public"),
        ("big_data", "调度大数据", "/big-data", None, {}, "public"),
        ("my_reports", "机构调度数据列表", "/reports/", "institution", {}, "list"),
        ("review", "调度数据审核（管理员）", "/reports/review", "admin", {}, "list"),
        ("completeness", "报送完整性（管理员）", "/reports/completeness", "admin", {}, "list"),
        (
            "step_swap",
            "申报向导换步 (htmx)",
            f"/applications/{ctx['draft_application']}/step/operations",
            "institution",
            {"HX-Request": "true"},
            "swap",
        ),
        (
            "export",
            "调度数据导出 Excel（一个调度期）",
            f"/reports/export.xlsx?round_id={ctx['review_round']}",
            "admin",
            {},
            "export",
        ),
    ]


# ---- query counts -----------------------------------------------------------------------------------


def query_counts(app, ctx):
    """{page key: (cold, warm, hit, render ms)}: statements per request, counted with a cursor event
    listener, for a first and a second render (page cache emptied before each), for a request
    the page cache answers, and the in-process time of a render (a cache miss, mean of 10)."""
    from sqlalchemy import event

    from app.extensions import cache, db

    counts = {}
    with app.app_context():
        engine = db.engine
    seen = [0]

    def count(*_args, **_kw):
        seen[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        client = app.test_client()
        for key, _label, path, who, headers, _kind in pages(ctx):
            if key == "export":
                continue
            client.delete_cookie(app.config["SESSION_COOKIE_NAME"], domain="localhost")
            if who:
                client.set_cookie(app.config["SESSION_COOKIE_NAME"], ctx[who], domain="localhost")
            results = []
            for clear in (True, True, False):
                if clear:
                    with app.app_context():
                        cache.clear()
                seen[0] = 0
                response = client.get(path, headers=headers)
                if response.status_code != 200:
                    raise SystemExit(f"{path}: HTTP {response.status_code} in the query-count harness")
                results.append(seen[0])
            spent = 0.0
            for _ in range(10):
                with app.app_context():
                    cache.clear()
                started = time.perf_counter()
                client.get(path, headers=headers)
                spent += time.perf_counter() - started
            counts[key] = (*results, spent / 10 * 1000)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return counts


def count_rows(app, ctx):
    """Rows each list shows on its first page (to say what "many rows" means)."""
    client = app.test_client()
    rows = {}
    for key, _label, path, who, headers, _kind in pages(ctx):
        if key == "export":
            continue
        client.delete_cookie(app.config["SESSION_COOKIE_NAME"], domain="localhost")
        if who:
            client.set_cookie(app.config["SESSION_COOKIE_NAME"], ctx[who], domain="localhost")
        html = client.get(path, headers=headers).get_data(as_text=True)
        rows[key] = html.count("<tr") - html.count("<thead")
    return rows


# ---- serving ----------------------------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    def __init__(self, target, env, cwd):
        self.port = free_port()
        self.log = open(Path(tempfile.gettempdir()) / f"bench-gunicorn-{self.port}.log", "w")
        self.proc = subprocess.Popen(
            [str(BIN / "gunicorn"), "-w", str(WORKERS), "-b", f"127.0.0.1:{self.port}", "--timeout", "120", target],
            cwd=cwd,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                if self.proc.poll() is not None:
                    sys.exit(f"gunicorn {target} exited; see {self.log.name}")
                time.sleep(0.2)
        while len(self.workers()) < WORKERS and time.time() < deadline:
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


def get(port, path, cookie=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("GET", path, headers={**({"Cookie": cookie} if cookie else {}), **(headers or {})})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response, body


# ---- page weight ------------------------------------------------------------------------------------


def gz(data):
    return len(gzip.compress(data, compresslevel=1))


def page_weights(server, ctx, cookie_name):
    """{key: (compressed bytes, raw bytes, {type: compressed})} of a first load in a fresh browser."""
    if not os.path.exists(CHROMIUM):
        log("no /usr/bin/chromium: page weight skipped (apt-get install chromium)")
        return {}
    from playwright.sync_api import sync_playwright

    weights = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for key, _label, path, who, _headers, kind in pages(ctx):
            if kind == "export":
                continue
            context = browser.new_context()
            if who:
                context.add_cookies([{"name": cookie_name, "value": ctx[who], "url": server.url("/")}])
            tab = context.new_page()
            bodies = []
            tab.on("response", lambda response, bodies=bodies: bodies.append(response))
            tab.goto(server.url(path), wait_until="load", timeout=60_000)
            by_type, raw = {}, 0
            for response in bodies:
                kind_of = response.request.resource_type
                if kind_of not in ("document", "stylesheet", "script"):
                    continue
                try:
                    body = response.body()
                except Exception:
                    continue
                by_type[kind_of] = by_type.get(kind_of, 0) + gz(body)
                raw += len(body)
            weights[key] = (sum(by_type.values()), raw, by_type)
            context.close()
        browser.close()
    return weights


# ---- upload and export ------------------------------------------------------------------------------


def upload(server, ctx, cookie_name, workdir):
    """POST a 50 MB .pdf to the institution's draft report; (seconds, rss rise, base, peak, status)."""
    path = f"/reports/{ctx['draft_report']}/attachments"
    cookie = f"{cookie_name}={ctx['institution']}"
    response, body = get(server.port, path, cookie)
    token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', body) or re.search(
        rb'name="csrf_token" value="([^"]+)"', body
    )
    if response.status != 200 or not token:
        sys.exit(f"upload page {path}: HTTP {response.status}, csrf token {'found' if token else 'missing'}")
    set_cookie = response.getheader("Set-Cookie")
    if set_cookie:  # the CSRF token lives in the (signed) session cookie
        cookie = set_cookie.split(";", 1)[0]
    big = workdir / "upload-50mb.pdf"
    size = 50 * MB - 4096
    with open(big, "wb") as out:
        out.write(b"%PDF-1.4\n")
        block = os.urandom(MB)
        while out.tell() < size:
            out.write(block[: min(MB, size - out.tell())])
    boundary = "----bench" + os.urandom(8).hex()
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token.group(1).decode()}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="bench-50mb.pdf"\r\n'
        f"Content-Type: application/pdf\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def stream():
        yield head
        with open(big, "rb") as source:
            while chunk := source.read(256 * 1024):
                yield chunk
        yield tail

    length = len(head) + big.stat().st_size + len(tail)
    sampler = RssSampler(server.workers())
    sampler.start()
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=300)
    conn.request(
        "POST",
        path,
        body=stream(),
        headers={
            "Cookie": cookie,
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(length),
            "Referer": server.url(path),
        },
    )
    response = conn.getresponse()
    response.read()
    seconds = time.perf_counter() - started
    time.sleep(0.05)
    rise, base, peak = sampler.stop()
    conn.close()
    big.unlink()
    return seconds, rise, base, peak, response.status


def export_full_year(server, ctx, cookie_name):
    path = f"/reports/export.xlsx?year={ctx['full_year']}"
    sampler = RssSampler(server.workers())
    sampler.start()
    started = time.perf_counter()
    response, body = get(server.port, path, f"{cookie_name}={ctx['admin']}")
    seconds = time.perf_counter() - started
    rise, base, peak = sampler.stop()
    return seconds, rise, base, peak, len(body), response.status, path


# ---- report -----------------------------------------------------------------------------------------


def machine():
    cpu = "unknown CPU"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return f"{cpu}, {os.cpu_count()} CPUs, {mem:.0f} GB RAM, {platform.platform()}, Python {platform.python_version()}"


def kb(n):
    return f"{n / 1024:.1f} KB"


def run_backend(name, server_env, ctx, cookie_name, hello_rps):
    """wrk every page on one served database; returns {key: wrk result}."""
    server = Gunicorn("wsgi:app", server_env, ROOT)
    results = {}
    try:
        for key, label, path, who, headers, _kind in pages(ctx):
            cookie = cookie_header(cookie_name, ctx[who]) if who else None
            response, _ = get(server.port, path, cookie, headers)
            if response.status != 200:
                sys.exit(f"{name} {path}: HTTP {response.status} (see {server.log.name})")
            wrk(server.url(path), cookie, headers, duration=2)  # warm up both workers
            settle(server)
            results[key] = wrk(server.url(path), cookie, headers)
            settle(server)
            r = results[key]
            log(
                f"{name} {label}: {r['rps']:.0f} req/s ({r['rps'] / hello_rps:.2f}× hello), p50 {r['p50_us'] / 1000:.1f} ms, "
                f"p95 {r['p95_us'] / 1000:.1f} ms, errors {r['errors']}"
            )
    except BaseException:
        server.stop()
        raise
    return server, results


def main():
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: install Debian's package with `sudo apt-get install wrk`.")
    started_at = datetime.now(timezone.utc)
    workdir = Path(tempfile.mkdtemp(prefix="smehn-bench-"))
    failures = []
    try:
        big_db, big_up, seed_seconds = seeded_sqlite(workdir, "scale", INSTITUTIONS, MONTHS)
        small_db, small_up, _ = seeded_sqlite(workdir, "small", 14, 2)
        small_app = make_app(f"sqlite:///{small_db}", small_up)
        small_ctx = login_cookies(small_app)
        small_counts = query_counts(small_app, small_ctx)
        small_rows = count_rows(small_app, small_ctx)
        big_app = make_app(f"sqlite:///{big_db}", big_up)
        ctx = login_cookies(big_app)
        cookie_name = big_app.config["SESSION_COOKIE_NAME"]
        big_counts = query_counts(big_app, ctx)
        big_rows = count_rows(big_app, ctx)

        hello = Gunicorn("hello:app", env_for("sqlite://", workdir, "production"), ROOT / "bench")
        try:
            wrk(hello.url(), duration=2)
            hello_result = wrk(hello.url())
        finally:
            hello.stop()
        hello_rps = hello_result["rps"]
        log(
            f"bare Flask hello: {hello_rps:.0f} req/s, p50 {hello_result['p50_us'] / 1000:.1f} ms, p95 {hello_result['p95_us'] / 1000:.1f} ms"
        )

        server_env = env_for(f"sqlite:///{big_db}", big_up, "production")
        server, results = run_backend("sqlite", server_env, ctx, cookie_name, hello_rps)
        try:
            weights = page_weights(server, ctx, cookie_name)
            swap_path = pages(ctx)[7][2]
            _, swap_body = get(server.port, swap_path, f"{cookie_name}={ctx['institution']}", {"HX-Request": "true"})
            swap_size = gz(swap_body)
            up = upload(server, ctx, cookie_name, workdir)
            exp = export_full_year(server, ctx, cookie_name)
        finally:
            server.stop()

        pg_results = None
        if os.environ.get("BENCH_DATABASE_URL"):
            pg_url = os.environ["BENCH_DATABASE_URL"]
            pg_up = workdir / "pg-uploads"
            env = env_for(pg_url, pg_up)
            flask(["db", "upgrade"], env)
            _, pg_seed = flask(["seed-scale", "--institutions", str(INSTITUTIONS), "--months", str(MONTHS)], env)
            log(f"postgresql: seeded in {pg_seed:.0f} s")
            pg_app = make_app(pg_url, pg_up)
            pg_ctx = login_cookies(pg_app)
            pg_server, pg_results = run_backend(
                "postgresql", env_for(pg_url, pg_up, "production"), pg_ctx, cookie_name, hello_rps
            )
            pg_server.stop()

        # ---- budgets ----
        def check(ok, what):
            if not ok:
                failures.append(what)
            return "✅" if ok else "❌ 未达标"

        lines = [
            "# 性能基准 (Benchmarks)",
            "",
            "Generated by `make bench` (bench/run.py); do not edit by hand — the before/after notes below the tables are kept "
            "in bench/NOTES.md and copied in.",
            "",
            f"- Machine: {machine()}",
            f"- Date: {started_at:%Y-%m-%d %H:%M} UTC",
            f"- Command: `make bench` (BENCH_DURATION={DURATION} s per page, wrk -t2 -c{CONNECTIONS}, gunicorn -w {WORKERS} sync "
            "workers, APP_ENV=production, SQLite in WAL mode; wrk, gunicorn and the app share this machine's CPUs)",
            f"- Data: `flask seed-scale --institutions {INSTITUTIONS} --months {MONTHS}`"
            + (f" (seeded in {seed_seconds:.0f} s)" if seed_seconds else " (copy of the cached seeded database)"),
            f"- Bare Flask hello under the same gunicorn: **{hello_rps:.0f} req/s**, p50 {hello_result['p50_us'] / 1000:.1f} ms, "
            f"p95 {hello_result['p95_us'] / 1000:.1f} ms",
            "",
            "## Throughput and latency (16 concurrent clients)",
            "",
            "| Page | Path | req/s | × hello | budget | p50 ms | p95 ms | budget | errors |",
            "|---|---|---:|---:|---|---:|---:|---|---:|",
        ]
        for key, label, path, _who, _headers, kind in pages(ctx):
            r = results[key]
            ratio = r["rps"] / hello_rps
            need = BUDGET_RATIO_PUBLIC if kind == "public" else BUDGET_RATIO
            ratio_mark = check(ratio >= need, f"{label}: throughput {ratio:.2f}× hello < {need}")
            if kind in ("public", "list"):
                p95_mark = f"≤ {BUDGET_P95_MS} " + check(
                    r["p95_us"] / 1000 <= BUDGET_P95_MS,
                    f"{label}: p95 {r['p95_us'] / 1000:.0f} ms > {BUDGET_P95_MS} ms",
                )
            else:
                p95_mark = "—"
            check(r["errors"] == 0, f"{label}: {r['errors']} wrk errors (non-2xx or socket)")
            lines.append(
                f"| {label} | `{path}` | {r['rps']:.0f} | {ratio:.2f} | ≥ {need} {ratio_mark} | {r['p50_us'] / 1000:.1f} | "
                f"{r['p95_us'] / 1000:.1f} | {p95_mark} | {r['errors']} |"
            )
        if pg_results:
            lines += [
                "",
                "### PostgreSQL (BENCH_DATABASE_URL)",
                "",
                "| Page | req/s | × hello | p50 ms | p95 ms | errors |",
                "|---|---:|---:|---:|---:|---:|",
            ]
            for key, label, *_ in pages(ctx):
                r = pg_results[key]
                lines.append(
                    f"| {label} | {r['rps']:.0f} | {r['rps'] / hello_rps:.2f} | {r['p50_us'] / 1000:.1f} | "
                    f"{r['p95_us'] / 1000:.1f} | {r['errors']} |"
                )
        lines += [
            "",
            "## Page weight (first load in headless Chromium, empty cache)",
            "",
            "HTML + CSS + JS, each body gzip-compressed at level 1 (production: nginx in front of gunicorn with "
            "`gzip on; gzip_types text/css application/javascript;`, nginx's default level is 1).",
            "",
            "| Page | compressed | raw | HTML | CSS | JS | budget |",
            "|---|---:|---:|---:|---:|---:|---|",
        ]
        for key, label, *_rest in pages(ctx):
            if key not in weights:
                continue
            total, raw, by_type = weights[key]
            mark = check(total <= BUDGET_FIRST_LOAD, f"{label}: first load {kb(total)} > 60 KB")
            lines.append(
                f"| {label} | {kb(total)} | {kb(raw)} | {kb(by_type.get('document', 0))} | {kb(by_type.get('stylesheet', 0))} | "
                f"{kb(by_type.get('script', 0))} | ≤ 60 KB {mark} |"
            )
        if not weights:
            failures.append("page weight not measured (no /usr/bin/chromium)")
        mark = check(swap_size <= BUDGET_SWAP, f"step swap {kb(swap_size)} > 15 KB")
        lines += [
            "",
            f"htmx step swap (`{swap_path}` with HX-Request): **{kb(swap_size)}** compressed "
            f"({kb(len(swap_body))} raw); budget ≤ 15 KB {mark}",
            "",
        ]
        seconds, rise, base, peak, status = up
        mark = check(
            rise <= BUDGET_UPLOAD and status in (200, 303), f"upload: worker RSS +{rise / MB:.1f} MB (HTTP {status})"
        )
        lines += [
            "## Upload and export",
            "",
            "| Measure | Figure | Budget |",
            "|---|---|---|",
            f"| 50 MB attachment upload (`/reports/<draft>/attachments`, HTTP {status}) | {seconds:.2f} s; worker RSS "
            f"{base / MB:.1f} → {peak / MB:.1f} MB (**+{rise / MB:.1f} MB**) | ≤ +16 MB {mark} |",
        ]
        seconds, rise, base, peak, size, status, path = exp
        check(status == 200, f"full-year export: HTTP {status}")
        lines.append(
            f"| Full-year Excel export (`{path}`, HTTP {status}, {size / MB:.1f} MB) | {seconds:.2f} s; worker RSS "
            f"{base / MB:.1f} → {peak / MB:.1f} MB (+{rise / MB:.1f} MB) | — (no budget; reported) |"
        )
        lines += [
            "",
            "## Queries per request (must not grow with the rows shown) and the cost of a render",
            "",
            "Counted with a `before_cursor_execute` listener, in-process: a first and a second render (the page "
            "cache emptied before each), then a request the page cache answers (hit). *Render ms* is the in-process "
            "time of a cache miss on the benchmark data (mean of 10): what a request costs right after a write. "
            "Few rows: `seed-scale --institutions 14 --months 2`; many rows: the benchmark data.",
            "",
            "| Page | rows shown (few → many) | queries, few rows (first/second/hit) | queries, many rows (first/second/hit) "
            "| render ms (miss) | |",
            "|---|---|---|---|---:|---|",
        ]
        for key, label, *_rest in pages(ctx):
            if key not in big_counts:
                continue
            few, many = small_counts[key], big_counts[key]
            mark = check(
                many[1] <= few[1] and many[0] <= few[0] + 1 and many[2] <= few[2],
                f"{label}: queries grow with rows {few[:3]} → {many[:3]}",
            )
            lines.append(
                f"| {label} | {small_rows[key]} → {big_rows[key]} | {few[0]} / {few[1]} / {few[2]} | "
                f"{many[0]} / {many[1]} / {many[2]} | {many[3]:.1f} | {mark} |"
            )
        notes = ROOT / "bench" / "NOTES.md"
        lines += [
            "",
            "## Result",
            "",
            ("All budgets hold." if not failures else "Missed budgets:\n\n" + "\n".join(f"- {f}" for f in failures)),
            "",
        ]
        if notes.exists():
            lines += [notes.read_text(encoding="utf-8").rstrip(), ""]
        DOC.parent.mkdir(exist_ok=True)
        DOC.write_text("\n".join(lines), encoding="utf-8")
        log(f"wrote {DOC.relative_to(ROOT)}")
    finally:
        if os.environ.get("BENCH_KEEP"):
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if failures:
        log("budgets missed:\n  " + "\n  ".join(failures))
        return 1
    log("all budgets hold")
    return 0


if __name__ == "__main__":
    sys.exit(main())
