"""The page cache (app/cache.py): a page is reused until something is written or the minute turns,
and never across sessions; access is checked before the cache is consulted."""

import io
import os
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import g
from openpyxl import load_workbook

from app import cache as page_cache
from app.blueprints.auth.models import LoginLog, UserSession
from app.blueprints.portal import services as portal_services
from app.blueprints.reports import export as export_module
from app.extensions import db
from app.filings import services as filing_services
from app.utils import utcnow
from tests.factories import make_city_admin, make_institution, make_province_admin, make_round
from tests.helpers import login, page, text_of
from tests.portal.conftest import add_notice


def version():
    """The committed version, read on a connection of its own (not the test's snapshot)."""
    with db.engine.connect() as connection:
        return connection.execute(sa.text("SELECT version FROM content_version WHERE id = 1")).scalar_one()


@pytest.fixture
def renders(monkeypatch):
    """Count how often the notices list and the filing lists are really rendered (with the page
    cache's clock held still, so a minute turning mid-test cannot add a render)."""
    calls = {"notices": 0, "filings": 0}
    still = utcnow()
    monkeypatch.setattr(page_cache, "utcnow", lambda: still)

    def counting(name, real):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return real(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(portal_services, "notice_list", counting("notices", portal_services.notice_list))
    monkeypatch.setattr(filing_services, "owner_filings", counting("filings", filing_services.owner_filings))
    return calls


def test_a_content_write_bumps_the_version_in_its_transaction(app_ctx):
    before = version()
    add_notice("新通知")
    assert version() == before + 1
    # a Core statement (imports, seed-scale, rebuild-stats) counts too
    with db.engine.begin() as connection:
        connection.execute(sa.text("UPDATE notice SET pinned = pinned"))
    assert version() == before + 2


def test_bookkeeping_writes_and_rollbacks_leave_the_version_alone(app_ctx):
    user = make_institution()
    before = version()
    db.session.add(UserSession(id="s" * 40, user_id=user.id, ip="127.0.0.1", user_agent="test"))
    db.session.add(LoginLog(username=user.username, user_id=user.id, ip="127.0.0.1", success=True, detail="登录成功"))
    db.session.commit()
    assert version() == before
    db.session.execute(sa.text("UPDATE notice SET pinned = pinned"))
    db.session.rollback()
    assert version() == before


def test_a_public_page_is_reused_until_something_is_written(client, app_ctx, renders):
    add_notice("第一条通知")
    assert "第一条通知" in text_of(page(client.get("/notices")))
    assert "第一条通知" in text_of(page(client.get("/notices")))
    assert renders["notices"] == 1
    # another query string is another page
    page(client.get("/notices?page=1"))
    assert renders["notices"] == 2
    add_notice("第二条通知")
    text = text_of(page(client.get("/notices")))
    assert "第二条通知" in text and renders["notices"] == 3


def test_pages_turn_over_with_the_minute(client, app_ctx, renders, monkeypatch):
    clock = [datetime(2026, 11, 26, 9, 0, 10)]
    monkeypatch.setattr(page_cache, "utcnow", lambda: clock[0])
    page(client.get("/notices"))
    clock[0] += timedelta(seconds=40)  # 09:00:50, same minute
    page(client.get("/notices"))
    assert renders["notices"] == 1
    clock[0] += timedelta(seconds=20)  # 09:01:10: a notice scheduled for 09:01 is due now
    page(client.get("/notices"))
    assert renders["notices"] == 2


def test_a_scheduled_notice_appears_when_its_minute_comes(client, app_ctx, monkeypatch):
    due = (utcnow() + timedelta(minutes=2)).replace(second=0, microsecond=0)
    add_notice("定时发布的通知", days_ago=0)
    notice = db.session.scalar(sa.text("SELECT id FROM notice"))
    db.session.execute(sa.text("UPDATE notice SET published_at = :at WHERE id = :id"), {"at": due, "id": notice})
    db.session.commit()
    assert "定时发布的通知" not in text_of(page(client.get("/notices")))
    monkeypatch.setattr(page_cache, "utcnow", lambda: due)
    monkeypatch.setattr(portal_services, "utcnow", lambda: due)
    assert "定时发布的通知" in text_of(page(client.get("/notices")))


def test_each_session_gets_its_own_pages(app, app_ctx, renders):
    make_round(kind="report")
    one, two = make_institution(name="甲服务机构"), make_institution(name="乙服务机构")
    first, second = app.test_client(), app.test_client()
    login(first, one)
    login(second, two)
    for client, name in ((first, "甲服务机构"), (second, "乙服务机构"), (first, "甲服务机构")):
        text = text_of(page(client.get("/reports/")))
        assert name in text
    assert renders["filings"] == 2  # one render per session; the third request was a hit


def test_access_is_checked_before_the_cache(app, app_ctx):
    admin, institution = make_province_admin(), make_institution()
    admin_client, other = app.test_client(), app.test_client()
    login(admin_client, admin)
    page(admin_client.get("/reports/review"))
    login(other, institution)
    assert other.get("/reports/review").status_code == 403
    # an ended session sees the login page, not the page cached for it
    db.session.execute(sa.update(UserSession).where(UserSession.user_id == admin.id).values(ended_at=utcnow()))
    db.session.commit()
    response = admin_client.get("/reports/review")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_a_page_that_shows_a_flash_message_is_not_stored(client, app_ctx, renders):
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "已保存")]
    assert "已保存" in text_of(page(client.get("/notices")))
    assert "已保存" not in text_of(page(client.get("/notices")))
    assert renders["notices"] == 2


def test_an_anonymous_page_with_a_csrf_token_is_not_stored(app):
    with app.test_request_context("/notices"):
        response = app.response_class("<form>…</form>")
        assert page_cache._storable(response)
        g.csrf_token = "a token for this visitor only"
        assert not page_cache._storable(response)
        assert not page_cache._storable(app.response_class("", status=404))


def test_an_export_is_kept_per_version_and_reviewer_scope(app, app_ctx, monkeypatch):
    writes = []
    real_rows = export_module.rows
    monkeypatch.setattr(export_module, "rows", lambda *a: (writes.append(1), real_rows(*a))[1])
    province, city = make_province_admin(), make_city_admin(city_code="430100")
    province_client, city_client = app.test_client(), app.test_client()
    login(province_client, province)
    login(city_client, city)

    def sheet(client):
        response = client.get("/reports/export.xlsx?year=2025")
        assert response.status_code == 200
        return load_workbook(io.BytesIO(response.data)).active.max_row

    assert sheet(province_client) == sheet(province_client) == 1  # headers only, written once
    assert len(writes) == 1
    sheet(city_client)  # another scope, another file
    assert len(writes) == 2
    add_notice("任意写入")  # any write: the next export is written afresh
    sheet(province_client)
    assert len(writes) == 3
    # only the current version's files stay on disk
    folder = app.config["DOWNLOAD_CACHE_DIR"]
    assert all(name.startswith(f"{version()}-") for name in os.listdir(folder))


def test_an_htmx_fragment_and_the_full_page_are_kept_apart(client, app_ctx):
    fragment = client.get("/institutions?q=服务", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment.lower()
    full = client.get("/institutions?q=服务").get_data(as_text=True)
    assert "<html" in full.lower()
    # a history restore asks for the whole page under htmx's header
    restore = client.get("/institutions?q=服务", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restore.get_data(as_text=True).lower()
    assert (
        "<html" not in client.get("/institutions?q=服务", headers={"HX-Request": "true"}).get_data(as_text=True).lower()
    )
