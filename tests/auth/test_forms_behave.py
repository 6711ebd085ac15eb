"""Forms that behave (issue 18, item 5): Enter submits the main action, 换一张 keeps what was
typed, counters show the range the server checks."""

import re

from tests.helpers import page


def first_submit(form):
    return form.find(lambda tag: tag.name in ("button", "input") and tag.get("type") == "submit")


def test_captcha_refresh_without_js_keeps_typed_fields_and_checks_nothing(client):
    response = client.post(
        "/auth/forgot-password",
        data={"username": "someone@example.com", "phone": "13800000000", "captcha": "", "captcha_refresh": "1"},
    )
    soup = page(response)
    assert soup.select_one("#username")["value"] == "someone@example.com"
    assert soup.select_one("#phone")["value"] == "13800000000"
    assert not soup.select(".error-summary"), "换一张 is not a submission: no errors"
    assert soup.select_one("#captcha").get("value", "") == ""


def test_captcha_refresh_on_login_and_complaint_lookup(client):
    soup = page(client.post("/auth/login", data={"username": "a@example.com", "password": "x", "captcha_refresh": "1"}))
    assert soup.select_one("#username")["value"] == "a@example.com" and not soup.select(".error-summary")
    soup = page(client.post("/complaints/results", data={"phone": "13900000000", "captcha_refresh": "1"}))
    assert soup.select_one("#phone")["value"] == "13900000000" and not soup.select(".error-summary")


def test_captcha_refresh_with_htmx_replaces_only_the_image(client):
    soup = page(client.get("/auth/login"))
    button = soup.find("button", string="看不清？换一张")
    assert button["hx-get"] == "/auth/captcha/login/new" and button["hx-target"] == "#captcha-img-login"
    assert button.has_attr("formnovalidate") and button["name"] == "captcha_refresh"
    response = client.get("/auth/captcha/login/new", headers={"HX-Request": "true"})
    fragment = page(response, fragment=True)
    img = fragment.select_one("img#captcha-img-login")
    assert re.fullmatch(r"/auth/captcha/login\.png\?r=[0-9a-f]+", img["src"])
    assert client.get("/auth/captcha/admin/new").status_code == 404


def test_enter_submits_the_main_action_before_captcha_refresh(client):
    for url in ("/auth/login", "/auth/forgot-password", "/auth/phone-appeal", "/complaints/results"):
        form = page(client.get(url)).select_one("main form[method=post]")
        default = first_submit(form)
        # the form's default button carries no name: the main action, never 换一张
        assert not default.get("name") and not default.get("formaction"), url


def test_reset_step_two_enter_resets_rather_than_resending(client):
    with client.session_transaction() as session:
        session["password_reset"] = {
            "username": "a@example.com",
            "phone": "13800000000",
            "sent_at": "2026-01-01T00:00:00",
        }
    form = page(client.get("/auth/forgot-password/reset")).select_one("main form")
    buttons = form.find_all("button")
    assert buttons[0].get_text() == "重置密码" and not buttons[0].get("formaction")
    assert buttons[1].get_text() == "重新获取验证码" and buttons[1]["formaction"] == "/auth/forgot-password/resend"


def test_counter_shows_the_range_the_server_checks(client, app):
    # 荣誉资质 300-500 字 (CharCount(minimum, maximum)), 申诉理由 10-500 字 (Length)
    soup = page(client.get("/auth/phone-appeal"))
    reason = soup.select_one("#reason")
    assert reason["data-counter"] == "500" and reason["data-counter-min"] == "10"
    with app.test_request_context():
        from flask import render_template_string

        from app.blueprints.awards.forms import InstitutionBasicForm

        form = InstitutionBasicForm(meta={"csrf": False})
        html = render_template_string(
            '{% from "_macros/forms.html" import field %}{{ field(form.honors, counter=500) }}{{ field(form.intro, counter=800) }}',
            form=form,
        )
    assert 'data-counter-min="300"' in html and html.count("data-counter-min") == 1
