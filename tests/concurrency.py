"""Tools for tests that really run requests at the same time against the live server.

``live_server`` (tests/conftest.py) serves the test app with one thread per request, so two
requests here are two transactions racing in the database: SQLite serialises the writers (BEGIN
IMMEDIATE), PostgreSQL does not. Each ``Visitor`` is its own cookie jar, like a second tab or a
second person.
"""

import re
import threading

import requests

from tests.factories import PASSWORD

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Visitor:
    """One browser (its own cookies) talking to the live server."""

    def __init__(self, base_url):
        self.base = base_url
        self.http = requests.Session()

    def get(self, path, **kwargs):
        return self.http.get(self.base + path, allow_redirects=False, timeout=60, **kwargs)

    def post(self, path, data=None, **kwargs):
        data = dict(data or {})
        if "csrf_token" not in data and self.csrf_token:
            data["csrf_token"] = self.csrf_token
        return self.http.post(self.base + path, data=data, allow_redirects=False, timeout=60, **kwargs)

    csrf_token = None

    def fetch_token(self, path):
        """Read the CSRF token of the form on ``path`` (needed when CSRF is switched on)."""
        match = CSRF.search(self.get(path).text)
        self.csrf_token = match.group(1) if match else None
        return self.csrf_token

    def log_in(self, user, password=PASSWORD):
        username = user if isinstance(user, str) else user.username
        response = self.post("/auth/login", {"username": username, "password": password, "captcha": "TEST"})
        assert response.status_code in (302, 303), f"login failed: {response.status_code} {response.text[:300]}"
        return self


def at_once(*calls, timeout=120):
    """Run each zero-argument call in its own thread, released together by a barrier; return their
    results in order (an exception in a call is re-raised here)."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)
    errors = []

    def run(index, call):
        try:
            barrier.wait(timeout=30)
            results[index] = call()
        except BaseException as error:  # noqa: BLE001 - reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i, call), daemon=True) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a parallel request did not finish in time"
    if errors:
        raise errors[0]
    return results
