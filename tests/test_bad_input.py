"""Malformed input never gives 500 (issue 13 item 7): every endpoint in ``app.url_map`` is requested,
as a user its policy admits, with a 20-digit id in every ``<int:...>`` argument, with NUL bytes and
oversized or odd numbers in the query string, and with NUL bytes in a form body; and every POST
form on every page a role can open is submitted with control characters and huge numbers in
each of its fields. Only 400/404 (or ordinary pages and redirects) may come back, on SQLite and
PostgreSQL, and every error is the Chinese error page."""

import re

import pytest
from bs4 import BeautifulSoup

from app.access import ALL_ROLES, LOGIN, PUBLIC, policy_of
from app.extensions import db
from app.inputs import IdConverter
from tests.factories import ROLE_FACTORIES, make_round
from tests.helpers import login

HUGE = "99999999999999999999"
ARGUMENT_RE = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
# every query parameter the views read as a number, and the search box
QUERY_NAMES = (
    "q",
    "year",
    "page",
    "institution_id",
    "round_id",
    "month_from",
    "month_to",
    "quarter",
    "institution_type_id",
    "user_id",
    "back_user",
    "status",
    "city_code",
    "kind",
)
SKIP = {"static", "auth.logout"}  # logging out would end the session the sweep runs in


@pytest.fixture
def clients(app):
    """One signed-in client per role, and an anonymous one (None)."""
    with app.app_context():
        make_round("application")
        make_round("award")
        names = {role: ROLE_FACTORIES[role]().username for role in ALL_ROLES}
        db.session.remove()
    result = {None: app.test_client()}
    for role, username in names.items():
        client = app.test_client()
        assert login(client, username).status_code in (302, 303)
        result[role] = client
    return result


def _client_for(clients, endpoint):
    policy = policy_of(endpoint)
    if policy == PUBLIC:
        return clients[None]
    return clients["institution" if policy == LOGIN else policy[0]]


def _url(rule, int_value):
    def fill(match):
        converter = match.group(1) or "default"
        return int_value if converter == "int" else "x"

    return ARGUMENT_RE.sub(fill, rule.rule)


def _check(response, allowed, what):
    assert response.status_code in allowed, (what, response.status_code, response.get_data(as_text=True)[:300])
    if response.status_code in (400, 404):
        text = response.get_data(as_text=True)
        assert "请求无效" in text or "页面不存在" in text or "页面已过期" in text, (what, text[:300])


def test_every_int_argument_is_a_bounded_id(app):
    from werkzeug.routing import IntegerConverter

    converters = [
        c for rule in app.url_map.iter_rules() for c in rule._converters.values() if isinstance(c, IntegerConverter)
    ]
    assert converters and all(isinstance(c, IdConverter) and c.max == 2**31 - 1 for c in converters)


@pytest.mark.parametrize("value", [HUGE, "2147483648", "0", "%C2%B2"])
def test_a_20_digit_id_in_any_path_is_not_found(app, clients, value):
    checked = 0
    with app.test_request_context():
        rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint not in SKIP and "<int:" in rule.rule]
        chosen = [(rule, _client_for(clients, rule.endpoint)) for rule in rules]
    for rule, client in chosen:
        for method in sorted(rule.methods & {"GET", "POST"}):
            response = client.open(_url(rule, value), method=method)
            _check(response, (404,), (method, rule.rule))
            checked += 1
    assert checked > 30


@pytest.mark.parametrize("value", [HUGE, "²", "-" + HUGE, "1e5", "１２"])
def test_odd_numbers_in_the_query_string_never_fail(app, clients, value):
    query = {name: value for name in QUERY_NAMES if name != "q"}
    checked = 0
    with app.test_request_context():
        chosen = [
            (rule, _client_for(clients, rule.endpoint))
            for rule in app.url_map.iter_rules()
            if rule.endpoint not in SKIP and "GET" in rule.methods
        ]
    for rule, client in chosen:
        response = client.get(_url(rule, "1"), query_string=query)
        _check(response, (200, 204, 302, 303, 400, 403, 404), rule.rule)  # 204: keep-alive
        checked += 1
    assert checked > 50


