"""忘记密码: account + bound mobile + captcha → SMS code → new password; the SMS code rules."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.audit import AuditLog
from app.blueprints.auth import services
from app.blueprints.auth.models import User, UserSession
from app.extensions import db
from app.sms import SmsMessage
from app.utils import utcnow
from app.verification import SmsCode, VerificationError
from tests.auth.data import NEW_PASSWORD, last_sms_code
from tests.factories import make_institution
from tests.helpers import login, page, text_of

PHONE = "13955550001"


def start(client, username, phone=PHONE):
    return client.post("/auth/forgot-password", data={"username": username, "phone": phone, "captcha": "TEST"})


def finish(client, code, password=NEW_PASSWORD, confirm=None):
    return client.post(
        "/auth/forgot-password/reset", data={"sms_code": code, "password": password, "confirm": confirm or password}
    )


def sms_count(phone=PHONE):
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count(SmsMessage.id)).where(SmsMessage.phone == phone))


def field_errors(soup, name):
    return [p.get_text() for p in soup.select(f"#field-{name} .error-message")]


def test_step_one_page(client):
    soup = page(client.get("/auth/forgot-password"))
    text = text_of(soup)
    assert [
        i["name"] for i in soup.select("form[action='/auth/forgot-password'] input") if i.get("type") != "hidden"
    ] == ["username", "phone", "captcha"]
    assert soup.find("img", class_="captcha-img")["src"] == "/auth/captcha/forgot.png"
    assert "手机号变更申诉" in text and "0731-89706287" in text


def test_full_reset_flow(client, app):
    # No app_ctx here: with an app context pushed, Flask reuses it (and its g, where Flask-Login
    # caches the user) for every request, so two clients would share one login.
    with app.app_context():
        user = make_institution(phone=PHONE)
        user.must_change_password = True
        db.session.commit()
        user_id, username = user.id, user.username
    other_device = app.test_client()
    login(other_device, username)
    assert other_device.get("/workspace/").status_code in (200, 302)
    response = start(client, username.upper())
    assert response.status_code == 303 and response.headers["Location"] == "/auth/forgot-password/reset"
    with app.app_context():
        text = db.session.scalar(sa.select(SmsMessage.text).where(SmsMessage.phone == PHONE))
        code = last_sms_code(PHONE)
    assert text.startswith("【湖南省中小企业服务中心】您正在重置密码，验证码 ") and "10 分钟内有效" in text
    soup = page(client.get("/auth/forgot-password/reset"))
    assert "139****0001" in text_of(soup)
    assert soup.find("button", string="重新获取验证码")["formaction"] == "/auth/forgot-password/resend"
    response = finish(client, code)
    assert response.status_code == 303 and response.headers["Location"] == "/auth/login"
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user.check_password(NEW_PASSWORD) and not user.must_change_password
        assert (
            db.session.scalar(sa.select(AuditLog.action).where(AuditLog.target_id == str(user_id)))
            == "account.password_reset"
        )
        assert "重置成功" in db.session.scalar(sa.select(SmsMessage.text).order_by(SmsMessage.id.desc()).limit(1))
        # every session of the account has ended, including the other device's
        assert db.session.scalar(sa.select(sa.func.count(UserSession.id)).where(UserSession.ended_at.is_(None))) == 0
    response = other_device.get("/workspace/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")
    assert "密码已重置" in text_of(page(client.get("/auth/login")))
    assert login(client, username).status_code == 200  # the old password no longer works
    assert login(client, username, password=NEW_PASSWORD).status_code == 303


def test_a_pair_that_matches_nothing_shows_the_same_next_page_but_sends_nothing(client, app_ctx):
    user = make_institution(phone=PHONE)
    matched = start(client, user.username)
    matched_page = text_of(page(client.get(matched.headers["Location"])))
    other = client.application.test_client()
    for username, phone in (("nobody@example.com", PHONE), (user.username, "13955550002")):
        # a minute on: the phone's own 1-a-minute rule applies to every pair, matched or not
        db.session.execute(sa.update(SmsCode).values(created_at=utcnow() - timedelta(minutes=2)))
        db.session.commit()
        response = start(other, username, phone)
        assert response.status_code == 303 and response.headers["Location"] == matched.headers["Location"]
        unmatched_page = text_of(page(other.get(response.headers["Location"])))
        assert unmatched_page.replace(phone[-4:], "####") == matched_page.replace(PHONE[-4:], "####")
    assert sms_count(PHONE) == 1 and sms_count("13955550002") == 0
    soup = page(finish(other, "123456"))
    assert field_errors(soup, "sms_code") == ["短信验证码不正确。"]


def test_no_code_for_a_landline_or_a_disabled_account(client, app_ctx):
    landline = make_institution(phone="0731-88886666")
    page(
        client.post(
            "/auth/forgot-password", data={"username": landline.username, "phone": "0731-88886666", "captcha": "TEST"}
        )
    )
    disabled = make_institution(phone=PHONE)
    disabled.status = "disabled"
    db.session.commit()
    assert start(client, disabled.username).status_code == 303
    assert db.session.scalar(sa.select(sa.func.count(SmsMessage.id))) == 0


def test_step_one_needs_a_mobile_and_the_captcha(app, client, monkeypatch):
    soup = page(
        client.post("/auth/forgot-password", data={"username": "a@b.cn", "phone": "0731-88886666", "captcha": "TEST"})
    )
    assert field_errors(soup, "phone") == ["请输入正确的 11 位手机号码。"]
    monkeypatch.setitem(app.config, "CAPTCHA_TEST_CODE", None)
    soup = page(start(client, "a@b.cn"))
    assert field_errors(soup, "captcha") == ["验证码错误，请重新输入。"]
    assert soup.find("input", attrs={"name": "username"})["value"] == "a@b.cn"


def test_step_two_without_step_one_goes_back(client):
    assert client.get("/auth/forgot-password/reset").headers["Location"] == "/auth/forgot-password"
    assert client.post("/auth/forgot-password/resend").headers["Location"] == "/auth/forgot-password"


def test_resend_respects_one_per_minute_for_any_pair(client, app_ctx):
    user = make_institution(phone=PHONE)
    start(client, user.username)
    soup = page(client.post("/auth/forgot-password/resend", data={"sms_code": "12"}))
    assert field_errors(soup, "sms_code") == ["验证码发送过于频繁，请 1 分钟后再试。"]
    assert soup.find("input", attrs={"name": "sms_code"})["value"] == "12"
    assert soup.find("form", attrs={"action": "/auth/forgot-password/reset"}) is not None
    other = client.application.test_client()
    start(other, "nobody@example.com", "13955550009")
    soup = page(other.post("/auth/forgot-password/resend"))
    assert field_errors(soup, "sms_code") == ["验证码发送过于频繁，请 1 分钟后再试。"]
    # a minute later a new code is sent, and the old one stops working
    old_code = last_sms_code(PHONE)
    with client.session_transaction() as session:
        state = session["password_reset"]
        state["sent_at"] = (utcnow() - timedelta(minutes=2)).isoformat()
        session["password_reset"] = state
    db.session.execute(sa.update(SmsCode).values(created_at=utcnow() - timedelta(minutes=2)))
    db.session.commit()
    response = client.post("/auth/forgot-password/resend")
    assert response.status_code == 303
    assert sms_count() == 2
    if last_sms_code(PHONE) != old_code:  # two random codes coincide once in a million
        assert field_errors(page(finish(client, old_code)), "sms_code") == ["短信验证码不正确。"]


def test_ten_codes_a_day_at_most(client, app_ctx):
    user = make_institution(phone=PHONE)
    for hours in range(10):
        db.session.add(
            SmsCode(
                phone=PHONE,
                purpose="reset",
                code_hash="x",
                created_at=utcnow() - timedelta(hours=hours + 1),
                expires_at=utcnow(),
            )
        )
    db.session.commit()
    soup = page(start(client, user.username))
    assert field_errors(soup, "phone") == ["该手机号今日获取验证码次数已达上限，请明天再试或联系技术人员。"]
    assert sms_count() == 0


def test_five_tries_at_most(client, app_ctx):
    user = make_institution(phone=PHONE)
    start(client, user.username)
    code = last_sms_code(PHONE)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert field_errors(page(finish(client, wrong)), "sms_code") == ["短信验证码不正确。"]
    assert field_errors(page(finish(client, code)), "sms_code") == ["短信验证码错误次数过多，请重新获取。"]
    db.session.expire_all()
    assert not db.session.get(User, user.id).check_password(NEW_PASSWORD)


def test_expired_code(client, app_ctx):
    user = make_institution(phone=PHONE)
    start(client, user.username)
    db.session.execute(sa.update(SmsCode).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert field_errors(page(finish(client, last_sms_code(PHONE))), "sms_code") == ["短信验证码已失效，请重新获取。"]


def test_code_is_single_use(app_ctx):
    user = make_institution(phone=PHONE)
    services.password_reset_code_send(username=user.username, phone=PHONE)
    code = last_sms_code(PHONE)
    services.password_reset(username=user.username, phone=PHONE, code=code, password=NEW_PASSWORD)
    with pytest.raises(VerificationError):
        services.password_reset(username=user.username, phone=PHONE, code=code, password="Other2026pass")


def test_weak_or_mismatched_new_password_keeps_the_code_usable(client, app_ctx):
    user = make_institution(phone=PHONE)
    start(client, user.username)
    code = last_sms_code(PHONE)
    soup = page(finish(client, code, password="abcdefgh"))
    assert field_errors(soup, "password") == ["密码须同时包含字母和数字。"]
    assert soup.find("input", attrs={"name": "sms_code"})["value"] == code
    soup = page(finish(client, code, password=NEW_PASSWORD, confirm="Other2026pass"))
    assert field_errors(soup, "confirm") == ["两次输入的密码不一致。"]
    assert finish(client, code).status_code == 303
