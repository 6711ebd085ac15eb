"""Browser tests: Debian's Chromium driven by Playwright against the app served on loopback.

Each flow runs twice, with JavaScript on and off (the `web` fixture is parametrised).
Without /usr/bin/chromium the tests are skipped with a message, unless E2E_REQUIRED=1 (CI).
"""

import os

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = os.environ.get("E2E_SCREENSHOTS")  # a folder: save a picture of each checked page


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        message = "浏览器测试已跳过：未找到 /usr/bin/chromium（Debian: apt-get install chromium）"
        if os.environ.get("E2E_REQUIRED") == "1":
            pytest.fail(message.replace("已跳过", "无法运行") + "；E2E_REQUIRED=1 不允许跳过。")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(params=[True, False], ids=["js", "nojs"])
def web(request, browser, live_server, app, monkeypatch):
    """A fresh browser tab; ``web.js`` tells whether JavaScript is on. CSRF is on, as in production."""
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    context = browser.new_context(
        java_script_enabled=request.param, base_url=live_server, viewport={"width": 1366, "height": 900}, locale="zh-CN"
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    tab.js = request.param
    yield tab
    context.close()


def snap(tab, name):
    """Save a screenshot when E2E_SCREENSHOTS names a folder (for looking at pages)."""
    if SCREENSHOTS:
        os.makedirs(SCREENSHOTS, exist_ok=True)
        tab.screenshot(path=os.path.join(SCREENSHOTS, f"{name}-{'js' if tab.js else 'nojs'}.png"), full_page=True)
