"""Runs the deadline-day mix with Locust's Python API, headless: ``python bench/loadmix.py CONFIG OUT``.

A separate process because Locust patches the standard library for gevent on import; bench/run.py
writes CONFIG (host, users, seconds, the sessions) and reads OUT (per page and overall: requests,
errors, p50/p95/p99 ms, req/s; the error samples). Each Locust user is one of the concurrent clients
(no wait between requests) and owns its share of the sessions, so one session never has two
requests in flight; it follows its plan (bench/mix.py), keeps each session's cookie (the Flask
session cookie carries the CSRF token the app put there) and posts forms as a browser would: the
fields read from the page, CSRF token and ``version`` included.
"""

import itertools
import json
import random
import re
import sys
import time
from pathlib import Path

from gevent import monkey

monkey.patch_all()

import gevent  # noqa: E402
from locust import FastHttpUser, constant, task  # noqa: E402
from locust.env import Environment  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mix  # noqa: E402

CONFIG = json.loads(Path(sys.argv[1]).read_text()) if __name__ == "__main__" else {}
TIMES = {}  # label -> [ms]
ERRORS = {}  # label -> count
SAMPLES = []
OUTCOMES = {}  # write kind -> count of completed writes
SHARES = []  # per user: (sessions, plan)
NEXT_SHARE = itertools.count()


def setup_shares(config):
    sessions = config["sessions"]
    by_role = sorted(range(len(sessions)), key=lambda i: sessions[i]["role"])
    for part in mix.partition(by_role, config["users"]):
        own = [sessions[i] for i in part]
        plan = mix.build_plan(own, config["visits_per_user"], seed=len(SHARES) + 1)
        SHARES.append((own, plan))


def _record(request_type, name, response_time, response_length, exception, **_kw):
    TIMES.setdefault(name, []).append(response_time)
    if exception is not None:
        ERRORS[name] = ERRORS.get(name, 0) + 1
        if len(SAMPLES) < 40:
            SAMPLES.append(f"{request_type} {name}: {exception}"[:300])


