"""`make bench`: a deadline day at province scale, each page against its minimal peer, low-end clients.

Steps (DESIGN.md "Performance budgets", issue 17):
1. Data: a fresh SQLite database (`flask db upgrade` + `flask seed-scale`: 2,000 institutions × 36
   months; a copy of the cached seeded file in instance/bench-cache/ when its key matches) and, with
   BENCH_DATABASE_URL (an EMPTY PostgreSQL database), the same data there.
2. In-process, per page: statements per request (few rows vs many rows) and the median render ms.
3. Per page, wrk (16 connections, Accept-Encoding as Chromium sends it) against the app, its
   minimal peer (bench/peer.py: bare Flask + SQLAlchemy + Jinja rendering the same rows from the
   same database) and bare hello (bench/hello.py), all three under deploy/gunicorn.conf.py with
   2 workers: throughput as a ratio to the peer (budget ≥ 0.5×) and to hello.
4. The deadline-day mix (bench/mix.py, run by Locust in bench/loadmix.py): ≥ 300 signed-in sessions
   (institutions, city and province admins; server-side session rows written here plus a cookie
   signed with the throw-away key: the captcha is not weakened) and anonymous visitors, 16 clients,
   each request a random page of its session's role, one in five a write (step saves with the
   form's `version`, submits, 撤回, approvals and returns) with the app's real CSRF (tokens read from
   the forms). On SQLite and PostgreSQL, with 2 and 4 workers. Budgets: zero errors, p95 ≤ 100 ms.
5. Page weight as `make run` serves it (no nginx: the app's own compression, fingerprinted static
   files after `flask digest compile`), in headless Chromium; the htmx step swap.
6. Low-end client (bench/lowend.py): Chromium with 4× CPU throttling and slow 3G runs the
   institution's flow; time until each step is usable (≤ 4 s per full page, ≤ 2 s per htmx swap).
7. A 50 MB upload (worker RSS), the full-year export as a background job (time; the job worker's RSS).
Writes docs/benchmarks.md; exits 1 when a budget is missed.

Environment: BENCH_DURATION (seconds per wrk page, default 10), BENCH_MIX_SECONDS (per mix run,
default 30), BENCH_INSTITUTIONS, BENCH_MONTHS, BENCH_DATABASE_URL, BENCH_KEEP (keep the temp dir),
BENCH_SKIP_BROWSER.
"""

import gc
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mix  # noqa: E402
from common import (  # noqa: E402
    BIN,
    CONNECTIONS,
    DURATION,
    MB,
    ROOT,
    Gunicorn,
    RssSampler,
    env_for,
    flask,
    get,
    load_average,
    log,
    make_app,
    seeded_sqlite,
    settle,
    wrk,
)

DOC = ROOT / "docs" / "benchmarks.md"
INSTITUTIONS = int(os.environ.get("BENCH_INSTITUTIONS", "2000"))
MONTHS = int(os.environ.get("BENCH_MONTHS", "36"))
MIX_SECONDS = int(os.environ.get("BENCH_MIX_SECONDS", "30"))
MIX_INSTITUTION_SESSIONS = 270
MIX_USERS = 16
BUDGET_FIRST_LOAD = 60 * 1024
BUDGET_SWAP = 15 * 1024
BUDGET_UPLOAD = 16 * MB


# ---- sessions ---------------------------------------------------------------------------------------


def _session_for(app, user_id):
    """A server-side session row and its signed cookie (what a login would have made)."""
    from app.blueprints.auth.models import UserSession
    from app.extensions import db

    sid = secrets.token_urlsafe(32)
    db.session.add(UserSession(id=sid, user_id=user_id, ip="127.0.0.1", user_agent="bench"))
    serializer = app.session_interface.get_signing_serializer(app)
    return serializer.dumps({"sid": sid, "_user_id": str(user_id), "_fresh": True})


