"""Smoke test of a running production profile, through nginx (run by .ci/profile-smoke).

    python deploy/smoke.py --base https://127.0.0.1:18443 --database-url postgresql://... \\
        --institution jigou@example.com --admin smoke-admin --password ... [--upstream http://127.0.0.1:18001]

Like a person with a browser (no JavaScript: every page works without it): the plain-HTTP port
redirects to HTTPS; /healthz is all green; static files come from nginx with a cache header and
gzip; an institution signs in (CSRF token from the form, the image captcha's answer read from the
database, since production refuses CAPTCHA_TEST_CODE), fills a 核心服务机构申报 step by step,
uploads a file and downloads it again byte for byte, sent by nginx through X-Accel-Redirect when
the app asks for it (with ``--uploads`` and ``--upload-group``: the stored file is 0640 of that
group, and once taken out of it, into ``--outside-group``, nginx's workers refuse it with 403, so
they read it through the group and not as root or its owner); a province admin starts an 调度数据导出 job, waits on its page until it is
done and downloads the .xlsx. Only requests and the standard library (plus psql for the captcha on
PostgreSQL; ``--database-url sqlite:///instance/app.db`` tries `make run`).
Exits non-zero with the failed step's name.
"""

import argparse
import base64
import grp
import io
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import zipfile
import zlib
from html.parser import HTMLParser

import requests
import urllib3

BASIC = {
    "registered_capital": "500.00",
    "total_assets": "1200.50",
    "facilities_value": "300",
    "equipment_count": "25",
    "floor_area": "800",
    "equipment_ratio": "12.5",
    "own_area_ratio": "60",
    "site_nature": "自有",
    "intro": "冒烟测试：本机构成立于2010年，专注于为中小企业提供融资、管理咨询等服务。",
}
OPERATIONS = {"served_prev2": "120", "served_prev1": "150", "activities_prev2": "30", "activities_prev1": "36"}
REQUEST_ID = re.compile(r"[0-9a-f]{32}")


class SmokeFailure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise SmokeFailure(message)


# ---- HTML forms (the standard library's parser) -------------------------------------------------


