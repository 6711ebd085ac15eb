"""登录 / 退出: one message for every failure, lockout, disabled accounts, LoginLog, safe next."""

from datetime import timedelta

import sqlalchemy as sa

from app.blueprints.auth.models import LoginLog, User, UserSession
from app.extensions import db
from app.utils import utcnow
from tests.factories import PASSWORD, make_institution
from tests.helpers import login, page, text_of

SAME_MESSAGE = "帐户名称或密码错误"


def login_message(response):
    soup = page(response)
    box = soup.select_one(".error-summary")
    return box.get_text(" ", strip=True) if box else ""


def fresh(model, ident):
    db.session.expire_all()
    return db.session.get(model, ident)


def logs():
    db.session.expire_all()
    return db.session.scalars(sa.select(LoginLog).order_by(LoginLog.id)).all()


def test_login_page(client):
    soup = page(client.get("/auth/login"))
    form = soup.find("form", attrs={"action": "/auth/login"})
    assert [i["name"] for i in form.find_all("input") if i.get("type") != "hidden"] == [
        "username",
        "password",
        "captcha",
    ]
    assert form.find("img", class_="captcha-img")["src"] == "/auth/captcha/login.png"
    assert form.find("button", string="登录")
    links = {a.get_text(): a["href"] for a in soup.select(".auth-links a")}
    assert links == {
        "注册": "/auth/register",
        "忘记密码": "/auth/forgot-password",
        "手机号变更申诉": "/auth/phone-appeal",
        "系统操作问题答疑": "/help",
    }


def test_login_success(client, app_ctx):
    user = make_institution(username="Org@Example.com")
    user.failed_logins = 3
    db.session.commit()
    response = login(client, "org@example.com")  # names ignore case
    assert response.status_code == 303 and response.headers["Location"] == "/workspace/"
    user = fresh(User, user.id)
    assert user.failed_logins == 0 and user.last_login_at is not None
    [entry] = logs()
    assert (entry.username, entry.user_id, entry.success) == ("org@example.com", user.id, True)
    assert entry.ip == "127.0.0.1" and entry.user_agent is not None
    assert db.session.scalar(sa.select(sa.func.count(UserSession.id)).where(UserSession.user_id == user.id)) == 1
    page(client.get("/workspace/"))


def test_no_audit_entry_for_logins(client, app_ctx):
    from app.audit import AuditLog

    login(client, make_institution())
    assert db.session.scalar(sa.select(sa.func.count(AuditLog.id))) == 0


def test_wrong_password_and_unknown_user_get_the_same_message(client, app_ctx):
    user = make_institution()
    wrong = login_message(login(client, user, password="Wrong2026pass"))
    unknown = login_message(login(client, "nobody@example.com"))
    assert SAME_MESSAGE in wrong and wrong == unknown
    assert [(e.user_id, e.success, e.detail) for e in logs()] == [
        (user.id, False, "密码错误"),
        (None, False, "帐户不存在"),
    ]
    assert fresh(User, user.id).failed_logins == 1


def test_passwords_are_case_sensitive(client, app_ctx):
    user = make_institution()
    assert SAME_MESSAGE in login_message(login(client, user, password=PASSWORD.upper()))


def test_typed_name_is_kept_and_password_is_not(client, app_ctx):
    user = make_institution()
    soup = page(login(client, user, password="Wrong2026pass"))
    assert soup.find("input", attrs={"name": "username"})["value"] == user.username
    assert soup.find("input", attrs={"name": "password"}).get("value") in (None, "")
    assert soup.find("input", attrs={"name": "captcha"}).get("value") in (None, "")


def test_missing_fields(client):
    soup = page(client.post("/auth/login", data={"username": "", "password": "", "captcha": ""}))
    assert {p.get_text() for p in soup.select(".error-message")} == {
        "请输入帐户名称。",
        "请输入密码。",
        "请输入验证码。",
    }


def test_lockout_after_five_failures_without_revealing_the_password(client, app_ctx):
    user = make_institution()
    for attempt in range(4):
        message = login_message(login(client, user, password=f"Wrong{attempt}pass"))
        assert "锁定" not in message
    fifth = login_message(login(client, user, password="Wrong5pass"))
    assert SAME_MESSAGE in fifth and "临时锁定" in fifth
    locked = fresh(User, user.id)
    assert locked.locked_until is not None
    assert timedelta(minutes=14) < locked.locked_until - utcnow() <= timedelta(minutes=15)
    # the right password now gets the lock message, the same as a wrong one would
    right = login_message(login(client, user))
    again_wrong = login_message(login(client, user, password="Wrong6pass"))
    assert "临时锁定" in right and right == again_wrong
    assert SAME_MESSAGE not in right
    assert client.get("/workspace/").status_code == 302
    assert [e.detail for e in logs()][-2:] == ["帐户已锁定", "帐户已锁定"]


def test_lock_message_says_until_when_in_china_time(client, app_ctx):
    from app.utils import format_datetime

    user = make_institution()
    until = utcnow() + timedelta(minutes=10)
    user.locked_until = until
    db.session.commit()
    assert format_datetime(until) in login_message(login(client, user))