def _extra_admin(username, role, city_code, like):
    """A second account for an admin role (seed-scale makes one per 市州 and one for the province)."""
    import sqlalchemy as sa

    from app.blueprints.auth.models import User
    from app.extensions import db

    found = db.session.scalar(sa.select(User.id).where(User.username_key == username))
    if found:
        return found
    user = User(
        username=username,
        username_key=username,
        password_hash=like.password_hash,
        role=role,
        city_code=city_code,
        display_name=f"{like.display_name}（基准测试）",
        status="active",
        must_change_password=False,
        password_changed_at=like.password_changed_at,
    )
    db.session.add(user)
    db.session.flush()
    return user.id


def bench_context(app):
    """Cookies and ids the per-page runs use: the province admin, institution 1 and its drafts."""
    import sqlalchemy as sa

    from app.blueprints.applications.models import CoreApplication
    from app.blueprints.auth.models import User
    from app.blueprints.reports.models import MonthlyReport
    from app.extensions import db
    from app.filings.models import Round

    with app.app_context():
        admin = db.session.scalar(sa.select(User).where(User.username_key == "bench-admin"))
        inst = db.session.scalar(sa.select(User).where(User.username_key == "bench-inst-00001"))
        ctx = {"admin": _session_for(app, admin.id), "institution": _session_for(app, inst.id)}
        ctx["draft_application"] = db.session.scalar(
            sa.select(CoreApplication.id).where(CoreApplication.owner_id == inst.id, CoreApplication.status == "draft")
        )
        ctx["draft_report"] = db.session.scalar(
            sa.select(MonthlyReport.id)
            .where(MonthlyReport.owner_id == inst.id, MonthlyReport.status == "draft")
            .order_by(MonthlyReport.year.desc(), MonthlyReport.month.desc())
        )
        ctx["approved_report"] = db.session.scalar(
            sa.select(MonthlyReport.id)
            .where(MonthlyReport.owner_id == inst.id, MonthlyReport.status == "approved")
            .order_by(MonthlyReport.id.desc())
        )
        ctx["submitted_report"] = db.session.scalar(
            sa.select(MonthlyReport.id).where(MonthlyReport.status == "submitted").order_by(MonthlyReport.id)
        )
        latest = db.session.execute(
            sa.select(Round.year).where(Round.kind == "report").order_by(Round.year.desc(), Round.month.desc())
        ).first()
        ctx["full_year"] = latest.year - 1
        db.session.commit()
    ctx["dev_cookie"] = app.config["SESSION_COOKIE_NAME"]  # the in-process (development) app's
    ctx["cookie_name"] = "__Host-" + ctx["dev_cookie"]  # production's (app/config.py), for the served app
    for who in ("admin", "institution"):
        ctx[who] = _after_first_page(app, ctx["dev_cookie"], ctx[who])
    return ctx


def _after_first_page(app, name, cookie):
    """The cookie as a browser holds it after its first page: the app puts its CSRF token in the
    session then (the page's forms need it). wrk replays one cookie; replaying the login's, which
    has no token yet, would make every request make a token and sign a new cookie, which no browser
    does. The same secret key signs the in-process and the served app's cookies."""
    client = app.test_client()
    client.set_cookie(name, cookie, domain="localhost")
    response = client.get("/workspace/", follow_redirects=True)  # an admin's goes on to 管理首页
    if response.status_code != 200 or not response.request.path.startswith(("/workspace", "/admin")):
        sys.exit(f"/workspace/ for a bench session: HTTP {response.status_code} at {response.request.path}")
    return client.get_cookie(name, domain="localhost").value


