"""图形验证码: images per scope, a real check when CAPTCHA_TEST_CODE is unset, single use."""

import pytest

from app.extensions import db
from app.verification import CaptchaChallenge
from tests.factories import PASSWORD, make_institution


def answer_for(client, scope):
    """Fetch the image as a browser would, then read its answer from the server-side row."""
    assert client.get(f"/auth/captcha/{scope}.png").status_code == 200
    with client.session_transaction() as session:
        token = session[f"captcha_{scope}"]
    db.session.expire_all()
    return db.session.get(CaptchaChallenge, token).answer


@pytest.mark.parametrize("scope", ["login", "forgot", "appeal", "complaint", "lookup"])
def test_captcha_image(client, scope):
    response = client.get(f"/auth/captcha/{scope}.png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert response.headers["Cache-Control"] == "no-store"


def test_unknown_scope_is_404(client):
    assert client.get("/auth/captcha/admin.png").status_code == 404


def test_real_captcha_wrong_then_right_once_only(app, client, app_ctx, monkeypatch):
    monkeypatch.setitem(app.config, "CAPTCHA_TEST_CODE", None)
    user = make_institution()
    answer = answer_for(client, "login")
    wrong = "AAAA" if answer != "AAAA" else "BBBB"
    response = client.post("/auth/login", data={"username": user.username, "password": PASSWORD, "captcha": wrong})
    assert response.status_code == 200 and "验证码错误" in response.get_data(as_text=True)
    # the test code is no longer a way in
    response = client.post("/auth/login", data={"username": user.username, "password": PASSWORD, "captcha": "TEST"})
    assert "验证码错误" in response.get_data(as_text=True)
    answer = answer_for(client, "login")
    response = client.post(
        "/auth/login", data={"username": user.username, "password": PASSWORD, "captcha": answer.lower()}
    )
    assert response.status_code == 303
    client.post("/auth/logout")
    # the same answer cannot be used a second time
    response = client.post("/auth/login", data={"username": user.username, "password": PASSWORD, "captcha": answer})
    assert response.status_code == 200 and "验证码错误" in response.get_data(as_text=True)


def test_a_captcha_for_one_form_does_not_open_another(app, client, app_ctx, monkeypatch):
    monkeypatch.setitem(app.config, "CAPTCHA_TEST_CODE", None)
    user = make_institution()
    answer = answer_for(client, "forgot")
    response = client.post("/auth/login", data={"username": user.username, "password": PASSWORD, "captcha": answer})
    assert "验证码错误" in response.get_data(as_text=True)


def test_a_wrong_captcha_is_logged_but_does_not_count_towards_the_lock(app, client, app_ctx, monkeypatch):
    import sqlalchemy as sa

    from app.blueprints.auth.models import LoginLog, User

    monkeypatch.setitem(app.config, "CAPTCHA_TEST_CODE", None)
    user = make_institution()
    for _ in range(6):
        answer_for(client, "login")
        client.post("/auth/login", data={"username": user.username, "password": PASSWORD, "captcha": "ZZZZ"})
    db.session.expire_all()
    assert db.session.get(User, user.id).failed_logins == 0
    details = db.session.scalars(sa.select(LoginLog.detail)).all()
    assert details == ["验证码错误"] * 6