def test_unlock_after_fifteen_minutes(client, app_ctx):
    user = make_institution()
    for attempt in range(5):
        login(client, user, password=f"Wrong{attempt}pass")
    locked = fresh(User, user.id)
    locked.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = login(client, user)
    assert response.status_code == 303
    unlocked = fresh(User, user.id)
    assert unlocked.locked_until is None and unlocked.failed_logins == 0


def test_after_the_lock_expires_a_wrong_password_does_not_relock_at_once(client, app_ctx):
    user = make_institution()
    for attempt in range(5):
        login(client, user, password=f"Wrong{attempt}pass")
    fresh(User, user.id).locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert "锁定" not in login_message(login(client, user, password="Wrong7pass"))


def test_unknown_names_lock_too_so_the_lock_reveals_nothing(client, app_ctx):
    messages = [login_message(login(client, "ghost@example.com", password=f"Wrong{n}pass")) for n in range(6)]
    assert "锁定" not in messages[3]
    assert "临时锁定" in messages[4] and SAME_MESSAGE in messages[4]
    assert "临时锁定" in messages[5] and SAME_MESSAGE not in messages[5]


def test_disabled_account_cannot_log_in(client, app_ctx):
    user = make_institution()
    user.status = "disabled"
    db.session.commit()
    assert "帐户已停用，请联系管理员" in login_message(login(client, user))
    # a wrong password does not reveal that the account is disabled
    assert SAME_MESSAGE in login_message(login(client, user, password="Wrong2026pass"))
    assert client.get("/workspace/").status_code == 302
    assert [e.detail for e in logs()] == ["帐户已停用", "密码错误"]


def test_safe_next(client, app_ctx):
    user = make_institution()
    response = client.post(
        "/auth/login?next=/workspace/messages",
        data={"username": user.username, "password": PASSWORD, "captcha": "TEST"},
    )
    assert response.headers["Location"] == "/workspace/messages"
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", "evil.example"):
        client.post("/auth/logout")
        response = client.post(
            "/auth/login",
            query_string={"next": evil},
            data={"username": user.username, "password": PASSWORD, "captcha": "TEST"},
        )
        assert response.headers["Location"] == "/workspace/", evil


def test_next_survives_a_failed_attempt(client, app_ctx):
    user = make_institution()
    soup = page(
        client.post(
            "/auth/login?next=/workspace/messages", data={"username": user.username, "password": "x", "captcha": "TEST"}
        )
    )
    assert soup.find("form", attrs={"action": "/auth/login?next=/workspace/messages"}) is not None


def test_login_required_page_sends_to_login_with_next(client):
    response = client.get("/workspace/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login?next=")


def test_logged_in_user_visiting_login_goes_to_the_workspace(client, app_ctx):
    login(client, make_institution())
    assert client.get("/auth/login").headers["Location"] == "/workspace/"


def test_logout_ends_the_server_side_session(client, app_ctx):
    user = make_institution()
    login(client, user)
    assert client.get("/workspace/").status_code == 200
    copied = client.get_cookie("smehn_session").value
    response = client.post("/auth/logout")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    row = db.session.scalar(sa.select(UserSession).where(UserSession.user_id == user.id))
    assert row.ended_at is not None and row.end_reason == "logout"
    client.set_cookie("smehn_session", copied)  # an attacker replays the old cookie
    response = client.get("/workspace/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")


def test_logout_says_goodbye(client, app_ctx):
    login(client, make_institution())
    soup = page(client.post("/auth/logout", follow_redirects=True))
    assert "您已安全退出" in text_of(soup)


def test_logout_is_post_only(client, app_ctx):
    login(client, make_institution())
    assert client.get("/auth/logout").status_code == 405


def test_logout_needs_csrf(app, client, app_ctx, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    login(client, make_institution(), follow=False)
    assert client.post("/auth/logout").status_code == 400


def test_login_again_ends_the_previous_session(client, app_ctx):
    first, second = make_institution(), make_institution()
    login(client, first)
    login(client, second)
    rows = db.session.scalars(sa.select(UserSession).order_by(UserSession.created_at)).all()
    assert [r.end_reason for r in rows] == ["relogin", None]


def test_login_post_is_rate_limited(app, monkeypatch):
    """Flask-Limiter reads RATELIMIT_ENABLED once, in init_app, so flipping app.config on the shared
    test app has no effect; a second app with limits on shows the limit holds."""
    from app import create_app
    from app.extensions import limiter

    for name in ("enabled", "initialized", "_storage", "_limiter"):
        if hasattr(limiter, name):
            monkeypatch.setattr(limiter, name, getattr(limiter, name))
    limited = create_app(
        {
            **{k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "UPLOAD_DIR", "SECRET_KEY")},
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
            "CAPTCHA_TEST_CODE": "TEST",
        }
    )
    client = limited.test_client()
    data = {"username": "nobody@example.com", "password": "Wrong2026pass", "captcha": "TEST"}
    statuses = [client.post("/auth/login", data=data).status_code for _ in range(21)]
    assert statuses[:20] == [200] * 20 and statuses[20] == 429
    assert client.get("/auth/login").status_code == 200  # only POSTs count
