"""The cache of anonymous portal pages (app/cache.py): a page is reused until a commit writes a
table of a topic it shows, or the minute turns; signed-in users always get a fresh render."""

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import g

from app import cache as page_cache
from app.blueprints.auth.models import Institution, LoginLog, UserSession
from app.blueprints.portal import services as portal_services
from app.blueprints.portal.models import Notice
from app.extensions import db
from app.filings import services as filing_services
from app.filings.models import Attachment
from app.reference.models import Region
from app.utils import utcnow
from tests.factories import make_institution, make_province_admin, make_round
from tests.helpers import login, page, text_of
from tests.portal.conftest import add_notice, recognise


def tokens():
    """The committed tokens, read on a connection of their own (not the test's snapshot)."""
    with db.engine.connect() as connection:
        return dict(connection.execute(sa.select(page_cache.CacheTopic.name, page_cache.CacheTopic.token)).all())


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


def changed(before, after):
    return {name for name in before if before[name] != after[name]}


def test_a_commit_renews_the_topics_of_the_tables_it_wrote_and_no_others(app_ctx):
    before = tokens()
    add_notice("新通知")
    assert changed(before, tokens()) == {"notices"}
    before = tokens()
    make_institution()  # an institution (and its account): the 核心服务机构 directory
    assert changed(before, tokens()) == {"directory"}


def test_bulk_statements_through_the_session_count_too(app_ctx):
    add_notice("新通知")
    before = tokens()
    db.session.execute(sa.update(Notice).values(pinned=True))  # ORM-enabled bulk UPDATE
    db.session.commit()
    middle = tokens()
    assert changed(before, middle) == {"notices"}
    db.session.execute(Region.__table__.update().where(Region.code == "430100").values(sort_order=1))  # Core
    db.session.commit()
    assert changed(middle, tokens()) == {"reference"}


def test_bookkeeping_writes_and_rollbacks_leave_the_tokens_alone(app_ctx):
    user = make_institution()
    before = tokens()
    db.session.add(UserSession(id="s" * 40, user_id=user.id, ip="127.0.0.1", user_agent="test"))
    db.session.add(LoginLog(username=user.username, user_id=user.id, ip="127.0.0.1", success=True, detail="登录成功"))
    db.session.commit()
    assert tokens() == before
    db.session.execute(sa.update(Notice).values(pinned=True))
    db.session.rollback()
    db.session.commit()
    assert tokens() == before


def test_a_filing_attachment_is_not_a_notice_attachment(app_ctx):
    user = make_institution()
    notice = add_notice("附件通知")
    before = tokens()
    db.session.add(
        Attachment(original_name="a.pdf", stored_name="x" * 40, size=1, sha256="0" * 64, uploaded_by_id=user.id)
    )
    db.session.commit()
    assert tokens() == before
    db.session.add(
        Attachment(notice_id=notice.id, original_name="b.pdf", stored_name="y" * 40, size=1, sha256="1" * 64)
    )
    db.session.commit()
    assert changed(before, tokens()) == {"notices"}


def test_a_public_page_is_reused_until_its_topic_changes(client, app_ctx, renders):
    add_notice("第一条通知")
    assert "第一条通知" in text_of(page(client.get("/notices")))
    assert "第一条通知" in text_of(page(client.get("/notices")))
    assert renders["notices"] == 1
    # another query string is another page
    page(client.get("/notices?page=1"))
    assert renders["notices"] == 2
    # a write elsewhere (a login, a new institution) keeps the notices list
    make_institution()
    page(client.get("/notices"))
    assert renders["notices"] == 2
    add_notice("第二条通知")
    text = text_of(page(client.get("/notices")))
    assert "第二条通知" in text and renders["notices"] == 3


def test_a_renamed_institution_shows_at_once_in_the_directory(client, app_ctx):
    user = make_institution(name="旧名称服务中心")
    recognise(user)
    institution = user.institution
    assert "旧名称服务中心" in text_of(page(client.get("/institutions")))
    db.session.execute(sa.update(Institution).where(Institution.id == institution.id).values(name="新名称服务中心"))
    db.session.commit()
    text = text_of(page(client.get("/institutions")))
    assert "新名称服务中心" in text and "旧名称服务中心" not in text


