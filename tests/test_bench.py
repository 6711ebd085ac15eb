"""The benchmark's pieces that need no load (bench/mix.py, bench/run.py's session cookies): `make bench` runs the load."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import mix  # noqa: E402


def sessions():
    out = [{"role": "institution", "cookie": f"c{n}", "draft": 10 + n, "approved": 5} for n in range(6)]
    out += [{"role": "city_admin", "cookie": "a", "review_target": 3, "pool": [1, 2]}]
    out += [{"role": "province_admin", "cookie": "p", "pool": []}]
    out += [{"role": "anonymous", "notice_id": 1, "institution_id": 2}]
    return out


def test_one_request_in_five_is_a_write():
    for share in (0.0, 0.25, 0.9):
        plan = mix.build_plan(sessions(), 200, anonymous_share=share, seed=3)
        reads, writes = mix.requests_in(plan)
        assert writes * 5 == reads + writes


def test_every_signed_in_session_is_used_and_anonymous_visitors_only_read():
    s = sessions()
    plan = mix.build_plan(s, 100, seed=4)
    used = {index for index, _ in plan}
    assert {i for i, x in enumerate(s) if x["role"] != "anonymous"} <= used
    for index, actions in plan:
        if s[index]["role"] == "anonymous":
            assert all(kind == "read" for kind, _ in actions)


def test_reads_are_pages_of_the_role():
    s = sessions()
    for index, actions in mix.build_plan(s, 50, seed=5):
        keys = {key for key, _label, _path in mix.read_pages(s[index]["role"], s[index])}
        assert all(what in keys for kind, what in actions if kind == "read")


def test_form_fields_reads_what_the_form_would_send():
    html = """<form action="/other"><input name="x" value="1"></form>
    <form method="post" action="/reports/7/step/basic"><input type="hidden" name="csrf_token" value="t">
    <input type="hidden" name="version" value="3"><input name="staff_count" value="12">
    <select name="site_type"><option value="">请选择</option><option value="租用" selected>租用</option></select>
    <input type="radio" name="action" value="approve" checked><input type="radio" name="action" value="return">
    <textarea name="anomaly_note">说明</textarea><button type="submit" name="go">下一步</button></form>"""
    fields = mix.form_fields(html, "/reports/7/step/basic")
    assert fields == [
        ["csrf_token", "t"],
        ["version", "3"],
        ["staff_count", "12"],
        ["site_type", "租用"],
        ["action", "approve"],
        ["anomaly_note", "说明"],
    ]
    assert mix.form_fields(html, "/missing") is None
    assert ["staff_count", "40"] in mix.set_field(fields, "staff_count", "40")


def test_budget_check_exits_1_on_a_miss():
    good = [{"name": "mix", "errors": 0, "p95_ms": 80}]
    assert mix.exit_code(mix.check_budgets(good, [("首页", "SQLite", 0.7)])) == 0
    missed = mix.check_budgets(
        [{"name": "mix", "errors": 2, "p95_ms": 140}], [("首页", "SQLite", 0.7), ("审核", "PostgreSQL", 0.3)]
    )
    assert len(missed) == 3
    assert mix.exit_code(missed) == 1
    rendered = [("首页", "SQLite", 10, 6.0), ("审核", "SQLite", 7, 6.1), ("列表", "PostgreSQL", 11, 2.0)]
    missed = mix.check_budgets(good, [], rendered)
    assert [m.split(" ")[0] for m in missed] == ["审核", "列表"]
    assert "6.1 ms, 7 statements" in missed[0] and "11 statements" in missed[1]


def test_percentile_and_partition():
    assert mix.percentile(list(range(1, 101)), 0.95) == 95
    assert mix.percentile([], 0.5) is None
    assert mix.partition(list(range(7)), 3) == [[0, 3, 6], [1, 4], [2, 5]]


def test_wrk_replays_the_cookie_a_browser_holds_after_its_first_page(app):
    """The login's cookie has no CSRF token yet, so replayed as it is every page would make one and
    sign a new cookie; the cookie after the first page is the one a browser sends from then on.
    (No app context stays pushed: Flask-WTF keeps the request's token in ``g``.)"""
    import run

    from app.extensions import db
    from tests.factories import make_institution

    with app.app_context():
        user = make_institution()
        login_cookie = run._session_for(app, user.id)
        db.session.commit()
    name = app.config["SESSION_COOKIE_NAME"]

    def sets_cookie(cookie):
        client = app.test_client()
        client.set_cookie(name, cookie, domain="localhost")
        response = client.get("/workspace/messages")
        assert response.status_code == 200
        return bool(response.headers.getlist("Set-Cookie"))

    assert sets_cookie(login_cookie)  # the token is added: a new cookie
    held = run._after_first_page(app, name, login_cookie)
    assert held != login_cookie
    assert not sets_cookie(held)
    assert not sets_cookie(held)  # and again: nothing left to add
