"""图形验证码 used once even when the request that used it rolls back, or two use it at once; and
忘记密码 answers alike whether or not 帐户名称 and 绑定手机号 match (only a match gets an SMS)."""

from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.sms import SmsMessage
from app.utils import utcnow
from app.verification import CaptchaChallenge, SmsCode
from tests.auth.test_captcha import answer_for
from tests.concurrency import Visitor, at_once
from tests.factories import PASSWORD, make_institution
from tests.helpers import page, text_of

PHONE = "13955550101"
OTHER_PHONE = "13955550102"


def cookie_name(app):
    return app.config["SESSION_COOKIE_NAME"]


def forgot(client, username, phone, captcha):
    return client.post("/auth/forgot-password", data={"username": username, "phone": phone, "captcha": captcha})


def answer(response):
    """What a visitor can observe: status, where it leads, the page text."""
    return response.status_code, response.headers.get("Location"), text_of(page(response, response.status_code))


def messages_sent(phone):
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count(SmsMessage.id)).where(SmsMessage.phone == phone))


def age_codes():
    """A minute later: the phone's 1-a-minute rule no longer applies."""
    db.session.execute(sa.update(SmsCode).values(created_at=utcnow() - timedelta(minutes=2)))
    db.session.commit()


def test_a_solved_captcha_cannot_be_replayed_with_the_old_cookie(app, client, monkeypatch):
    """The unmatched pair commits nothing itself; the captcha's deletion must not roll back with
    it. (No app_ctx: each request must end its own database session, as in production.)"""
    monkeypatch.setitem(app.config, "CAPTCHA_TEST_CODE", None)
    with app.app_context():
        solved = answer_for(client, "forgot")
    old_cookie = client.get_cookie(cookie_name(app)).value
    first = forgot(client, "nobody@example.com", OTHER_PHONE, solved)
    assert first.status_code == 303
    client.set_cookie(cookie_name(app), old_cookie)  # replay: the cookie still names the challenge
    replay = forgot(client, "nobody@example.com", OTHER_PHONE, solved)
    assert replay.status_code == 200 and "验证码错误" in replay.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CaptchaChallenge)) == 0


def test_a_captcha_used_by_a_form_with_errors_is_gone_too(app, client, monkeypatch):
    """A form with another field wrong commits nothing: its captcha must still be used up."""
    monkeypatch.setitem(app.config, "CAPTCHA_TEST_CODE", None)
    with app.app_context():
        solved = answer_for(client, "forgot")
    old_cookie = client.get_cookie(cookie_name(app)).value
    refused = forgot(client, "nobody@example.com", "12345", solved)
    assert refused.status_code == 200 and "请输入正确的 11 位手机号码" in refused.get_data(as_text=True)
    client.set_cookie(cookie_name(app), old_cookie)
    replay = forgot(client, "nobody@example.com", OTHER_PHONE, solved)
    assert replay.status_code == 200 and "验证码错误" in replay.get_data(as_text=True)


def test_a_refused_login_uses_up_its_captcha_too(app, client, app_ctx, monkeypatch):
    monkeypatch.setitem(app.config, "CAPTCHA_TEST_CODE", None)
    user = make_institution()
    solved = answer_for(client, "login")
    old_cookie = client.get_cookie(cookie_name(app)).value
    data = {"username": user.username, "password": "Wrong2026pass", "captcha": solved}
    assert "验证码错误" not in client.post("/auth/login", data=data).get_data(as_text=True)
    client.set_cookie(cookie_name(app), old_cookie)
    assert "验证码错误" in client.post("/auth/login", data=data).get_data(as_text=True)