@pytest.mark.parametrize("value", [HUGE, "²", "-" + HUGE])
def test_odd_numbers_in_a_form_body_never_fail(app, clients, value):
    with app.test_request_context():
        chosen = [
            (rule, _client_for(clients, rule.endpoint))
            for rule in app.url_map.iter_rules()
            if rule.endpoint not in SKIP and "POST" in rule.methods
        ]
    for rule, client in chosen:
        data = {name: [value, value] for name in QUERY_NAMES}
        _check(client.post(_url(rule, "1"), data=data), (200, 302, 303, 400, 403, 404, 409, 422), rule.rule)


def test_odd_result_keys_are_ignored(app, clients):
    """优秀评选 results come as result_<id> keys: "²" passes str.isdigit() but is no id."""
    import sqlalchemy as sa

    from app.filings.models import Round

    with app.app_context():
        round_id = db.session.scalar(sa.select(Round.id).where(Round.kind == "award"))
    for key in ("result_²", f"result_{HUGE}", "result_-1"):
        response = clients["province_admin"].post(
            f"/awards/admin/products/results?round_id={round_id}", data={key: "1"}
        )
        _check(response, (303,), key)


def test_nul_in_the_query_string_is_a_bad_request(app, clients):
    with app.test_request_context():
        chosen = [
            (rule, _client_for(clients, rule.endpoint))
            for rule in app.url_map.iter_rules()
            if rule.endpoint not in SKIP and "GET" in rule.methods
        ]
    for rule, client in chosen:
        response = client.get(_url(rule, "1") + "?q=%00&year=2026")
        _check(response, (400,) if "<int:" not in rule.rule else (400, 404), rule.rule)


def test_nul_in_a_form_body_is_a_bad_request(app, clients):
    checked = 0
    with app.test_request_context():
        chosen = [
            (rule, _client_for(clients, rule.endpoint))
            for rule in app.url_map.iter_rules()
            if rule.endpoint not in SKIP and "POST" in rule.methods
        ]
    for rule, client in chosen:
        data = {"q": "\x00", "name": "机构\x00名称", "username": "a\x00b", "password": "x\x00", "intro": "简介\x00"}
        _check(client.post(_url(rule, "1"), data=data), (400, 404), rule.rule)
        checked += 1
    assert checked > 30


def test_a_nul_in_a_file_name_is_a_bad_request(app, clients):
    import io

    response = clients["institution"].post(
        "/applications/new", data={"files": (io.BytesIO(b"x"), "a\x00.pdf")}, content_type="multipart/form-data"
    )
    _check(response, (400,), "file name")


def _forms(html):
    """(action, {name: value}) of every POST form on a page, with every text field filled in."""
    soup = BeautifulSoup(html, "html.parser")
    for form in soup.find_all("form"):
        if (form.get("method") or "get").lower() != "post":
            continue
        names = {}
        for field in form.find_all(["input", "textarea", "select"]):
            name = field.get("name")
            if not name or field.get("type") in ("file", "submit", "button", "hidden") and name != "csrf_token":
                continue
            names[name] = field.get("value") or ""
        yield form.get("action"), names


@pytest.mark.parametrize("value", ["\x0b联系人\x01" + HUGE, HUGE, "²", "-" + HUGE + "\t\r\n"])
@pytest.mark.parametrize("role", (None,) + ALL_ROLES)
def test_every_form_takes_control_characters_and_huge_numbers(app, clients, role, value):
    client = clients[role]
    with app.test_request_context():
        pages = [
            rule.rule
            for rule in app.url_map.iter_rules()
            if "GET" in rule.methods and not rule.arguments and rule.endpoint not in SKIP
        ]
    posted = 0
    for path in pages:
        response = client.get(path)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        for action, fields in _forms(response.get_data(as_text=True)):
            if not action or "logout" in action or action.startswith("http"):
                continue
            data = {name: value for name in fields}
            answer = client.post(action, data=data)
            _check(answer, (200, 302, 303, 400, 403, 404, 405, 409, 422, 429), (path, action))
            posted += 1
    assert posted > 0, role