def mix_sessions(app):
    """The deadline day's sessions from the database as it is now (a PostgreSQL run follows the one
    before it): institutions with this month's report open (draft or submitted, with an
    attachment, so a submit can pass), two sessions per 市州 and four for the province, each
    admin with its own pool of filings to decide; and anonymous visitors."""
    import sqlalchemy as sa

    from app.blueprints.auth.models import Institution, User
    from app.extensions import db
    from app.filings.models import Attachment, Filing, Round

    out = []
    with app.app_context():
        open_round = db.session.scalar(
            sa.select(Round.id).where(Round.kind == "report").order_by(Round.year.desc(), Round.month.desc()).limit(1)
        )
        with_file = sa.select(Attachment.filing_id).where(Attachment.filing_id.is_not(None))
        mine = db.session.execute(
            sa.select(Filing.id, Filing.owner_id, Filing.status, Filing.institution_id)
            .where(
                Filing.round_id == open_round,
                Filing.kind == "monthly_report",
                Filing.status.in_(("draft", "submitted")),
                Filing.id.in_(with_file),
                Filing.institution_id != db.session.scalar(sa.select(sa.func.min(Institution.id))),
            )
            .order_by(Filing.id)
            .limit(MIX_INSTITUTION_SESSIONS)
        ).all()
        taken = {row.id for row in mine}
        for row in mine:
            approved = db.session.scalar(
                sa.select(Filing.id)
                .where(Filing.owner_id == row.owner_id, Filing.status == "approved", Filing.kind == "monthly_report")
                .order_by(Filing.id.desc())
                .limit(1)
            )
            session = {"role": "institution", "cookie": _session_for(app, row.owner_id), "draft": row.id}
            session["state"] = "submitted" if row.status == "submitted" else "draft"
            if approved:
                session["approved"] = approved
            out.append(session)
        admins = db.session.scalars(sa.select(User).where(User.role == "city_admin").order_by(User.id)).all()
        cities = sorted({a.city_code for a in admins if a.username_key.startswith("bench-city-")})
        for city in cities:
            first = next(a for a in admins if a.city_code == city)
            ids = [first.id, _extra_admin(f"bench-city2-{city}", "city_admin", city, first)]
            pool = db.session.scalars(
                sa.select(Filing.id)
                .where(
                    Filing.kind == "monthly_report",
                    Filing.status == "submitted",
                    Filing.city_code == city,
                    Filing.id.not_in(taken) if taken else sa.true(),
                )
                .order_by(Filing.id)
            ).all()
            target = db.session.scalar(
                sa.select(Filing.id)
                .where(Filing.kind == "monthly_report", Filing.status == "approved", Filing.city_code == city)
                .limit(1)
            )
            for n, user_id in enumerate(ids):
                out.append(
                    {
                        "role": "city_admin",
                        "cookie": _session_for(app, user_id),
                        "pool": pool[n :: len(ids)],
                        "review_target": target,
                    }
                )
        province = db.session.scalar(sa.select(User).where(User.username_key == "bench-admin"))
        ids = [province.id] + [_extra_admin(f"bench-prov-{n}", "province_admin", None, province) for n in (2, 3, 4)]
        pool = db.session.scalars(
            sa.select(Filing.id).where(Filing.kind == "core_application", Filing.status == "city_approved")
        ).all()
        for n, user_id in enumerate(ids):
            out.append({"role": "province_admin", "cookie": _session_for(app, user_id), "pool": pool[n :: len(ids)]})
        db.session.commit()
        from app.blueprints.applications.models import Recognition
        from app.blueprints.portal.models import Notice

        notices = db.session.scalars(
            sa.select(Notice.id).where(Notice.is_published.is_(True)).order_by(Notice.id).limit(50)
        ).all()
        recognised = db.session.scalars(sa.select(Recognition.institution_id).limit(200)).all()
    for n in range(MIX_USERS * 2):
        out.append(
            {
                "role": "anonymous",
                "notice_id": notices[n % len(notices)],
                "institution_id": recognised[n * 7 % len(recognised)],
            }
        )
    return out


# ---- per page ---------------------------------------------------------------------------------------


def pages(ctx):
    """(key, label, path, who, headers): the pages measured one by one against their peer."""
    draft = ctx["draft_report"]
    return [
        ("home", "首页", "/", None, {}),
        ("notices", "通知公告", "/notices", None, {}),
        ("directory", "核心服务机构", "/institutions", None, {}),
        ("big_data", "调度大数据", "/big-data", None, {}),
        # the lightest signed-in page: the per-request cost every page pays (session, access, layout)
        ("messages", "站内消息（最轻的登录后页面）", "/workspace/messages", "institution", {}),
        ("my_reports", "机构调度数据列表", "/reports/", "institution", {}),
        ("review", "调度数据审核（省级）", "/reports/review", "admin", {}),
        ("completeness", "报送完整性（省级）", "/reports/completeness", "admin", {}),
        ("report_step", "调度数据填报步骤", f"/reports/{draft}/step/basic", "institution", {}),
        ("step_swap", "调度数据填报换步 (htmx)", f"/reports/{draft}/step/basic", "institution", {"HX-Request": "true"}),
    ]