class MixUser(FastHttpUser):
    wait_time = constant(0)
    network_timeout = 60.0
    connection_timeout = 60.0

    def on_start(self):
        self.sessions, self.plan = SHARES[next(NEXT_SHARE) % len(SHARES)]
        self.rng = random.Random(id(self))
        self.cursor = 0

    # ---- one request ----
    def send(self, session, method, path, label, expect, data=None, headers=None):
        self.client.cookiejar.clear()
        head = {"Accept-Encoding": "gzip, deflate", **(headers or {})}  # gzip: the load tool reads the forms
        if session.get("cookie"):
            head["Cookie"] = f"{CONFIG['cookie_name']}={session['cookie']}"
        if data is not None:
            head["Referer"] = self.environment.host + path
            head["Content-Type"] = "application/x-www-form-urlencoded"
        with self.client.request(
            method, path, headers=head, data=data, name=label, allow_redirects=False, catch_response=True
        ) as response:
            if session.get("cookie"):
                cookie = response.headers.get("set-cookie") if response.headers else None
                found = re.search(rf"{CONFIG['cookie_name']}=([^;]+)", cookie or "")
                if found:
                    session["cookie"] = found.group(1)
            location = (response.headers.get("location") or "") if response.headers else ""
            if response.status_code not in expect:
                response.failure(f"HTTP {response.status_code} {location} (expected {expect})")
                return None, location
            if data is not None and expect == (303,) and session.get("expect_location"):
                wanted = session.pop("expect_location")
                if wanted not in location:
                    response.failure(f"refused: redirected to {location}, expected {wanted}")
                    return None, location
            response.success()
            return response.text or "", location

    def form(self, session, page_path, action, label):
        html, _ = self.send(session, "GET", page_path, label, (200,))
        if html is None:
            return None
        fields = mix.form_fields(html, action)
        if fields is None:
            SAMPLES.append(f"no form {action} on {page_path}") if len(SAMPLES) < 40 else None
        return fields

    def post(self, session, action, fields, kind, expect=(303,), headers=None):
        from urllib.parse import urlencode

        body, _ = self.send(
            session, "POST", action, mix.WRITE_LABELS[kind], expect, urlencode([tuple(f) for f in fields]), headers
        )
        if body is not None:
            OUTCOMES[kind] = OUTCOMES.get(kind, 0) + 1
        return body is not None

    # ---- writes ----
    def report_write(self, session):
        draft = session["draft"]
        if session["state"] == "submitted":
            fields = self.form(session, f"/reports/{draft}/withdraw", f"/reports/{draft}/withdraw", "撤回确认页")
            if fields is not None:
                session["expect_location"] = f"/reports/{draft}/step/basic"
                if self.post(session, f"/reports/{draft}/withdraw", fields, "report_withdraw"):
                    session["state"] = "draft"
            return
        if session["state"] == "saved":
            fields = self.form(session, f"/reports/{draft}/attachments", f"/reports/{draft}/submit", "附件材料上传")
            if fields is not None:
                session["expect_location"] = "/reports/"
                if self.post(session, f"/reports/{draft}/submit", fields, "report_submit"):
                    session["state"] = "submitted"
            return
        action = f"/reports/{draft}/step/basic"
        fields = self.form(session, action, action, "调度数据填报步骤")
        if fields is None:
            return
        values = dict(fields)
        floor = max(int(values.get(name) or 0) for name in ("bachelor_count", "intermediate_count"))
        mix.set_field(fields, "staff_count", str(floor + self.rng.randint(0, 20)))  # a real change, still valid
        mix.set_field(fields, "anomaly_note", "基准测试：数据按实际情况填报。")
        if self.rng.random() < 0.5:
            ok = self.post(session, action, fields, "report_save_htmx", (200,), {"HX-Request": "true"})
        else:
            session["expect_location"] = f"/reports/{draft}/attachments"
            ok = self.post(session, action, fields, "report_save")
        if ok:
            session["state"] = "saved"

    def decide(self, session, kind, prefix):
        pool = session.get("pool") or []
        if not pool:  # nothing left to decide: the write becomes a read of the queue
            self.send(session, "GET", "/reports/review", "调度数据审核", (200,))
            return
        filing = pool.pop(0)
        action = f"/{prefix}/{filing}/review"
        fields = self.form(session, action, action, "审核详情（表单）")
        if fields is None:
            return
        # the page's own default decision (通过: "approve" for a report, "province_approve" for an
        # application at the province level); one in four is the 退回 of the same level instead
        approve = dict(fields).get("action") or "approve"
        if self.rng.random() < 0.25:
            mix.set_field(fields, "action", approve.replace("approve", "return"))
            mix.set_field(fields, "comment", "请补充服务活动说明（基准测试）。")
        else:
            mix.set_field(fields, "action", approve)
        self.post(session, action, fields, kind)

    @task
    def step(self):
        index, actions = self.plan[self.cursor % len(self.plan)]
        self.cursor += 1
        session = self.sessions[index]
        pages = {key: (label, path) for key, label, path in mix.read_pages(session["role"], session)}
        for kind, what in actions:
            if kind == "read":
                label, path = pages[what]
                self.send(session, "GET", path, label, (200, 302) if what == "report_step" else (200,))
            elif what == "report_write":
                self.report_write(session)
            elif what == "report_decide":
                self.decide(session, "report_decide", "reports")
            elif what == "application_decide":
                self.decide(session, "application_decide", "applications")


def summarise(elapsed):
    pages, every = {}, []
    for name, values in TIMES.items():
        values.sort()
        every.extend(values)
        pages[name] = {
            "requests": len(values),
            "errors": ERRORS.get(name, 0),
            "p50_ms": mix.percentile(values, 0.50),
            "p95_ms": mix.percentile(values, 0.95),
            "p99_ms": mix.percentile(values, 0.99),
            "rps": len(values) / elapsed,
        }
    every.sort()
    writes = sum(v["requests"] for k, v in pages.items() if k.startswith("POST"))
    return {
        "pages": pages,
        "overall": {
            "requests": len(every),
            "errors": sum(ERRORS.values()),
            "writes": writes,
            "p50_ms": mix.percentile(every, 0.50),
            "p95_ms": mix.percentile(every, 0.95),
            "p99_ms": mix.percentile(every, 0.99),
            "rps": len(every) / elapsed,
        },
        "outcomes": OUTCOMES,
        "samples": SAMPLES,
        "seconds": elapsed,
        "sessions_used": len({id(s) for own, _ in SHARES for s in own}),
    }


def main():
    out = Path(sys.argv[2])
    setup_shares(CONFIG)
    env = Environment(user_classes=[MixUser], host=CONFIG["host"])
    env.events.request.add_listener(_record)
    runner = env.create_local_runner()
    runner.start(CONFIG["users"], spawn_rate=CONFIG["users"])
    gevent.sleep(CONFIG.get("warmup", 0))
    TIMES.clear()
    ERRORS.clear()
    OUTCOMES.clear()
    del SAMPLES[:]
    started = time.perf_counter()
    gevent.sleep(CONFIG["seconds"])
    elapsed = time.perf_counter() - started
    result = summarise(elapsed)  # before stopping: requests cut off by the stop are not counted
    runner.quit()
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
