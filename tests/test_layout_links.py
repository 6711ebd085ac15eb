"""The layout's links (banner, main navigation, footer, side menu) are built once per process and
script root: the same as url_for would build them, and a deployment under a path prefix gets its own."""

import re

from flask import url_for

from tests.factories import make_province_admin
from tests.helpers import login

LAYOUT = ("portal.index", "portal.list_notices", "portal.big_data", "portal.contact", "portal.help", "account.home")


def _links(html):
    return re.findall(r'(?:href|action)="([^"]+)"', html)


def test_links_match_url_for_at_the_root_and_under_a_prefix(app, client, app_ctx):
    admin = make_province_admin()
    login(client, admin.username)
    first = client.get("/admin/").get_data(as_text=True)
    assert _links(client.get("/admin/").get_data(as_text=True)) == _links(first)
    for prefix in ("", "/hnsme"):
        with app.test_request_context(environ_overrides={"SCRIPT_NAME": prefix}):
            expected = [url_for(endpoint) for endpoint in LAYOUT + ("admin.list_users",)]
        html = client.get("/admin/", environ_overrides={"SCRIPT_NAME": prefix}).get_data(as_text=True)
        assert all(f'href="{url}"' in html for url in expected), prefix
        if prefix:
            local = [link for link in _links(html) if link.startswith("/")]
            assert local and all(link.startswith(prefix + "/") for link in local), local
    assert _links(client.get("/admin/").get_data(as_text=True)) == _links(first)  # the root's kept apart


def test_page_url_builds_what_url_for_builds(app):
    """Templates' url_for (app.menus.page_url) keeps each endpoint's URL shape per script root: for
    every rule of the app whose arguments are all ids, and for calls it leaves to url_for (query
    arguments, None, text, relative endpoints), the same URL as url_for."""
    from app.menus import page_url

    rules = [r for r in app.url_map.iter_rules() if r.arguments]
    ids_only = [r for r in rules if all(f"<int:{name}>" in r.rule for name in r.arguments)]
    assert len(ids_only) > 30
    for prefix in ("", "/hnsme"):
        with app.test_request_context(environ_overrides={"SCRIPT_NAME": prefix}):
            for rule in ids_only:
                if len(list(app.url_map.iter_rules(rule.endpoint))) != 1:
                    continue
                for value in (1, 42, 2**31 - 9, 2_000_000_000):
                    values = {name: value + n for n, name in enumerate(sorted(rule.arguments, reverse=True))}
                    assert page_url(rule.endpoint, **values) == url_for(rule.endpoint, **values), rule.rule
            calls = [
                ("reports.review_report", {"filing_id": 3, "back": "?page=2&status=submitted"}),
                ("reports.review_report", {"filing_id": 3, "back": None}),
                ("reports.edit_report", {"filing_id": 3, "slug": "basic"}),
                ("portal.list_notices", {"page": 2}),
                ("portal.index", {}),
                ("reports.show_report", {"filing_id": True}),
            ]
            for endpoint, values in calls:
                assert page_url(endpoint, **values) == url_for(endpoint, **values), (endpoint, values)


def test_page_url_outside_a_request_is_url_for(app):
    """A template rendered outside a request (no script root to key by) gets url_for's own URL."""
    from app.menus import page_url

    app.config["SERVER_NAME"] = "hnsme.example.gov.cn"
    try:
        with app.app_context():
            assert page_url("reports.show_report", filing_id=5) == url_for("reports.show_report", filing_id=5)
            assert page_url("reports.show_report", filing_id=5).startswith("http://hnsme.example.gov.cn/")
    finally:
        app.config["SERVER_NAME"] = None


def test_page_url_leaves_urls_to_url_for_when_a_url_defaults_hook_exists():
    """A url_defaults hook may add an argument to any URL, which a kept shape would miss."""
    from flask import Flask

    from app.menus import page_url

    other = Flask("other")
    other.add_url_rule("/reports/<int:filing_id>", "show", lambda filing_id: "")

    @other.url_defaults
    def add_lang(endpoint, values):
        values.setdefault("lang", "zh")

    with other.test_request_context():
        assert page_url("show", filing_id=5) == url_for("show", filing_id=5) == "/reports/5?lang=zh"
