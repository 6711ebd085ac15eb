"""Never lose typed work (issue 18, item 1): a POST after the session ended is kept against a
one-time key, and after logging in again the same page comes back with the input and a message."""

import re
from datetime import timedelta
from urllib.parse import unquote

import pytest
import time_machine

from app.utils import utcnow
from tests.applications.conftest import BASIC
from tests.applications.test_flow import new_draft
from tests.factories import PASSWORD, make_institution
from tests.helpers import login, page, text_of

INTRO = "本机构专注于中小企业融资服务。\n" * 30


@pytest.fixture(autouse=True)
def _kept_in_tmp(app, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "SAVED_FORM_DIR", str(tmp_path / "saved"))


def login_to(client, location, username):
    """Log in on the login page the redirect named (its next= kept), return where it leads."""
    response = client.post(
        location, data={"username": username, "password": PASSWORD, "captcha": "TEST"}, follow_redirects=False
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return response.headers["Location"]


def test_a_step_posted_after_the_idle_timeout_comes_back_after_login(client, app, people):
    login(client, people.institution.username)
    filing_id = new_draft(client)
    with time_machine.travel(utcnow() + timedelta(minutes=31), tick=False):
        response = client.post(f"/applications/{filing_id}/step/basic", data=dict(BASIC, intro=INTRO))
        assert response.status_code == 303
        location = response.headers["Location"]
        assert location.startswith("/auth/login?next=") and "restore" in unquote(location)
        notice = text_of(page(client.get(location)))
        assert "登录已超时" in notice and "已暂存" in notice
        back = login_to(client, location, people.institution.username)
        assert re.fullmatch(rf"/applications/{filing_id}/step/basic\?restore=[\w-]+", back)
        soup = page(client.get(back))
        assert "已恢复您在登录过期前填写的内容" in text_of(soup)
        assert soup.select_one("#intro").get_text().strip() == INTRO.strip()
        assert soup.select_one("#registered_capital")["value"] == BASIC["registered_capital"]
        # one time only
        soup = page(client.get(back))
        assert soup.select_one("#intro").get_text().strip() == "" and "无法再次恢复" in text_of(soup)


def test_htmx_gets_a_redirect_to_login_not_a_silent_error(client, people):
    login(client, people.institution.username)
    filing_id = new_draft(client)
    client.post("/auth/logout")
    response = client.post(f"/applications/{filing_id}/step/basic", data=BASIC, headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/auth/login?next=")


def test_after_logout_in_another_tab_the_stale_token_still_keeps_the_input(client, app, people, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    soup = page(client.get("/auth/login"))
    token = soup.select_one("input[name=csrf_token]")["value"]
    client.post(
        "/auth/login",
        data={"username": people.institution.username, "password": PASSWORD, "captcha": "TEST", "csrf_token": token},
    )
    soup = page(client.get("/applications/"))
    token = soup.select_one("input[name=csrf_token]")["value"]
    response = client.post("/applications/new", data={"csrf_token": token})
    filing_id = int(re.search(r"/applications/(\d+)/", response.headers["Location"]).group(1))
    step = page(client.get(f"/applications/{filing_id}/step/basic"))
    token = step.select_one("#wizard input[name=csrf_token]")["value"]
    client.post("/auth/logout", data={"csrf_token": token})  # "another tab": the session and its token are gone
    response = client.post(f"/applications/{filing_id}/step/basic", data=dict(BASIC, intro=INTRO, csrf_token=token))
    assert response.status_code == 303, "not the bare 页面已过期 page"
    location = response.headers["Location"]
    assert "您已退出登录或登录已过期" in text_of(page(client.get(location)))
    token = page(client.get(location)).select_one("input[name=csrf_token]")["value"]
    response = client.post(
        location,
        data={"username": people.institution.username, "password": PASSWORD, "captcha": "TEST", "csrf_token": token},
    )
    soup = page(client.get(response.headers["Location"]))
    assert soup.select_one("#intro").get_text().strip() == INTRO.strip()


def test_another_account_cannot_take_what_was_kept(client, app, people):
    login(client, people.institution.username)
    with time_machine.travel(utcnow() + timedelta(minutes=31), tick=False):
        location = client.post("/workspace/profile", data={"contact": "李四", "intro": INTRO}).headers["Location"]
        key = re.search(r"restore%3D([\w-]+)", location).group(1)
        with app.app_context():
            other = make_institution().username
        login(client, other)  # someone else on this browser: the same page, not the same account
        soup = page(client.get(f"/workspace/profile?restore={key}"))
        assert soup.select_one("#contact")["value"] != "李四" and "无法再次恢复" in text_of(soup)


def test_the_profile_comes_back_too(client, app, people):
    login(client, people.institution.username)
    client.post("/auth/logout")
    response = client.post("/workspace/profile", data={"contact": "李四", "intro": INTRO})
    back = login_to(client, response.headers["Location"], people.institution.username)
    soup = page(client.get(back))
    assert soup.select_one("#contact")["value"] == "李四" and "已恢复" in text_of(soup)


def test_keep_alive_answers_204_for_a_signed_in_user_only(client, people):
    assert client.get("/auth/session/keep-alive").status_code == 302
    login(client, people.institution.username)
    assert client.get("/auth/session/keep-alive").status_code == 204
    body = page(client.get("/workspace/")).body
    assert body["data-idle-timeout"] == "1800" and body["data-keepalive"] == "/auth/session/keep-alive"
