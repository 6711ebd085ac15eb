"""修改密码: checks, ends every other session, clears the forced change, audits."""

from app.audit import AuditLog
from app.blueprints.auth.models import User, UserSession
from tests.account.conftest import fresh, rows, signed_in
from tests.factories import PASSWORD, make_institution, make_province_admin
from tests.helpers import login, page, text_of

NEW = "Better2026pass"


def _change(client, current=PASSWORD, new=NEW, confirm=None):
    return client.post(
        "/workspace/password",
        data={"current_password": current, "new_password": new, "confirm_password": confirm or new},
    )


def test_page_has_the_three_fields(client, app_ctx):
    soup = page(signed_in(client, make_institution()).get("/workspace/password"))
    labels = [label.get_text(strip=True).lstrip("*") for label in soup.select("form .field > label")]
    assert labels == ["当前密码", "新密码", "确认新密码"]


def test_change_ends_other_sessions(client, app):
    # No app_ctx here: requests would share its ``g``, where Flask-Login caches the current user,
    # and the second browser would look logged in whatever its session says.
    with app.app_context():
        user = make_institution()
        user_id, username = user.id, user.username
    other = app.test_client()
    signed_in(other, username)
    signed_in(client, username)
    assert other.get("/workspace/").status_code == 200
    response = _change(client)
    assert response.status_code == 303
    assert "密码已修改" in text_of(page(client.get(response.headers["Location"])))
    # this browser stays in, the other one is out
    assert client.get("/workspace/").status_code == 200
    response = other.get("/workspace/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    with app.app_context():
        ended = rows(UserSession, UserSession.user_id == user_id, UserSession.end_reason == "password_changed")
        assert len(ended) == 1
        assert fresh(User, user_id).check_password(NEW)
        [entry] = rows(AuditLog, AuditLog.action == "account.password_change")
        assert entry.actor_id == user_id
        assert NEW not in str(entry.before) + str(entry.after) + entry.summary
    # the new password logs in, the old one does not
    assert login(app.test_client(), username, password=NEW).status_code in (302, 303)
    assert login(app.test_client(), username, password=PASSWORD).status_code == 200


def test_wrong_current_password(client, app_ctx):
    user = make_institution()
    soup = page(
        signed_in(client, user).post(
            "/workspace/password",
            data={"current_password": "Wrong2026pass", "new_password": NEW, "confirm_password": NEW},
        )
    )
    assert "当前密码不正确" in soup.find(id="field-current_password").get_text()
    assert fresh(User, user.id).check_password(PASSWORD)


def test_new_password_rules(client, app_ctx):
    user = make_institution()
    signed_in(client, user)
    cases = [
        ({"new": "short1"}, "密码至少 8 位"),
        ({"new": "onlyletters"}, "密码须同时包含字母和数字"),
        ({"new": PASSWORD}, "新密码不能与当前密码相同"),
        ({"new": NEW, "confirm": "Other2026pass"}, "两次输入的新密码不一致"),
    ]
    for kwargs, message in cases:
        soup = page(_change(client, **kwargs))
        assert message in text_of(soup.select_one(".error-summary")), message
        # passwords are never echoed back
        assert all(not tag.get("value") for tag in soup.select("input[type=password]"))
    assert fresh(User, user.id).check_password(PASSWORD)
    assert rows(AuditLog, AuditLog.action == "account.password_change") == []


def test_forced_change_is_cleared(client, app_ctx):
    user = make_province_admin(must_change_password=True)
    signed_in(client, user)
    response = client.get("/workspace/messages")
    assert response.status_code == 302 and response.headers["Location"].endswith("/workspace/password")
    soup = page(client.get("/workspace/password"))
    assert "您的密码已由管理员重置" in text_of(soup)
    assert _change(client).status_code == 303
    assert fresh(User, user.id).must_change_password is False
    assert client.get("/workspace/messages").status_code == 200
