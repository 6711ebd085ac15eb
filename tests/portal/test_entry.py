"""入口 buttons: to 登录 and back, to the workspace when logged in; 企业投诉 to 联系我们."""
from urllib.parse import parse_qs, urlparse

import pytest

from tests.factories import make_institution
from tests.helpers import login


@pytest.mark.parametrize("kind", ["apply", "report", "award"])
def test_anonymous_is_sent_to_login_and_back(client, app_ctx, kind):
    response = client.get(f"/entry/{kind}")
    assert response.status_code == 302
    location = urlparse(response.headers["Location"])
    assert location.path == "/auth/login"
    assert parse_qs(location.query)["next"] == [f"/entry/{kind}"]


@pytest.mark.parametrize("kind", ["apply", "report", "award"])
def test_logged_in_goes_to_the_workspace(client, app_ctx, kind):
    login(client, make_institution())
    response = client.get(f"/entry/{kind}")
    assert response.status_code == 302
    assert urlparse(response.headers["Location"]).path == "/workspace/"


def test_login_with_next_lands_on_the_entry_target(client, app_ctx):
    user = make_institution()
    response = client.post(
        "/auth/login?next=/entry/apply",
        data={"username": user.username, "password": "Test2026pass", "captcha": "TEST", "next": "/entry/apply"},
    )
    assert response.status_code in (302, 303)
    assert urlparse(response.headers["Location"]).path == "/entry/apply"
    assert urlparse(client.get("/entry/apply").headers["Location"]).path == "/workspace/"


def test_complaint_goes_to_contact(client, app_ctx):
    for logged_in in (False, True):
        if logged_in:
            login(client, make_institution())
        response = client.get("/entry/complaint")
        assert response.status_code == 302
        assert urlparse(response.headers["Location"]).path == "/contact"


def test_unknown_kind_is_404(client):
    assert client.get("/entry/unknown").status_code == 404
