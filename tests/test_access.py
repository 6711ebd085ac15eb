"""The access policy: every endpoint declares one, and each role reaches only what it should."""

import pytest

from app.access import ALL_ROLES, LOGIN, PUBLIC, policy_of
from tests.factories import ROLE_FACTORIES
from tests.helpers import login


def test_every_endpoint_declares_a_policy(app):
    with app.test_request_context():
        undeclared = sorted(rule.endpoint for rule in app.url_map.iter_rules() if policy_of(rule.endpoint) is None)
    assert undeclared == [], f"endpoints without an access policy: {undeclared}"


def test_an_undeclared_endpoint_is_refused(app):
    """A view added without a declaration answers 403, not its content."""
    from app import create_app

    other = create_app({**{k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "TESTING")}})
    other.add_url_rule("/__undeclared_probe", "undeclared_probe", lambda: "secret")
    response = other.test_client().get("/__undeclared_probe")
    assert response.status_code == 403
    assert b"secret" not in response.data
    with other.app_context():
        other.extensions["sqlalchemy"].engine.dispose()


def _plain_get_endpoints(app):
    """Endpoints reachable by GET without URL arguments, with their policies."""
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.arguments or rule.endpoint == "static":
                continue
            yield rule.rule, rule.endpoint, policy_of(rule.endpoint)


def test_anonymous_reaches_public_pages_only(app, client):
    for path, endpoint, policy in _plain_get_endpoints(app):
        response = client.get(path)
        if policy == PUBLIC:
            assert response.status_code in (200, 302, 303), (endpoint, response.status_code)
        else:
            assert response.status_code == 302, (endpoint, response.status_code)
            assert "/auth/login" in response.headers["Location"], endpoint


@pytest.mark.parametrize("role", ALL_ROLES)
def test_role_matrix(app, client, role):
    """Each role opens what its policy allows and gets 403 everywhere else."""
    with app.app_context():
        username = ROLE_FACTORIES[role]().username
    assert login(client, username).status_code in (302, 303)
    checked = 0
    for path, endpoint, policy in _plain_get_endpoints(app):
        if endpoint == "auth.logout":
            continue
        response = client.get(path)
        if policy in (PUBLIC, LOGIN) or role in policy:
            assert response.status_code != 403, (role, endpoint)
        else:
            assert response.status_code == 403, (role, endpoint, response.status_code)
        checked += 1
    assert checked > 10


@pytest.mark.parametrize("role", (None,) + ALL_ROLES)
def test_every_post_form_carries_a_csrf_token(app, client, monkeypatch, role):
    """With CSRF on (as in production) every POST form on every page a role can open has a token."""
    from bs4 import BeautifulSoup

    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    if role:
        with app.app_context():
            username = ROLE_FACTORIES[role]().username
        token = BeautifulSoup(client.get("/auth/login").data, "html.parser").find("input", {"name": "csrf_token"})[
            "value"
        ]
        response = client.post(
            "/auth/login",
            data={"username": username, "password": "Test2026pass", "captcha": "TEST", "csrf_token": token},
        )
        assert response.status_code in (302, 303), response.data[:300]
    missing = []
    for path, endpoint, _policy in _plain_get_endpoints(app):
        if endpoint == "auth.logout":
            continue
        response = client.get(path)
        if response.status_code != 200 or not response.mimetype == "text/html":
            continue
        for form in BeautifulSoup(response.data, "html.parser").find_all("form"):
            if (form.get("method") or "get").lower() == "post" and not form.find("input", {"name": "csrf_token"}):
                missing.append((endpoint, form.get("action")))
    assert missing == [], f"POST forms without a CSRF token: {missing}"