def test_a_change_behind_the_orms_back_shows_after_topics_renew(client, app_ctx, renders):
    """A restore or a hand-made SQL change: ``topics_renew`` (run by flask restore) gives every
    topic a new token, and tokens are random, so no earlier page is served again."""
    add_notice("第一条通知")
    page(client.get("/notices"))
    with db.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE notice SET title = '手工改过的通知'")
    assert "第一条通知" in text_of(page(client.get("/notices")))  # cached: nothing told the cache
    before = tokens()
    page_cache.topics_renew()
    assert changed(before, tokens()) == set(page_cache.TOPICS)
    assert "手工改过的通知" in text_of(page(client.get("/notices")))


def test_signed_in_users_always_get_a_fresh_page(app, app_ctx, renders):
    make_round(kind="report")
    one = make_institution(name="甲服务机构")
    client = app.test_client()
    login(client, one)
    for _ in range(2):
        assert "甲服务机构" in text_of(page(client.get("/reports/")))
        page(client.get("/notices"))
    assert renders["filings"] == 2 and renders["notices"] == 2
    # 管理首页 shows who is online (user_session): never cached, always current
    admin = make_province_admin()
    admin_client = app.test_client()
    login(admin_client, admin)
    assert admin_client.get("/admin/").status_code == 200


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


def test_data_kept_by_topic_is_computed_again_only_when_its_topic_moves(app):
    calls = []

    def compute():
        calls.append(1)
        return {"figure": len(calls)}

    with app.test_request_context():
        assert page_cache.by_topics((page_cache.DIRECTORY,), "k", compute) == {"figure": 1}
        assert page_cache.by_topics((page_cache.DIRECTORY,), "k", compute) == {"figure": 1}
        assert page_cache.by_topics((page_cache.DIRECTORY,), "other key", compute) == {"figure": 2}
        add_notice("别的主题")  # another topic: kept
        assert page_cache.by_topics((page_cache.DIRECTORY,), "k", compute) == {"figure": 1}
        make_institution()  # the directory: computed again (the commit renews the request's tokens too)
        assert page_cache.by_topics((page_cache.DIRECTORY,), "k", compute) == {"figure": 3}


def test_a_signed_in_home_page_counts_a_new_recognition_at_once(app, app_ctx):
    viewer = make_institution(name="看首页的机构")
    client = app.test_client()
    login(client, viewer)
    before = text_of(page(client.get("/")))
    recognise(make_institution(name="刚认定的机构"))
    after = text_of(page(client.get("/")))
    assert "刚认定的机构" not in before and "刚认定的机构" in after


def test_a_rolled_back_savepoint_does_not_forget_the_enclosing_writes(app_ctx):
    before = tokens()
    db.session.add(Notice(title="外层事务的通知", body="正文"))
    db.session.flush()
    savepoint = db.session.begin_nested()
    db.session.execute(sa.select(1))
    savepoint.rollback()
    db.session.commit()
    assert changed(before, tokens()) == {"notices"}


def test_reference_data_read_once_per_request_follows_a_commit_that_renames_it(app, monkeypatch):
    """A request asks for 市州 names many times: the first use checks the reference version, later
    ones take the request's memo, and a commit that changed the reference data drops the memo."""
    from app.reference import services as reference

    checks = []
    real = reference.topic_tokens
    monkeypatch.setattr(reference, "topic_tokens", lambda names: checks.append(names) or real(names))
    with app.test_request_context():
        city = db.session.scalar(sa.select(Region).where(Region.level == "city").order_by(Region.code).limit(1))
        code, name = city.code, city.name
        db.session.commit()
        try:
            for _ in range(20):
                assert reference.region_name(code) == name
            assert len(checks) == 1  # the version checked once, then the request's memo
            db.session.execute(sa.update(Region).where(Region.code == code).values(name="改名后的市州"))
            db.session.commit()
            assert reference.region_name(code) == "改名后的市州"
            assert len(checks) == 2
        finally:
            db.session.execute(sa.update(Region).where(Region.code == code).values(name=name))
            db.session.commit()


def test_a_signed_in_request_reads_the_tokens_with_its_session(app, app_ctx):
    """The session loader's statement carries the topics' tokens: a signed-in page that checks the
    reference lists or the 首页's figures against them runs no statement of its own for them."""
    viewer = make_institution(name="看工作台的机构")
    client = app.test_client()
    login(client, viewer)
    client.get("/")
    statements = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", seen)
    try:
        for path in ("/", "/workspace/", "/workspace/profile"):
            statements.clear()
            assert client.get(path).status_code == 200, path
            assert statements, path
            assert not [s for s in statements if s.lstrip().startswith("SELECT cache_topic.name")], path
            assert "cache_topic" in statements[0] or "cache_topic" in statements[1], path  # BEGIN may come first
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", seen)
