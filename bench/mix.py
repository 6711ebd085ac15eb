"""The deadline-day mix's pure pieces: pages per role, the plan (one request in five a write), the
form reader the load tool posts with, and the budget check. No I/O and no load tool here, so
tests/test_bench.py can check them without running a load.

A *session* is a dict: ``{"role": ..., "cookie": ..., <ids its pages and writes need>}``. Roles:
``institution``, ``city_admin``, ``province_admin`` and ``anonymous`` (no cookie).

The plan is a list of *visits*, each ``(session index, [actions])``; an action is ``("read", page key)``
or ``("write", write kind)``, and a write is two requests: the page whose form it sends (read with
the user's cookie, which carries the CSRF token and the current ``version``) and the POST. Visits
come in pairs of ten requests with exactly two POSTs each (two signed-in visits of 3 reads + 1
write, or an anonymous visit of 5 reads with a signed-in visit of 1 read + 2 writes), so one
request in five is a write whatever the share of anonymous visitors.
"""

import math
import random
from html.parser import HTMLParser

# (key, label, path template): a template's {fields} come from the session
READS = {
    "anonymous": [
        ("home", "首页", "/"),
        ("notices", "通知公告", "/notices"),
        ("notice", "通知详情", "/notices/{notice_id}"),
        ("directory", "核心服务机构", "/institutions"),
        ("institution", "机构详情", "/institutions/{institution_id}"),
        ("big_data", "调度大数据", "/big-data"),
    ],
    "institution": [
        ("workspace", "工作台", "/workspace/"),
        ("my_reports", "机构调度数据列表", "/reports/"),
        ("report_step", "调度数据填报步骤", "/reports/{draft}/step/basic"),
        ("report_show", "调度数据查看", "/reports/{approved}"),
        ("my_applications", "核心服务机构申报列表", "/applications/"),
        ("messages", "站内消息", "/workspace/messages"),
    ],
    "city_admin": [
        ("admin_home", "管理首页", "/admin/"),
        ("review", "调度数据审核", "/reports/review"),
        ("completeness", "报送完整性", "/reports/completeness"),
        ("report_review", "调度数据审核详情", "/reports/{review_target}/review"),
        ("stats", "调度数据统计", "/reports/stats"),
        ("application_review", "申报审核", "/applications/review"),
    ],
    "province_admin": [
        ("admin_home", "管理首页", "/admin/"),
        ("review", "调度数据审核", "/reports/review"),
        ("completeness", "报送完整性", "/reports/completeness"),
        ("stats", "调度数据统计", "/reports/stats"),
        ("application_review", "申报审核", "/applications/review"),
        ("export_page", "调度数据导出", "/reports/exports"),
    ],
}

# write kind -> label. An institution's writes follow its draft's state (save -> submit ->
# withdraw -> save ...); an admin approves (or, one in four, returns) the next filing of its pool.
WRITES = {
    "institution": ["report_write"],
    "city_admin": ["report_decide"],
    "province_admin": ["application_decide"],
    "anonymous": [],
}
WRITE_LABELS = {
    "report_save": "POST 调度数据保存（下一步）",
    "report_save_htmx": "POST 调度数据保存（htmx 换步）",
    "report_submit": "POST 调度数据提交",
    "report_withdraw": "POST 调度数据撤回",
    "report_decide": "POST 调度数据审核（通过/退回）",
    "application_decide": "POST 申报审核（省级通过）",
}


def page_path(template, session):
    return template.format(**session)


def read_pages(role, session):
    """[(key, label, path)] this session may read (pages whose ids it lacks are left out)."""
    out = []
    for key, label, template in READS[role]:
        try:
            out.append((key, label, page_path(template, session)))
        except KeyError:
            continue
    return out


def _visit(rng, reads, writes):
    actions = [("read", None)] * reads + [("write", None)] * writes
    rng.shuffle(actions)
    return actions