def test_two_requests_at_once_with_one_captcha_only_one_passes(app, live_server, monkeypatch):
    monkeypatch.setitem(app.config, "CAPTCHA_TEST_CODE", None)
    with app.app_context():
        user = make_institution()
        username = user.username
    first, second = Visitor(live_server), Visitor(live_server)
    assert first.get("/auth/captcha/login.png").status_code == 200
    session = app.session_interface.get_signing_serializer(app).loads(first.http.cookies[cookie_name(app)])
    with app.app_context():
        solved = db.session.get(CaptchaChallenge, session["captcha_login"]).answer
    second.http.cookies.set(cookie_name(app), first.http.cookies[cookie_name(app)])  # the same cookie twice
    data = {"username": username, "password": PASSWORD, "captcha": solved}
    responses = at_once(lambda: first.post("/auth/login", data), lambda: second.post("/auth/login", data))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200, 303], statuses
    refused = next(response for response in responses if response.status_code == 200)
    assert "验证码错误" in refused.text


def test_step_one_answers_alike_for_a_matching_and_a_wrong_pair(app, app_ctx):
    user = make_institution(phone=PHONE)
    pairs = {
        "matching": (user.username, PHONE),
        "wrong name": ("nobody@example.com", PHONE),
        "wrong phone": (user.username, OTHER_PHONE),
    }
    answers = {}
    for label, (username, phone) in pairs.items():
        age_codes()
        browser = app.test_client()
        sent = forgot(browser, username, phone, "TEST")
        followed = browser.get(sent.headers["Location"])
        # a second browser asks again at once: the phone's own limit, whether or not the pair matches
        again = forgot(app.test_client(), username, phone, "TEST")
        answers[label] = [answer(sent), answer(followed), answer(again)]
        answers[label] = [
            tuple(part.replace(phone[-4:], "####") if isinstance(part, str) else part for part in item)
            for item in answers[label]
        ]
    assert answers["matching"] == answers["wrong name"] == answers["wrong phone"]
    assert answers["matching"][0][:2] == (303, "/auth/forgot-password/reset")
    assert "验证码发送过于频繁" in answers["matching"][2][2]
    assert messages_sent(PHONE) == 1 and messages_sent(OTHER_PHONE) == 0


def test_the_daily_limit_answers_alike_too(app, app_ctx):
    user = make_institution(phone=PHONE)
    for phone in (PHONE, OTHER_PHONE):
        for hours in range(10):
            db.session.add(
                SmsCode(
                    phone=phone,
                    purpose="reset",
                    code_hash="x",
                    created_at=utcnow() - timedelta(hours=hours + 1),
                    expires_at=utcnow(),
                )
            )
    db.session.commit()
    matching = answer(forgot(app.test_client(), user.username, PHONE, "TEST"))
    wrong = answer(forgot(app.test_client(), user.username, OTHER_PHONE, "TEST"))
    assert matching == wrong and "今日获取验证码次数已达上限" in matching[2]
    assert messages_sent(PHONE) == 0


def test_step_two_answers_alike_try_after_try(app, app_ctx):
    """Wrong codes, then too many tries: the same messages whether a code was really sent or not."""
    user = make_institution(phone=PHONE)
    runs = {}
    for label, (username, phone) in {
        "matching": (user.username, PHONE),
        "wrong name": ("nobody@example.com", OTHER_PHONE),
    }.items():
        browser = app.test_client()
        assert forgot(browser, username, phone, "TEST").status_code == 303
        tries = [
            browser.post(
                "/auth/forgot-password/reset",
                data={"sms_code": "000000", "password": "Fresh2026pass", "confirm": "Fresh2026pass"},
            )
            for _ in range(6)
        ]
        weak = browser.post(
            "/auth/forgot-password/reset", data={"sms_code": "000000", "password": "abcdefgh", "confirm": "abcdefgh"}
        )
        runs[label] = [[p.get_text() for p in page(r).select(".error-message")] for r in [*tries, weak]]
    assert runs["matching"] == runs["wrong name"]
    assert runs["matching"][0] == ["短信验证码不正确。"]
    assert runs["matching"][5] == ["短信验证码错误次数过多，请重新获取。"]
