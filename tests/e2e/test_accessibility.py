"""Accessibility of the main institution pages (issue 18, item 9): axe-core (tests/e2e/vendor/axe.min.js,
from the npm package axe-core, test-only) finds no serious or critical violation with JavaScript on,
on each page blank and with every field's error shown; with JavaScript off the same pages carry the
structure axe checks: radio groups as fieldset/legend, each field tied to its error by
aria-describedby, a red border on fields and radio groups with errors, the error summary first;
after an htmx 422 focus moves to the error summary."""

import re
from pathlib import Path

from tests.e2e.conftest import snap
from tests.e2e.flows import log_in, pick_region
from tests.factories import PASSWORD, make_institution, make_round
from tests.reports.conftest import recognise, report_round

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
RED = "rgb(198, 40, 40)"  # --red in app.css


def axe_problems(web):
    """Serious and critical violations on the page as it stands (axe runs in the page, past the CSP)."""
    web.evaluate(AXE)
    result = web.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def with_errors(web, button):
    """Submit with the browser's own checks off, so the server's message beside every field shows."""
    if web.js:
        web.evaluate("() => document.querySelectorAll('form').forEach(f => f.noValidate = true)")
    web.click(button)
    web.wait_for_selector(".error-summary")


def focus_on_summary(web):
    """After an htmx 422 (the step swapped whole), focus is on the error summary, not the body."""
    if web.js:
        web.wait_for_function("() => document.activeElement && document.activeElement.matches('.error-summary')")


def check(web, name, problems):
    snap(web, f"a11y-{name}")
    if web.js:
        problems.extend(f"{name}: {p}" for p in axe_problems(web))
    if web.locator(".error-summary").count():
        # the summary comes first, and every field with an error is tied to it and bordered red
        assert web.evaluate(
            "() => { const s = document.querySelector('.error-summary'), f = document.querySelector('.field');"
            " return !!(s.compareDocumentPosition(f) & Node.DOCUMENT_POSITION_FOLLOWING); }"
        ), name
        for field in web.locator(".field.has-error").all():
            errors = field.locator(".error-message").evaluate_all("ps => ps.map(p => p.id)")
            described = field.evaluate(
                "f => [f, ...f.querySelectorAll('input, select, textarea')]"
                ".map(e => e.getAttribute('aria-describedby') || '').join(' ')"
            )
            assert errors and all(e in described.split() for e in errors), (name, errors, described)
            control = field.locator("input:not([type=radio]):not([type=checkbox]), select, textarea, .radios").first
            colour = control.evaluate(
                "e => getComputedStyle(e).outlineStyle !== 'none' ? getComputedStyle(e).outlineColor"
                " : getComputedStyle(e).borderTopColor"
            )
            assert colour == RED, (name, field.get_attribute("id"), colour)
    # no radio group labelled by a <label for> that points at a non-control
    assert not web.evaluate(
        "() => [...document.querySelectorAll('label[for]')].filter(l => {"
        " const t = document.getElementById(l.htmlFor); return !t || !t.matches('input, select, textarea'); }).length"
    ), name
    for group in web.locator(".radios").all():
        assert group.evaluate("g => !!g.closest('fieldset') && !!g.closest('fieldset').querySelector('legend')"), name


def test_institution_pages_have_no_serious_accessibility_problems(web, app):
    with app.app_context():
        from app.utils import local_today

        today = local_today()
        make_round("application", year=today.year, title=f"{today.year}年核心服务机构申报")
        report_round(today.year, today.month)
        institution = make_institution(name="无障碍测试服务中心", city_code="430100", county_code="430102")
        recognise(institution.institution.id)
        username = institution.username
    problems = []

    web.goto("/auth/login")
    check(web, "login", problems)
    web.goto("/auth/register/institution/social")
    check(web, "register", problems)
    # what a browser lets through and the server refuses: a short 机构代码, a landline without a 手机
    web.fill("[name=username]", "a11y@example.com")
    web.fill("[name=password]", "Hunan2026abc")
    web.fill("[name=confirm]", "Hunan2026abc")
    web.check("input[name=unit_nature_id] >> nth=0")
    web.select_option("select[name=platform_id]", index=1)
    web.fill("[name=name]", "无障碍注册测试中心")
    web.fill("[name=uscc]", "123")
    web.fill("[name=contact]", "赵测试")
    web.fill("[name=phone]", "0731-88886666")
    pick_region(web)
    with_errors(web, "button:has-text('立即注册')")
    check(web, "register-errors", problems)

    log_in(web, username, PASSWORD)
    for path, name in (("/workspace/", "workspace"), ("/applications/", "applications"), ("/reports/", "reports")):
        web.goto(path)
        check(web, name, problems)

    web.goto("/applications/")
    web.click("button:has-text('机构申报')")
    web.wait_for_url(re.compile(r"/step/basic$"))
    check(web, "application-basic", problems)
    with_errors(web, "button:has-text('下一步')")
    focus_on_summary(web)
    check(web, "application-basic-errors", problems)

    web.goto("/reports/")
    web.click("button:has-text('基础数据填报') >> nth=0")
    web.wait_for_url(re.compile(r"/reports/\d+/step/basic$"))
    check(web, "report-basic", problems)
    with_errors(web, "button:has-text('下一步')")
    focus_on_summary(web)
    check(web, "report-basic-errors", problems)

    assert not problems, "\n".join(problems)