def build_plan(sessions, visits, *, anonymous_share=0.25, seed=1):
    """``visits`` visits (rounded up to pairs) over ``sessions``; see the module docstring."""
    rng = random.Random(seed)
    signed = [i for i, s in enumerate(sessions) if s["role"] != "anonymous" and WRITES[s["role"]]]
    anonymous = [i for i, s in enumerate(sessions) if s["role"] == "anonymous"]
    if not signed:
        raise ValueError("the mix needs signed-in sessions")
    order = signed[:]
    rng.shuffle(order)
    cursor = [0]

    def next_signed():  # every signed-in session in turn, so all of them are used
        index = order[cursor[0] % len(order)]
        cursor[0] += 1
        return index

    plan = []
    while len(plan) < visits:
        if anonymous and rng.random() < anonymous_share:
            pair = [(rng.choice(anonymous), _visit(rng, 5, 0)), (next_signed(), _visit(rng, 1, 2))]
        else:
            pair = [(next_signed(), _visit(rng, 3, 1)), (next_signed(), _visit(rng, 3, 1))]
        for index, actions in pair:
            session = sessions[index]
            filled = []
            for kind, _ in actions:
                if kind == "read":
                    filled.append(("read", rng.choice(read_pages(session["role"], session))[0]))
                else:
                    filled.append(("write", rng.choice(WRITES[session["role"]])))
            plan.append((index, filled))
    return plan


def requests_in(plan):
    """(reads, writes) the plan will send: a write is its form's GET plus the POST."""
    reads = writes = 0
    for _index, actions in plan:
        for kind, _ in actions:
            if kind == "read":
                reads += 1
            else:
                reads += 1
                writes += 1
    return reads, writes


def partition(items, parts):
    """``items`` dealt into ``parts`` lists (a load-tool user owns its sessions: no two users
    send one session's requests at once)."""
    return [items[i::parts] for i in range(parts)]


# ---- forms ------------------------------------------------------------------------------------------


class _FormReader(HTMLParser):
    def __init__(self, action):
        super().__init__(convert_charrefs=True)
        self.action = action
        self.inside = False
        self.fields = []
        self.select = None
        self.textarea = None
        self.found = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("action") == self.action and not self.found
            self.found = self.found or self.inside
            return
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind in ("submit", "button", "file"):
                return
            self.fields.append([name, a.get("value", "on" if kind in ("checkbox", "radio") else "")])
        elif tag == "select" and name:
            self.select = [name, None, None]  # name, first option, selected
        elif tag == "option" and self.select is not None:
            value = a.get("value", "")
            if self.select[1] is None:
                self.select[1] = value
            if "selected" in a:
                self.select[2] = value
        elif tag == "textarea" and name:
            self.textarea = [name, ""]

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select is not None:
            name, first, chosen = self.select
            self.fields.append([name, chosen if chosen is not None else (first or "")])
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            self.fields.append(self.textarea)
            self.textarea = None


def form_fields(html, action):
    """The fields the form posting to ``action`` would send as it stands ([[name, value]]), or None."""
    reader = _FormReader(action)
    reader.feed(html)
    return reader.fields if reader.found else None


def set_field(fields, name, value):
    for field in fields:
        if field[0] == name:
            field[1] = value
            return fields
    fields.append([name, value])
    return fields


# ---- budgets ----------------------------------------------------------------------------------------

BUDGET_P95_MS = 100
BUDGET_PEER_RATIO = 0.5
BUDGET_RENDER_MS = 6  # each page uncached, in-process: median ms
BUDGET_QUERIES = 10  # and statements per request


def check_budgets(runs, ratios, rendered=()):
    """Missed budgets as sentences. ``runs``: [{"name", "errors", "p95_ms"}] (one per mix run);
    ``ratios``: [(page label, database, ratio to the peer)]; ``rendered``: [(page label, database,
    statements, median ms)] in-process."""
    missed = []
    for label, database, statements, render_ms in rendered:
        if render_ms > BUDGET_RENDER_MS or statements > BUDGET_QUERIES:
            missed.append(
                f"{label} ({database}) in-process: {render_ms:.1f} ms, {statements} statements "
                f"(budget: ≤ {BUDGET_RENDER_MS} ms, ≤ {BUDGET_QUERIES})"
            )
    for run in runs:
        if run["errors"]:
            missed.append(f"{run['name']}: {run['errors']} errors (budget: zero)")
        if run["p95_ms"] > BUDGET_P95_MS:
            missed.append(f"{run['name']}: p95 {run['p95_ms']:.0f} ms > {BUDGET_P95_MS} ms")
    for label, database, ratio in ratios:
        if ratio < BUDGET_PEER_RATIO:
            missed.append(f"{label} ({database}): {ratio:.2f}× its minimal peer < {BUDGET_PEER_RATIO}×")
    return missed


def exit_code(missed):
    return 1 if missed else 0


def percentile(sorted_values, fraction):
    """Nearest-rank percentile of an ascending list (None when empty)."""
    if not sorted_values:
        return None
    rank = max(1, min(len(sorted_values), math.ceil(fraction * len(sorted_values))))
    return sorted_values[rank - 1]
