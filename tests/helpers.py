"""Test helpers: log in through the real form, and check pages (STYLE.md item 9)."""

from collections import Counter

from bs4 import BeautifulSoup

from tests.factories import PASSWORD


def login(client, user, password=PASSWORD, follow=False):
    """Log in through the 登录 form; the test captcha code is accepted."""
    username = user if isinstance(user, str) else user.username
    return client.post(
        "/auth/login", data={"username": username, "password": password, "captcha": "TEST"}, follow_redirects=follow
    )


def page(response, status=200, fragment=False):
    """Assert the status, that forms have an action, ids are unique and fragments have no <html>."""
    assert response.status_code == status, (
        f"{response.status_code} != {status}: {response.get_data(as_text=True)[:500]}"
    )
    html = response.get_data(as_text=True)
    soup = BeautifulSoup(html, "html.parser")
    if fragment:
        assert "<html" not in html.lower(), "a fragment must not contain <html>"
    for form in soup.find_all("form"):
        assert form.get("action") is not None, f"form without action: {str(form)[:200]}"
    ids = Counter(tag["id"] for tag in soup.find_all(id=True))
    repeated = [name for name, count in ids.items() if count > 1]
    assert not repeated, f"repeated ids: {repeated}"
    return soup


def text_of(soup):
    return " ".join(soup.get_text(" ").split())


def with_module(app, monkeypatch, **contributions):
    """For one test, the app wired as if one more module declared ``contributions`` (app/modules.py)."""
    from app.blueprints import MENU_GROUPS
    from app.modules import EXTENSION_KEY, Module, merge, wiring

    extra = Module(name="test_module", blueprint=None, **contributions)
    monkeypatch.setitem(app.extensions, EXTENSION_KEY, merge((*wiring(app).modules, extra), MENU_GROUPS))
