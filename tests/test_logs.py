"""Log lines carry the request id, the user id and the client's real address (app/logs.py); the
response returns the request id; a visitor cannot choose it unless the request came through the
trusted proxy."""

import logging
import re

import pytest
from flask_login import current_user

from app.access import login as login_required
from app.logs import LOG_FORMAT, RequestContextFilter
from tests.factories import make_institution
from tests.helpers import login
from tests.limited import limited_app

HEX_ID = re.compile(r"[0-9a-f]{32}")
NGINX_ID = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def probe(app, request):
    """An app like the suite's with one extra page that logs a line; ``probe(**config)``."""

    def build(**config):
        built = limited_app(app, request, RATELIMIT_ENABLED=False, **config)

        @login_required
        def log_something():
            assert current_user.is_authenticated  # loads the user, as any real page does
            logging.getLogger("app.probe").warning("probe line")
            return "ok"

        built.add_url_rule("/_probe/log", "probe_log", log_something)
        return built

    return build


def probe_records(caplog):
    return [record for record in caplog.records if record.name == "app.probe"]


def test_a_line_names_the_request_the_user_and_the_address(probe, caplog, capsys):
    app = probe()
    with app.app_context():
        user_id = make_institution(username="log@example.com").id
    client = app.test_client()
    login(client, "log@example.com")
    caplog.set_level(logging.INFO)
    response = client.get("/_probe/log", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == 200
    request_id = response.headers["X-Request-ID"]
    assert HEX_ID.fullmatch(request_id)
    (record,) = probe_records(caplog)
    assert (record.request_id, record.client_addr, record.user_id) == (request_id, "203.0.113.9", str(user_id))
    # the line as written to stderr (the journal), in LOG_FORMAT
    line = next(text for text in capsys.readouterr().err.splitlines() if "probe line" in text)
    assert f"WARNING [{request_id}] 203.0.113.9 user={user_id} app.probe: probe line" in line


def test_without_a_trusted_proxy_the_visitor_cannot_choose_the_id_or_the_address(probe, caplog):
    app = probe(TRUSTED_PROXIES=0)
    with app.app_context():
        make_institution(username="log@example.com")
    client = app.test_client()
    login(client, "log@example.com")
    caplog.set_level(logging.INFO)
    response = client.get(
        "/_probe/log",
        headers={"X-Request-ID": NGINX_ID, "X-Forwarded-For": "198.51.100.7"},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    request_id = response.headers["X-Request-ID"]
    assert request_id != NGINX_ID and HEX_ID.fullmatch(request_id)
    (record,) = probe_records(caplog)
    assert (record.request_id, record.client_addr) == (request_id, "203.0.113.9")


def test_behind_nginx_the_id_and_the_address_come_from_it(probe, caplog):
    app = probe(TRUSTED_PROXIES=1)
    with app.app_context():
        make_institution(username="log@example.com")
    client = app.test_client()
    login(client, "log@example.com")
    caplog.set_level(logging.INFO)
    # the visitor wrote 1.2.3.4 itself; nginx appended the address it saw
    response = client.get(
        "/_probe/log",
        headers={"X-Request-ID": NGINX_ID, "X-Forwarded-For": "1.2.3.4, 198.51.100.7", "X-Forwarded-Proto": "https"},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
    assert response.headers["X-Request-ID"] == NGINX_ID
    (record,) = probe_records(caplog)
    assert (record.request_id, record.client_addr) == (NGINX_ID, "198.51.100.7")


@pytest.mark.parametrize("given", ["short", "x" * 129, "id with spaces in it", "<script>alert(1)</script>"])
def test_an_id_that_does_not_look_like_one_is_replaced(probe, given):
    response = probe(TRUSTED_PROXIES=1).test_client().get("/healthz", headers={"X-Request-ID": given})
    assert HEX_ID.fullmatch(response.headers["X-Request-ID"])


def test_every_response_carries_an_id_errors_and_refusals_included(client):
    ids = [client.get(path).headers["X-Request-ID"] for path in ("/", "/no-such-page", "/applications/", "/healthz")]
    assert all(HEX_ID.fullmatch(value) for value in ids) and len(set(ids)) == 4


def test_anonymous_and_outside_a_request_show_dashes(app, probe, caplog):
    caplog.set_level(logging.INFO)
    anonymous = probe().test_client().get("/_probe/log")  # refused: login first
    assert anonymous.status_code in (302, 303) and HEX_ID.fullmatch(anonymous.headers["X-Request-ID"])
    record = logging.LogRecord("app.cli", logging.INFO, __file__, 1, "outside", None, None)
    RequestContextFilter().filter(record)
    assert logging.Formatter(LOG_FORMAT).format(record).endswith("INFO [-] - user=- app.cli: outside")
