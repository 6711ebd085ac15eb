"""Rate limits key on the real client address behind a trusted proxy (TRUSTED_PROXIES), login is
limited per account as well as per address, and logs record the real address."""

import sqlalchemy as sa

from app.audit import AuditLog
from app.blueprints.auth.models import LoginLog, UserSession
from app.extensions import db
from tests.auth.data import institution_form
from tests.factories import PASSWORD, make_province_admin
from tests.limited import limited_app


def bad_login(client, username, address=None):
    headers = {"X-Forwarded-For": address} if address else {}
    data = {"username": username, "password": "Wrong2026pass", "captcha": "TEST"}
    return client.post("/auth/login", data=data, headers=headers).status_code


def good_login(client, username, address):
    data = {"username": username, "password": PASSWORD, "captcha": "TEST"}
    return client.post("/auth/login", data=data, headers={"X-Forwarded-For": address}).status_code


def test_behind_one_proxy_two_clients_are_limited_apart(app, request):
    """One attacker failing logins on many accounts hits its own address's limit; the province
    admin at another address still logs in. The logs show each real address."""
    limited = limited_app(app, request, TRUSTED_PROXIES=1)
    with limited.app_context():
        admin = make_province_admin().username
    attacker, admin_browser = limited.test_client(), limited.test_client()
    statuses = [bad_login(attacker, f"guess{n}@example.com", "203.0.113.5") for n in range(21)]
    assert statuses[:20] == [200] * 20 and statuses[20] == 429
    assert good_login(admin_browser, admin, "198.51.100.7") == 303
    with limited.app_context():
        addresses = db.session.scalars(sa.select(LoginLog.ip).distinct()).all()
        assert sorted(addresses) == ["198.51.100.7", "203.0.113.5"]
        assert db.session.scalar(sa.select(UserSession.ip)) == "198.51.100.7"


def test_only_the_address_the_proxy_appended_counts(app, request):
    """A client's own X-Forwarded-For entries come before the proxy's: they are not trusted."""
    limited = limited_app(app, request, TRUSTED_PROXIES=1)
    client = limited.test_client()
    statuses = [bad_login(client, f"guess{n}@example.com", f"10.0.0.{n}, 203.0.113.5") for n in range(21)]
    assert statuses[20] == 429
    with limited.app_context():
        assert db.session.scalars(sa.select(LoginLog.ip).distinct()).all() == ["203.0.113.5"]


def test_without_a_trusted_proxy_the_header_is_ignored(app, request):
    """TRUSTED_PROXIES=0 (the default): a visitor cannot pick a new address per request."""
    limited = limited_app(app, request)
    client = limited.test_client()
    statuses = [bad_login(client, f"guess{n}@example.com", f"203.0.113.{n}") for n in range(21)]
    assert statuses[:20] == [200] * 20 and statuses[20] == 429
    with limited.app_context():
        assert db.session.scalars(sa.select(LoginLog.ip).distinct()).all() == ["127.0.0.1"]


def test_one_account_from_many_addresses_hits_the_per_account_limit(app, request):
    limited = limited_app(app, request, TRUSTED_PROXIES=1)
    with limited.app_context():
        admin = make_province_admin().username
    attacker = limited.test_client()
    statuses = [bad_login(attacker, "target@example.com", f"203.0.113.{n}") for n in range(31)]
    assert statuses[:30] == [200] * 30 and statuses[30] == 429
    assert bad_login(attacker, "TARGET@example.com ", "198.51.100.99") == 429  # the name as accounts compare it
    # another account, from another address, is not affected
    assert good_login(limited.test_client(), admin, "198.51.100.7") == 303


def test_the_audit_trail_records_the_real_address(app, request):
    limited = limited_app(app, request, TRUSTED_PROXIES=1)
    client = limited.test_client()
    with limited.app_context():
        form = institution_form(username="proxy@example.com")
    response = client.post("/auth/register/institution/social", data=form, headers={"X-Forwarded-For": "203.0.113.77"})
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    with limited.app_context():
        assert db.session.scalar(sa.select(AuditLog.ip).where(AuditLog.action == "account.register")) == "203.0.113.77"


def test_https_from_the_proxy_is_seen(app, request):
    limited = limited_app(app, request, TRUSTED_PROXIES=1)

    @limited.get("/_probe_scheme")
    def _probe_scheme():
        from flask import request as current

        return current.scheme

    _probe_scheme.access_policy = "public"
    response = limited.test_client().get(
        "/_probe_scheme", headers={"X-Forwarded-For": "203.0.113.5", "X-Forwarded-Proto": "https"}
    )
    assert response.get_data(as_text=True) == "https"


def test_posts_without_a_name_do_not_share_one_account_key(app, request):
    limited = limited_app(app, request, TRUSTED_PROXIES=1)
    flooder = limited.test_client()
    assert [bad_login(flooder, "", f"203.0.113.{n}") for n in range(31)][-1] == 200  # each address its own
    assert bad_login(limited.test_client(), "", "198.51.100.7") == 200
