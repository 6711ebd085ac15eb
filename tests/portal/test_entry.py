"""入口 buttons: to 登录 and back, then to the right page for the role; 企业投诉 to the public pages."""

from urllib.parse import parse_qs, urlparse

import pytest

from app.modules import Entry, wiring
from tests.factories import make_enterprise, make_institution, make_province_admin
from tests.helpers import login, with_module


def _path(response):
    assert response.status_code == 302
    return urlparse(response.headers["Location"]).path


@pytest.mark.parametrize("kind", ["apply", "report", "award"])
def test_anonymous_is_sent_to_login_and_back(client, app_ctx, kind):
    response = client.get(f"/entry/{kind}")
    location = urlparse(response.headers["Location"])
    assert _path(response) == "/auth/login"
    assert parse_qs(location.query)["next"] == [f"/entry/{kind}"]


def test_institution_goes_to_its_application_list(client, app_ctx):
    login(client, make_institution())
    assert _path(client.get("/entry/apply")) == "/applications/"


def test_admin_goes_to_the_review_list(client, app_ctx):
    login(client, make_province_admin())
    assert _path(client.get("/entry/apply")) == "/applications/review"


def test_a_role_without_a_target_goes_to_the_workspace(client, app_ctx):
    login(client, make_enterprise())
    assert _path(client.get("/entry/apply")) == "/workspace/"


@pytest.mark.parametrize("kind", ["report", "award"])
def test_modules_not_built_yet_lead_to_the_workspace(app, client, app_ctx, kind, monkeypatch):
    monkeypatch.setitem(wiring(app).entries, kind, (wiring(app).entries[kind][0], ["account.home"]))
    login(client, make_institution())
    assert _path(client.get(f"/entry/{kind}")) == "/workspace/"


def test_a_module_can_declare_its_entry(app, client, app_ctx, monkeypatch):
    with_module(app, monkeypatch, entries=(Entry("report", ("account.list_messages",)),))
    login(client, make_institution())
    assert _path(client.get("/entry/report")) == "/workspace/messages"


def test_login_with_next_lands_on_the_entry_target(client, app_ctx):
    user = make_institution()
    response = client.post(
        "/auth/login?next=/entry/apply",
        data={"username": user.username, "password": "Test2026pass", "captcha": "TEST", "next": "/entry/apply"},
    )
    assert response.status_code in (302, 303)
    assert urlparse(response.headers["Location"]).path == "/entry/apply"
    assert _path(client.get("/entry/apply")) == "/applications/"


def test_complaint_goes_to_the_public_complaint_page(client, app_ctx):
    for logged_in in (False, True):
        if logged_in:
            login(client, make_institution())
        assert _path(client.get("/entry/complaint")) == "/complaints/"


def test_unknown_kind_is_404(client):
    assert client.get("/entry/unknown").status_code == 404