def more_pages(ctx):
    """(key, label, path, who, headers): the other signed-in pages of the mix (lists, dashboards,
    review and step pages), measured in-process only against the same budget; they have no peer."""
    return [
        ("workspace", "工作台", "/workspace/", "institution", {}),
        ("report_show", "调度数据查看", f"/reports/{ctx['approved_report']}", "institution", {}),
        ("my_applications", "核心服务机构申报列表", "/applications/", "institution", {}),
        ("attachments", "附件材料上传", f"/reports/{ctx['draft_report']}/attachments", "institution", {}),
        ("admin_home", "管理首页（省级）", "/admin/", "admin", {}),
        ("stats", "调度数据统计（省级）", "/reports/stats", "admin", {}),
        ("application_review", "申报审核（省级）", "/applications/review", "admin", {}),
        ("report_review", "调度数据审核详情（省级）", f"/reports/{ctx['submitted_report']}/review", "admin", {}),
    ]


def in_process(app, ctx):
    """{key: (statements, median render ms)} per page on this database (anonymous pages with the
    page cache emptied before each request: what a miss costs)."""
    from sqlalchemy import event

    from app.extensions import cache, db

    with app.app_context():
        engine = db.engine
    seen = [0]

    def count(*_args, **_kw):
        seen[0] += 1

    out = {}
    event.listen(engine, "before_cursor_execute", count)
    try:
        client = app.test_client()

        def signed_in_as(who):
            client.delete_cookie(ctx["dev_cookie"], domain="localhost")
            if who:
                client.set_cookie(ctx["dev_cookie"], ctx[who], domain="localhost")

        measured = pages(ctx) + more_pages(ctx)
        for _key, _label, path, who, headers in measured:  # warm up, then freeze as pre_fork does
            signed_in_as(who)
            client.get(path, headers=headers)
        gc.collect()
        gc.freeze()
        for key, _label, path, who, headers in measured:
            signed_in_as(who)
            times, counts = [], []
            for _ in range(11):
                with app.app_context():
                    cache.clear()
                seen[0] = 0
                started = time.perf_counter()
                response = client.get(path, headers=headers)
                times.append((time.perf_counter() - started) * 1000)
                counts.append(seen[0])
                if response.status_code != 200:
                    sys.exit(f"{path}: HTTP {response.status_code} in-process")
            out[key] = (counts[-1], statistics.median(times[1:]))
    finally:
        event.remove(engine, "before_cursor_execute", count)
        gc.unfreeze()
    return out


def per_page(name, server, peer, ctx, hello_rps):
    """wrk each page on the app and on its peer; {key: {"app": r, "peer": r}}."""
    out = {}
    for key, label, path, who, headers in pages(ctx):
        cookie = f"{ctx['cookie_name']}={ctx[who]}" if who else None
        for target, tag in ((server, "app"), (peer, "peer")):
            response, _ = get(target.port, path, cookie, headers)
            if response.status != 200:
                sys.exit(f"{name} {tag} {path}: HTTP {response.status} (see {target.log.name})")
            wrk(target.url(path), cookie, headers, duration=2)  # warm both workers up
            settle(server)
            out.setdefault(key, {})[tag] = wrk(target.url(path), cookie, headers)
            settle(server)
        a, p = out[key]["app"], out[key]["peer"]
        log(
            f"{name} {label}: app {a['rps']:.0f} req/s, peer {p['rps']:.0f} req/s ({a['rps'] / p['rps']:.2f}× peer, "
            f"{a['rps'] / hello_rps:.2f}× hello), app p95 {a['p95_us'] / 1000:.1f} ms, errors {a['errors']}"
        )
    return out