class Forms(HTMLParser):
    """Every <form> of a page: action, method, enctype and its fields' default values, as a
    browser would send them; also every link and image source."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.forms, self.links, self.images = [], [], []
        self._form = self._select = self._textarea = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {
                "action": a.get("action", ""),
                "method": a.get("method", "get").lower(),
                "enctype": a.get("enctype", ""),
                "fields": {},
                "files": [],
                "buttons": [],
            }
            self.forms.append(self._form)
        elif tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "img" and a.get("src"):
            self.images.append(a["src"])
        if self._form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind == "file":
                self._form["files"].append(name)
            elif kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form["fields"][name] = a.get("value", "on")
            elif kind not in ("submit", "button", "image", "reset"):
                self._form["fields"][name] = a.get("value", "")
        elif tag == "select" and name:
            self._select = name
            self._form["fields"].setdefault(name, None)
        elif tag == "option" and self._select:
            fields = self._form["fields"]
            if fields[self._select] is None or "selected" in a:
                fields[self._select] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self._form["fields"][name] = ""
        elif tag == "button":
            self._form["buttons"].append(a)

    def handle_data(self, data):
        if self._form is not None and self._textarea:
            self._form["fields"][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_posting_to(html, pattern):
    """The first POST form whose action matches ``pattern`` (a regular expression)."""
    for form in Forms(html).forms:
        if form["method"] == "post" and re.search(pattern, form["action"]):
            form["fields"] = {k: ("" if v is None else v) for k, v in form["fields"].items()}
            return form
    raise SmokeFailure(f"no form posting to {pattern!r} on the page")


# ---- the client -----------------------------------------------------------------------------------


class Browser:
    def __init__(self, base, verify, nginx=True):
        self.base = base.rstrip("/")
        self.nginx = nginx  # False: talking to gunicorn itself (make run)
        self.accel = None  # the X-Accel-Redirect of the last download, as gunicorn answered it
        self.http = requests.Session()
        self.http.trust_env = False  # else REQUESTS_CA_BUNDLE overrides verify; no proxy for loopback
        self.http.verify = verify
        self.http.headers["User-Agent"] = "hnsme-smoke/1"

    def url(self, path):
        return urllib.parse.urljoin(self.base + "/", path)

    def get(self, path, status=200, **kwargs):
        response = self.http.get(self.url(path), allow_redirects=kwargs.pop("allow_redirects", True), **kwargs)
        check(response.status_code == status, f"GET {path}: {response.status_code}, expected {status}")
        if "text/html" in response.headers.get("Content-Type", ""):
            self.page = response.url
        return response

    def submit(self, form, data=None, files=None, status=303):
        fields = {**form["fields"], **(data or {})}
        # Over HTTPS Flask-WTF wants a same-origin Referer, as a browser sends it.
        headers = {"Referer": getattr(self, "page", self.base + "/")}
        response = self.http.post(
            self.url(form["action"]), data=fields, files=files, headers=headers, allow_redirects=False
        )
        check(
            response.status_code == status,
            f"POST {form['action']}: {response.status_code}, expected {status}: {response.text[:300]}",
        )
        return response

    def cookie(self, suffix):
        for cookie in self.http.cookies:
            if cookie.name.endswith(suffix):
                return cookie
        raise SmokeFailure(f"no cookie *{suffix}")


def session_payload(value):
    """The Flask session cookie's content (signed, not encrypted): payload.timestamp.signature,
    base64 and zlib-compressed when it starts with a dot."""
    compressed = value.startswith(".")
    payload = value.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    return json.loads(zlib.decompress(raw) if compressed else raw)


def captcha_answer(database_url, token):
    """Production refuses a test captcha code: the answer is read where the app keeps it."""
    check(re.fullmatch(r"[A-Za-z0-9_-]+", token or ""), "no captcha token in the session")
    query = f"SELECT answer FROM captcha_challenge WHERE token = '{token}'"
    if database_url.startswith("sqlite:///"):  # make run's database
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as connection:
            row = connection.execute(query).fetchone()
        answer = row[0] if row else ""
    else:
        answer = subprocess.run(
            ["psql", database_url, "-tAc", query], capture_output=True, text=True, check=True
        ).stdout.strip()
    check(answer, "the captcha challenge is not in the database")
    return answer


def sign_in(browser, database_url, username, password):
    page = browser.get("/auth/login").text
    form = form_posting_to(page, r"/auth/login")
    image = next((src for src in Forms(page).images if "captcha" in src), None)
    check(image, "no captcha image on the login page")
    browser.get(image)  # makes the challenge; its token goes into the session cookie
    session = session_payload(browser.cookie("smehn_session").value)
    token = next((value for key, value in session.items() if key.startswith("captcha_") and "login" in key), None)
    answer = captcha_answer(database_url, token)
    browser.submit(form, {"username": username, "password": password, "captcha": answer})
    home = browser.get("/")
    check("退出" in home.text, f"{username}: not signed in")


# ---- the steps ----------------------------------------------------------------------------------


def step_redirect(http_base, verify):
    response = requests.get(http_base + "/healthz", allow_redirects=False, verify=verify, timeout=10)
    check(response.status_code == 301, f"port 80: {response.status_code}, expected 301")
    check(response.headers["Location"].startswith("https://"), f"port 80 redirects to {response.headers['Location']}")


def step_health(browser, wanted):
    response = browser.get("/healthz")
    body = response.json()
    check(body["status"] == "ok", f"/healthz: {body}")
    check(wanted <= set(body["checks"]), f"/healthz checks {sorted(body['checks'])}, expected {sorted(wanted)}")
    request_id = response.headers.get("X-Request-ID", "")
    check(REQUEST_ID.fullmatch(request_id), f"X-Request-ID {request_id!r} is not nginx's $request_id")
    if browser.nginx:
        check("Strict-Transport-Security" in response.headers, "no HSTS header over HTTPS (production)")
        check(response.headers.get("Server", "") == "nginx", f"Server: {response.headers.get('Server')}")
    return body, request_id


def step_static(browser):
    home = browser.get("/").text
    styles = [href for href in re.findall(r'href="([^"]+\.css)"', home) if "/static/" in href]
    check(styles, "no stylesheet on the home page")
    response = browser.get(styles[0], headers={"Accept-Encoding": "gzip"})
    check("max-age=" in response.headers.get("Cache-Control", ""), f"static Cache-Control: {response.headers}")
    if browser.nginx:
        check("X-Request-ID" not in response.headers, "a static file went through gunicorn, not nginx")
        check(response.headers.get("Content-Encoding") in ("gzip", "br"), "static CSS not compressed")
    return styles[0], response.headers["Cache-Control"]


def step_filing(browser):
    """新增 → 基本信息 → 服务经营情况 → 申报证明材料上传; returns (download path, bytes uploaded)."""
    listing = browser.get("/applications/").text
    created = browser.submit(form_posting_to(listing, r"/applications/new$"))
    match = re.search(r"/applications/(\d+)/step/basic", created.headers["Location"])
    check(match, f"新增 went to {created.headers['Location']}")
    filing = int(match.group(1))
    for slug, values in (("basic", BASIC), ("operations", OPERATIONS)):
        page = browser.get(f"/applications/{filing}/step/{slug}").text
        browser.submit(form_posting_to(page, rf"/applications/{filing}/step/{slug}$"), values)
    page = browser.get(f"/applications/{filing}/attachments").text
    upload = form_posting_to(page, rf"/applications/{filing}/attachments$")
    check(upload["files"], "no file field on the attachment step")
    content = b"%PDF-1.4\n% hnsme smoke test\n" + os.urandom(256 * 1024) + b"\n%%EOF\n"
    name = "营业执照（冒烟测试）.pdf"
    browser.submit(upload, files={upload["files"][0]: (name, io.BytesIO(content), "application/pdf")})
    page = browser.get(f"/applications/{filing}/attachments").text
    links = [href for href in Forms(page).links if re.search(rf"/applications/{filing}/attachments/\d+$", href)]
    check(links, "the uploaded file is not listed")
    return links[0], content, name


def step_download(browser, path, content, name, upstream, x_accel):
    response = browser.get(path)
    check(response.content == content, f"download: {len(response.content)} bytes, uploaded {len(content)}")
    disposition = response.headers.get("Content-Disposition", "")
    check(
        "attachment" in disposition and urllib.parse.quote(name) in disposition, f"Content-Disposition: {disposition}"
    )
    check("no-store" in response.headers.get("Cache-Control", ""), "a download is cacheable")
    check(response.headers.get("X-Content-Type-Options") == "nosniff", "download without nosniff")
    check("X-Accel-Redirect" not in response.headers, "nginx leaked X-Accel-Redirect to the client")
    how = "sent by gunicorn (X_ACCEL_REDIRECT_PREFIX unset)"
    if upstream:
        # the same request straight to gunicorn: with X-Accel the app answers with a header, no body
        cookie = browser.cookie("smehn_session")
        direct = requests.get(
            upstream.rstrip("/") + path,
            headers={"Cookie": f"{cookie.name}={cookie.value}", "X-Forwarded-Proto": "https", "Host": "localhost"},
            allow_redirects=False,
            timeout=10,
        )
        check(direct.status_code == 200, f"gunicorn directly: {direct.status_code}")
        accel = direct.headers.get("X-Accel-Redirect")
        if x_accel:
            check(accel and accel.startswith(x_accel), f"the app did not answer with X-Accel-Redirect ({accel!r})")
            check(len(direct.content) == 0, "the app streamed the file as well as X-Accel-Redirect")
            # the internal location cannot be asked for from outside
            outside = browser.http.get(browser.url(accel), allow_redirects=False)
            check(outside.status_code == 404, f"{accel} from outside: {outside.status_code}, expected 404")
            how = f"sent by nginx via X-Accel-Redirect {accel}"
            browser.accel = accel
        else:
            check(accel is None and direct.content == content, "gunicorn did not send the file itself")
    return how


def step_outside_group(browser, path, content, uploads, prefix, group, outside):
    """The stored file is 0640 of UPLOAD_GROUP; moved to another group, nginx cannot read it (403)."""
    accel = browser.accel
    check(accel, "no X-Accel-Redirect seen (needs --upstream and X_ACCEL_REDIRECT_PREFIX)")
    stored = os.path.join(uploads, urllib.parse.unquote(accel[len(prefix.rstrip("/")) + 1 :]))
    info = os.stat(stored)
    mode, owner_group = info.st_mode & 0o7777, grp.getgrgid(info.st_gid).gr_name
    check(mode == 0o640 and owner_group == group, f"{stored}: {mode:04o} of group {owner_group}, not 0640 of {group}")
    os.chown(stored, -1, grp.getgrnam(outside).gr_gid)
    try:
        refused = browser.get(path, status=403)
        check(refused.content != content, "the file was sent although outside the group")
    finally:
        os.chown(stored, -1, info.st_gid)
    check(browser.get(path).content == content, "back in the group, the download failed")
    return f"0640 of {group}; of group {outside}: 403 from nginx; back in {group}: 200"


def step_export_job(browser, timeout):
    page = browser.get("/reports/exports").text
    form = form_posting_to(page, r"/reports/exports$")
    started = browser.submit(form)
    location = started.headers["Location"]
    match = re.search(r"/jobs/(\d+)$", location)
    check(match, f"导出Excel went to {location}, not a job page")
    job = int(match.group(1))
    began = time.monotonic()
    while True:
        page = browser.get(f"/jobs/{job}").text
        if "处理失败" in page:
            raise SmokeFailure(f"the export job failed: {re.sub(r'<[^>]+>', ' ', page)[:400]}")
        download = next((href for href in Forms(page).links if re.search(rf"/jobs/{job}/download$", href)), None)
        if download:
            break
        check(time.monotonic() - began < timeout, f"the export job not done after {timeout} s")
        time.sleep(1)
    waited = time.monotonic() - began
    response = browser.get(download)
    check(response.content[:2] == b"PK", "the export is not an .xlsx (zip) file")
    with zipfile.ZipFile(io.BytesIO(response.content)) as workbook:
        check("xl/workbook.xml" in workbook.namelist(), "the .xlsx has no workbook")
    return job, waited, len(response.content)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="https://host:port of nginx")
    parser.add_argument("--http-base", help="http://host:port of nginx's port-80 server")
    parser.add_argument("--upstream", help="http://host:port of gunicorn (to see X-Accel-Redirect)")
    parser.add_argument("--x-accel-prefix", default=os.environ.get("X_ACCEL_REDIRECT_PREFIX"))
    parser.add_argument("--cacert", help="the self-signed certificate (default: no verification)")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--institution", required=True)
    parser.add_argument("--institution-password", required=True)
    parser.add_argument("--admin", required=True)
    parser.add_argument("--admin-password", required=True)
    parser.add_argument("--skip-jobs", action="store_true", help="no job queue in this build")
    parser.add_argument("--job-timeout", type=int, default=120)
    parser.add_argument("--request-id-log", action="append", default=[], help="a log that must carry the id")
    parser.add_argument("--expect-checks", default="database,limits,uploads", help="/healthz checks to require")
    parser.add_argument("--direct", action="store_true", help="no nginx in front (make run): skip its checks")
    parser.add_argument("--uploads", help="UPLOAD_DIR, to check the stored file's mode and group")
    parser.add_argument("--upload-group", default=os.environ.get("UPLOAD_GROUP"), help="UPLOAD_GROUP")
    parser.add_argument("--outside-group", help="a group nginx's workers are not in (root only: chgrp)")
    args = parser.parse_args()
    verify = args.cacert or False
    if not verify:
        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

    steps = []

    def run(name, action, *params, show=str):
        started = time.monotonic()
        try:
            result = action(*params)
        except (SmokeFailure, requests.RequestException, KeyError, ValueError) as error:
            print(f"smoke FAILED at {name}: {error}", file=sys.stderr)
            sys.exit(1)
        steps.append(name)
        print(f"smoke ok  {name} ({time.monotonic() - started:.1f} s){': ' + show(result) if result else ''}")
        return result

    if args.http_base:
        run("http→https redirect", step_redirect, args.http_base, verify)
    anonymous = Browser(args.base, verify, nginx=not args.direct)
    wanted = set(args.expect_checks.split(","))
    _, request_id = run(
        "healthz", step_health, anonymous, wanted, show=lambda r: f"{r[0]['checks']}, X-Request-ID {r[1]}"
    )
    for log in args.request_id_log:
        run(f"request id in {os.path.basename(log)}", _id_in_log, request_id, log)
    run("static from nginx", step_static, anonymous)

    institution = Browser(args.base, verify, nginx=not args.direct)
    run("institution login", sign_in, institution, args.database_url, args.institution, args.institution_password)
    path, content, name = run(
        "filing with an upload", step_filing, institution, show=lambda r: f"{r[2]}, {len(r[1])} bytes, {r[0]}"
    )
    run("attachment download", step_download, institution, path, content, name, args.upstream, args.x_accel_prefix)
    if args.uploads and args.upload_group and args.outside_group and args.x_accel_prefix:
        run(
            "a file outside the uploads' group is refused",
            step_outside_group,
            institution,
            path,
            content,
            args.uploads,
            args.x_accel_prefix,
            args.upload_group,
            args.outside_group,
        )

    if args.skip_jobs:
        print("smoke SKIPPED export job (--skip-jobs: no job queue in this build)")
    else:
        admin = Browser(args.base, verify, nginx=not args.direct)
        run("admin login", sign_in, admin, args.database_url, args.admin, args.admin_password)
        run(
            "export job to completion",
            step_export_job,
            admin,
            args.job_timeout,
            show=lambda r: f"job {r[0]} done after {r[1]:.1f} s, .xlsx of {r[2]} bytes",
        )
    print(f"smoke passed: {len(steps)} steps")


def _id_in_log(request_id, path):
    for _ in range(20):  # the access line is written once the response went out
        with open(path, encoding="utf-8", errors="replace") as log:
            if request_id in log.read():
                return
        time.sleep(0.1)
    raise SmokeFailure(f"request id {request_id} not in {path}")


if __name__ == "__main__":
    main()
