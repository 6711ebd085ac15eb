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
