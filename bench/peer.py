"""The minimal peer each page is compared with: bare Flask + SQLAlchemy + Jinja, same database.

It renders the rows the real page shows (the same 20 notices, the same 20 institutions with their
市州, the same 20 reports with the institution's name, the same completeness counts, the same
step form with its 服务类别 lines) from the same database under the same gunicorn settings, with
none of the app's machinery: no access rules, menus, CSRF, flash or audit. A signed-in page reads
who is asking the simplest way that still works: the Flask session cookie (same SECRET_KEY) and
one query for its ``user_session`` row and user. Served as ``peer:app`` from bench/.

Paths mirror the app's, so the benchmark asks both the same URL.
"""

import os

import sqlalchemy as sa
from flask import Flask, abort, request, session

app = Flask(__name__)
app.secret_key = os.environ["SECRET_KEY"]
app.config["SESSION_COOKIE_NAME"] = os.environ.get("PEER_SESSION_COOKIE", "__Host-smehn_session")
engine = sa.create_engine(os.environ["DATABASE_URL"], pool_size=5)

LAYOUT = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{{ title }}</title>
<link rel="stylesheet" href="/static/app.css"></head><body><header><h1>湖南省中小微企业核心服务机构调度管理系统</h1>
</header><main><h2>{{ title }}</h2>{% block body %}{% endblock %}</main></body></html>"""


_compiled = {}


def template(body, full=True):
    """Compiled once per worker (as Flask's file templates are)."""
    key = (body, full)
    if key not in _compiled:
        source = "{% extends layout %}{% block body %}" + body + "{% endblock %}" if full else body
        _compiled[key] = app.jinja_env.from_string(source)
    return _compiled[key]


_layout = app.jinja_env.from_string(LAYOUT)


def page(title, body, **context):
    return template(body).render(layout=_layout, title=title, request=request, **context)


def rows(sql, **params):
    with engine.connect() as connection:
        return connection.execute(sa.text(sql), params).mappings().all()


def user():
    sid = session.get("sid")
    if not sid:
        abort(401)
    found = rows(
        "SELECT u.id, u.role, u.city_code, u.display_name FROM user_session s JOIN user_account u ON u.id = s.user_id "
        "WHERE s.id = :sid AND s.ended_at IS NULL",
        sid=sid,
    )
    if not found:
        abort(401)
    return found[0]


def offset():
    return (max(1, request.args.get("page", 1, type=int)) - 1) * 20


TABLE = """<table><thead><tr>{% for h in heads %}<th>{{ h }}</th>{% endfor %}</tr></thead><tbody>
{% for r in items %}<tr>{% for c in cols %}<td>{{ r[c] if r[c] is not none else '' }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table><p>共 {{ total }} 条</p>"""


@app.get("/")
def home():
    notices = rows(
        "SELECT id, title, published_at FROM notice WHERE is_published ORDER BY pinned DESC, published_at DESC LIMIT 8"
    )
    totals = rows(
        "SELECT year, SUM(reports) AS reports, SUM(activities) AS activities, SUM(served) AS served "
        "FROM report_month_stat GROUP BY year ORDER BY year DESC LIMIT 1"
    )
    count = rows("SELECT COUNT(*) AS n FROM recognition WHERE revoked_at IS NULL")[0]["n"]
    body = (
        "<ul>{% for n in notices %}<li><a href='/notices/{{ n.id }}'>{{ n.title }}</a> {{ n.published_at }}</li>"
        "{% endfor %}</ul>{% for t in totals %}<p>{{ t.year }}: {{ t.reports }} 份, {{ t.activities }} 场次, "
        "{{ t.served }} 家次</p>{% endfor %}<p>核心服务机构 {{ count }} 家</p>"
    )
    return page("首页", body, notices=notices, totals=totals, count=count)


@app.get("/notices")
def notices():
    items = rows(
        "SELECT id, title, category, published_at FROM notice WHERE is_published "
        "ORDER BY pinned DESC, published_at DESC LIMIT 20 OFFSET :o",
        o=offset(),
    )
    total = rows("SELECT COUNT(*) AS n FROM notice WHERE is_published")[0]["n"]
    return page(
        "通知公告",
        TABLE,
        items=items,
        total=total,
        heads=["标题", "类别", "发布时间"],
        cols=["title", "category", "published_at"],
    )


@app.get("/institutions")
def institutions():
    recognised = "EXISTS (SELECT 1 FROM recognition r WHERE r.institution_id = i.id AND r.revoked_at IS NULL)"
    items = rows(
        "SELECT i.id, i.name, c.name AS city, t.name AS type, i.address FROM institution i "
        "JOIN region c ON c.code = i.city_code LEFT JOIN dict_item t ON t.id = i.institution_type_id "
        f"WHERE {recognised} ORDER BY i.id LIMIT 20 OFFSET :o",
        o=offset(),
    )
    total = rows(f"SELECT COUNT(*) AS n FROM institution i WHERE {recognised}")[0]["n"]
    return page(
        "核心服务机构",
        TABLE,
        items=items,
        total=total,
        heads=["机构名称", "市州", "机构类型", "地址"],
        cols=["name", "city", "type", "address"],
    )


@app.get("/big-data")
def big_data():
    year = rows("SELECT MAX(year) AS y FROM report_month_stat")[0]["y"]
    by_city = rows(
        "SELECT c.name AS city, SUM(s.reports) AS reports, SUM(s.activities) AS activities, SUM(s.served) AS served, "
        "SUM(s.revenue) AS revenue FROM report_month_stat s JOIN region c ON c.code = s.city_code "
        "WHERE s.year = :y GROUP BY c.name, c.sort_order ORDER BY c.sort_order",
        y=year,
    )
    by_month = rows(
        "SELECT month, SUM(activities) AS activities, SUM(served) AS served FROM report_month_stat WHERE year = :y "
        "GROUP BY month ORDER BY month",
        y=year,
    )
    by_category = rows(
        "SELECT category_id, SUM(activities) AS activities FROM report_category_stat WHERE year = :y "
        "GROUP BY category_id ORDER BY category_id",
        y=year,
    )
    body = (
        TABLE
        + "<ul>{% for m in by_month %}<li>{{ m.month }}月 {{ m.activities }} / {{ m.served }}</li>{% endfor %}</ul>"
        "<ul>{% for c in by_category %}<li>{{ c.category_id }}: {{ c.activities }}</li>{% endfor %}</ul>"
    )
    return page(
        "调度大数据",
        body,
        items=by_city,
        total=len(by_city),
        heads=["市州", "报送", "活动", "服务", "收入"],
        cols=["city", "reports", "activities", "served", "revenue"],
        by_month=by_month,
        by_category=by_category,
    )


@app.get("/reports/")
def my_reports():
    me = user()
    items = rows(
        "SELECT f.id, m.year, m.month, m.activities_total, m.served_total, f.status, r.title FROM filing f "
        "JOIN monthly_report m ON m.id = f.id JOIN round r ON r.id = f.round_id WHERE f.owner_id = :u "
        "ORDER BY m.year DESC, m.month DESC LIMIT 20 OFFSET :o",
        u=me["id"],
        o=offset(),
    )
    total = rows("SELECT COUNT(*) AS n FROM filing WHERE owner_id = :u AND kind = 'monthly_report'", u=me["id"])[0]["n"]
    return page(
        "机构调度数据列表",
        TABLE,
        items=items,
        total=total,
        heads=["调度期", "年度", "月份", "活动数", "服务企业数", "状态"],
        cols=["title", "year", "month", "activities_total", "served_total", "status"],
    )


@app.get("/workspace/messages")
def messages():
    """The lightest signed-in page (站内消息): what a page costs beyond the rows it shows."""
    me = user()
    items = rows(
        "SELECT id, title, created_at, read_at FROM message WHERE user_id = :u "
        "ORDER BY created_at DESC, id DESC LIMIT 20 OFFSET :o",
        u=me["id"],
        o=offset(),
    )
    total = rows("SELECT COUNT(*) AS n FROM message WHERE user_id = :u", u=me["id"])[0]["n"]
    return page(
        "站内消息",
        TABLE,
        items=items,
        total=total,
        heads=["标题", "时间", "已读"],
        cols=["title", "created_at", "read_at"],
    )


def scope(me):
    return ("f.city_code = :city", {"city": me["city_code"]}) if me["role"] == "city_admin" else ("1 = 1", {})


@app.get("/reports/review")
def review():
    me = user()
    where, params = scope(me)
    items = rows(
        "SELECT f.id, i.name, r.title, f.submitted_at, f.status FROM filing f JOIN institution i ON i.id = f.institution_id "
        f"JOIN round r ON r.id = f.round_id WHERE f.kind = 'monthly_report' AND f.status = 'submitted' AND {where} "
        "ORDER BY f.submitted_at LIMIT 20 OFFSET :o",
        o=offset(),
        **params,
    )
    total = rows(
        f"SELECT COUNT(*) AS n FROM filing f WHERE f.kind = 'monthly_report' AND f.status = 'submitted' AND {where}",
        **params,
    )[0]["n"]
    return page(
        "调度数据审核",
        TABLE,
        items=items,
        total=total,
        heads=["机构名称", "调度期", "提交时间", "状态"],
        cols=["name", "title", "submitted_at", "status"],
    )


@app.get("/reports/completeness")
def completeness():
    me = user()
    where, params = scope(me)
    latest = rows("SELECT id, title FROM round WHERE kind = 'report' ORDER BY year DESC, month DESC LIMIT 1")[0]
    received = "SELECT f.institution_id FROM filing f WHERE f.round_id = :r AND f.status != 'draft'"
    by_city = rows(
        "SELECT c.name AS city, COUNT(i.id) AS institutions, "
        f"SUM(CASE WHEN i.id IN ({received}) THEN 1 ELSE 0 END) AS received "
        "FROM institution i JOIN region c ON c.code = i.city_code "
        f"WHERE {where.replace('f.city_code', 'i.city_code')} GROUP BY c.name, c.sort_order ORDER BY c.sort_order",
        r=latest["id"],
        **params,
    )
    missing = rows(
        "SELECT i.name, c.name AS city, i.contact, i.phone FROM institution i JOIN region c ON c.code = i.city_code "
        f"WHERE i.id NOT IN ({received}) AND {where.replace('f.city_code', 'i.city_code')} ORDER BY i.id LIMIT 20",
        r=latest["id"],
        **params,
    )
    body = (
        "<p>{{ latest.title }}</p><ul>{% for c in by_city %}<li>{{ c.city }} {{ c.received }}/{{ c.institutions }}</li>"
        "{% endfor %}</ul>" + TABLE
    )
    return page(
        "报送完整性",
        body,
        latest=latest,
        by_city=by_city,
        items=missing,
        total=len(missing),
        heads=["机构名称", "市州", "联系人", "电话"],
        cols=["name", "city", "contact", "phone"],
    )


STEP = """<form method="post" action="{{ request.path }}">
{% for name, value in fields %}<div class="field"><label for="{{ name }}">{{ name }}</label>
<input id="{{ name }}" name="{{ name }}" value="{{ value if value is not none else '' }}"></div>{% endfor %}
<select name="institution_type_id">{% for t in types %}<option value="{{ t.id }}"{% if t.id == report.institution_type_id %}
 selected{% endif %}>{{ t.name }}</option>{% endfor %}</select>
<table>{% for a in activities %}<tr><th>{{ a.category_name }}</th><td><input name="cat{{ a.category_id }}_activities"
 value="{{ a.activities }}"></td><td><input name="cat{{ a.category_id }}_participants" value="{{ a.participants }}">
</td><td><input name="cat{{ a.category_id }}_served" value="{{ a.served }}"></td></tr>{% endfor %}</table>
<button type="submit">下一步</button></form>"""
STEP_FIELDS = (
    "floor_area",
    "service_assets",
    "site_type",
    "staff_count",
    "bachelor_count",
    "intermediate_count",
    "revenue",
    "service_expense",
    "profit",
    "anomaly_note",
)


@app.get("/reports/<int:filing_id>/step/basic")
def step(filing_id):
    me = user()
    found = rows(
        "SELECT m.*, f.version FROM monthly_report m JOIN filing f ON f.id = m.id WHERE m.id = :f AND f.owner_id = :u",
        f=filing_id,
        u=me["id"],
    )
    if not found:
        abort(404)
    report = found[0]
    activities = rows(
        "SELECT category_id, category_name, activities, participants, served FROM report_activity "
        "WHERE report_id = :f ORDER BY sort_order",
        f=filing_id,
    )
    types = rows("SELECT id, name FROM dict_item WHERE kind = 'institution_type' ORDER BY sort_order")
    fields = [(name, report[name]) for name in STEP_FIELDS]
    if request.headers.get("HX-Request"):  # the fragment alone, as the app's step swap
        return template(STEP, full=False).render(
            request=request, fields=fields, report=report, activities=activities, types=types
        )
    return page("基本信息", STEP, fields=fields, report=report, activities=activities, types=types)