# ---- the mix ----------------------------------------------------------------------------------------


def run_mix(name, server, sessions, ctx, workdir):
    config = {
        "host": server.url("").rstrip("/"),
        "users": MIX_USERS,
        "seconds": MIX_SECONDS,
        "warmup": 8,
        "visits_per_user": 400,
        "cookie_name": ctx["cookie_name"],
        "sessions": sessions,
    }
    path, out = workdir / f"mix-{name}.json", workdir / f"mix-{name}-result.json"
    path.write_text(json.dumps(config, ensure_ascii=False))
    load = load_average()[0]
    result = subprocess.run(
        [str(BIN / "python"), str(ROOT / "bench" / "loadmix.py"), str(path), str(out)], capture_output=True, text=True
    )
    if result.returncode or not out.exists():
        sys.exit(f"the mix {name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    data = json.loads(out.read_text())
    if not data["overall"]["requests"]:
        sys.exit(f"the mix {name} sent no request:\n{result.stderr[-4000:]}")
    data["name"], data["load_before"] = name, load
    o = data["overall"]
    log(
        f"mix {name}: {o['requests']} requests ({o['writes']} writes), {o['rps']:.0f} req/s, p50 {o['p50_ms']:.0f} ms, "
        f"p95 {o['p95_ms']:.0f} ms, p99 {o['p99_ms']:.0f} ms, errors {o['errors']}"
    )
    for sample in data["samples"][:5]:
        log("  error:", sample)
    return data


# ---- page weight, upload, export --------------------------------------------------------------------


def page_weights(server, ctx):
    """{key: (bytes sent, raw bytes, {type: sent}, encodings)} of a first load in a fresh Chromium."""
    from lowend import CHROMIUM, CHROMIUM_ARGS, chromium_available

    if not chromium_available():
        return {}
    from playwright.sync_api import sync_playwright

    out = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for key, _label, path, who, headers in pages(ctx):
            if headers:
                continue
            context = browser.new_context()
            if who:
                context.add_cookies(
                    [
                        {
                            "name": ctx["cookie_name"],
                            "value": ctx[who],
                            "domain": "127.0.0.1",
                            "path": "/",
                            "secure": True,
                        }
                    ]
                )
            tab = context.new_page()
            seen = []
            tab.on("requestfinished", lambda request, seen=seen: seen.append(request))
            tab.goto(server.url(path), wait_until="load", timeout=60_000)
            by_type, raw, encodings = {}, 0, set()
            for request in seen:
                kind = request.resource_type
                if kind not in ("document", "stylesheet", "script"):
                    continue
                sizes = request.sizes()
                response = request.response()
                by_type[kind] = by_type.get(kind, 0) + sizes["responseBodySize"]
                raw += len(response.body())
                encodings.add(response.headers.get("content-encoding", "identity"))
            out[key] = (sum(by_type.values()), raw, by_type, sorted(encodings))
            context.close()
        browser.close()
    return out


def csrf_form(server, path, cookie, action=None):
    """(fields, cookie) of the form posting to ``action`` on ``path`` (the cookie as the app set it)."""
    response, body = get(server.port, path, cookie, {"Accept-Encoding": "identity"})
    set_cookie = response.getheader("Set-Cookie")
    if set_cookie:
        cookie = set_cookie.split(";", 1)[0]
    fields = mix.form_fields(body.decode(), action or path)
    if response.status != 200 or fields is None:
        sys.exit(f"{path}: HTTP {response.status}, form {action or path} {'found' if fields else 'missing'}")
    return fields, cookie


def upload(server, ctx, workdir):
    """POST a 50 MB .pdf to the institution's draft report; (seconds, rss rise, base, peak, status)."""
    import http.client

    path = f"/reports/{ctx['draft_report']}/attachments"
    fields, cookie = csrf_form(server, path, f"{ctx['cookie_name']}={ctx['institution']}")
    token = dict(fields)["csrf_token"]
    big = workdir / "upload-50mb.pdf"
    size = 50 * MB - 4096
    with open(big, "wb") as out:
        out.write(b"%PDF-1.4\n")
        block = os.urandom(MB)
        while out.tell() < size:
            out.write(block[: min(MB, size - out.tell())])
    boundary = "----bench" + os.urandom(8).hex()
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
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


def export_job(server, ctx, env):
    """The full-year export as 调度数据导出 starts it (a job): a `flask jobs worker` runs it.
    (seconds from the POST to the file, worker RSS rise, base, peak, file bytes, note)."""
    worker_log = open(Path(tempfile.gettempdir()) / f"bench-jobs-worker-{server.port}.log", "w")
    worker = subprocess.Popen(
        [str(BIN / "flask"), "--app", "wsgi", "jobs", "worker"], cwd=ROOT, env=env, stdout=worker_log, stderr=worker_log
    )
    try:
        time.sleep(4)  # the worker imports the app
        if worker.poll() is not None:
            return None, f"flask jobs worker exited (see {worker_log.name})"
        cookie = f"{ctx['cookie_name']}={ctx['admin']}"
        fields, cookie = csrf_form(server, "/reports/exports", cookie)
        for name, value in (("year", str(ctx["full_year"])), ("month_from", "1"), ("month_to", "12")):
            mix.set_field(fields, name, value)
        mix.set_field(fields, "city_code", "")
        mix.set_field(fields, "status", "")
        pids = [worker.pid] + [int(p) for p in _children(worker.pid)]
        sampler = RssSampler(pids)
        sampler.start()
        started = time.perf_counter()
        response, _ = get(
            server.port,
            "/reports/exports",
            cookie,
            {"Content-Type": "application/x-www-form-urlencoded", "Referer": server.url("/reports/exports")},
            method="POST",
            body=urlencode([tuple(f) for f in fields]),
        )
        location = response.getheader("Location") or ""
        job = re.search(r"/jobs/(\d+)", location)
        if response.status != 303 or not job:
            sampler.stop()
            return None, f"POST /reports/exports: HTTP {response.status} {location}"
        download = f"/jobs/{job.group(1)}/download"
        deadline = time.time() + 600
        while time.time() < deadline:
            _, body = get(server.port, f"/jobs/{job.group(1)}", cookie, {"Accept-Encoding": "identity"})
            if download.encode() in body:
                break
            if "失败".encode() in body and b"retry" not in body:
                pass
            time.sleep(0.25)
        seconds = time.perf_counter() - started
        rise, base, peak = sampler.stop()
        response, body = get(server.port, download, cookie)
        if response.status != 200:
            return None, f"{download}: HTTP {response.status}"
        return (seconds, rise, base, peak, len(body)), f"job {job.group(1)}"
    finally:
        worker.terminate()
        try:
            worker.wait(15)
        except subprocess.TimeoutExpired:
            worker.kill()
        worker_log.close()


def _children(pid):
    try:
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []


# ---- databases --------------------------------------------------------------------------------------


def postgres_database(url, workdir):
    """Migrate and seed the EMPTY database at ``url``; refuses one that has tables."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as connection:
        tables = sa.inspect(connection).get_table_names()
    engine.dispose()
    if tables:
        sys.exit(f"BENCH_DATABASE_URL must name an EMPTY database (it has {len(tables)} tables); create a fresh one.")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        # as deploy/README.md sets it for the data on SSD (new connections take it)
        connection.exec_driver_sql(f'ALTER DATABASE "{engine.url.database}" SET random_page_cost = 1.1')
    engine.dispose()
    uploads = workdir / "pg-uploads"
    env = env_for(url, uploads)
    flask(["db", "upgrade"], env)
    _, seconds = flask(["seed-scale", "--institutions", str(INSTITUTIONS), "--months", str(MONTHS)], env)
    log(f"postgresql: seeded in {seconds:.0f} s")
    return uploads


def main():
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: install Debian's package with `sudo apt-get install wrk`.")
    started_at = datetime.now(timezone.utc)
    workdir = Path(tempfile.mkdtemp(prefix="smehn-bench-"))
    results = {"databases": {}, "started": started_at, "load": [load_average()]}
    try:
        seed_db, seed_up, seed_seconds = seeded_sqlite(workdir, "seed", INSTITUTIONS, MONTHS)
        flask(["digest", "compile"], env_for("sqlite://", workdir / "none"))  # as make run does
        hello = Gunicorn("hello:app", env_for("sqlite://", workdir, "production"), ROOT / "bench")
        try:
            wrk(hello.url(), duration=2)
            hello_result = wrk(hello.url())
        finally:
            hello.stop()
        hello_rps = hello_result["rps"]
        results["hello"] = hello_result
        log(f"bare Flask hello: {hello_rps:.0f} req/s, p95 {hello_result['p95_us'] / 1000:.1f} ms")

        databases = [("SQLite", None)]
        if os.environ.get("BENCH_DATABASE_URL"):
            databases.append(("PostgreSQL", os.environ["BENCH_DATABASE_URL"]))
        for name, url in databases:
            data = results["databases"][name] = {"mix": []}
            if url is None:

                def fresh(tag):
                    db_path, uploads = workdir / f"{tag}.db", workdir / f"{tag}-uploads"
                    shutil.copyfile(seed_db, db_path)
                    if not uploads.exists():
                        shutil.copytree(seed_up, uploads)
                    return f"sqlite:///{db_path}", uploads

            else:
                pg_uploads = postgres_database(url, workdir)

                def fresh(tag, url=url, pg_uploads=pg_uploads):
                    return url, pg_uploads

            db_url, uploads = fresh("pages")
            app = make_app(db_url, uploads)
            ctx = bench_context(app)
            data["in_process"] = in_process(app, ctx)
            server_env = env_for(db_url, uploads, "production")
            server = Gunicorn("wsgi:app", server_env, ROOT, workers=2)
            peer = Gunicorn("peer:app", server_env, ROOT / "bench", workers=2)
            try:
                data["pages"] = per_page(name, server, peer, ctx, hello_rps)
                if url is None:
                    data["weights"] = page_weights(server, ctx)
                    _, swap = get(
                        server.port,
                        pages(ctx)[-1][2],
                        f"{ctx['cookie_name']}={ctx['institution']}",
                        {"HX-Request": "true", "Accept-Encoding": "gzip, deflate, br"},
                    )
                    data["swap_bytes"] = len(swap)
                    if not os.environ.get("BENCH_SKIP_BROWSER"):
                        from lowend import institution_flow

                        data["lowend"] = institution_flow(server, db_url)
                    data["upload"] = upload(server, ctx, workdir)
                    data["export"] = export_job(server, ctx, server_env)
            finally:
                server.stop()
                peer.stop()
            for workers in (2, 4):
                db_url, uploads = fresh(f"mix-{workers}")
                app = make_app(db_url, uploads)
                sessions = mix_sessions(app)
                ctx = bench_context(app)
                server = Gunicorn("wsgi:app", env_for(db_url, uploads, "production"), ROOT, workers=workers)
                try:
                    run = run_mix(f"{name}-{workers}w", server, sessions, ctx, workdir)
                finally:
                    server.stop()
                run["workers"], run["sessions"] = workers, sessions_by_role(sessions)
                data["mix"].append(run)
            results["load"].append(load_average())
        import report

        missed = report.write(DOC, results, INSTITUTIONS, MONTHS, seed_seconds, DURATION, CONNECTIONS, MIX_SECONDS)
        log(f"wrote {DOC.relative_to(ROOT)}")
    finally:
        if os.environ.get("BENCH_KEEP"):
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if missed:
        log("budgets missed:\n  " + "\n  ".join(missed))
    else:
        log("all budgets hold")
    return mix.exit_code(missed)


def sessions_by_role(sessions):
    counts = {}
    for session in sessions:
        counts[session["role"]] = counts.get(session["role"], 0) + 1
    return counts


if __name__ == "__main__":
    sys.exit(main())
