"""A page view (GET) never writes inside its own transaction (DESIGN.md, Security): bookkeeping
such as a session's last-seen time goes through app.database.write_aside, in a transaction of its
own, so reads never wait for or fail on writers. The ``writes_in_gets`` fixture (tests/conftest.py)
watches every test; the tests here visit each role's pages with a last-seen time to touch."""

from datetime import timedelta

import sqlalchemy as sa

from app.blueprints.auth.models import UserSession
from app.extensions import db
from app.inbox import notify
from app.utils import utcnow
from tests.factories import make_city_admin, make_expert, make_institution, make_province_admin
from tests.helpers import login

PAGES = {
    None: [
        "/",
        "/notices",
        "/institutions",
        "/auth/login",
        "/complaints/",
        "/big-data",
        "/excellent/institutions",
        "/search?q=服务",
    ],
    "institution": [
        "/workspace/",
        "/workspace/profile",
        "/workspace/messages",
        "/reports/",
        "/applications/",
        "/awards/institutions/",
    ],
    "city_admin": [
        "/admin/",
        "/reports/review",
        "/reports/completeness",
        "/applications/review",
        "/complaints/admin",
        "/admin/users",
    ],
    "province_admin": [
        "/admin/",
        "/reports/review",
        "/reports/completeness",
        "/reports/stats",
        "/admin/users",
        "/admin/audit",
        "/admin/sms",
        "/notices/manage",
        "/awards/admin/",
        "/rounds/",
    ],
    "expert": ["/workspace/", "/awards/reviews/"],
}


def _users():
    return {
        "institution": make_institution(),
        "city_admin": make_city_admin("430100"),
        "province_admin": make_province_admin(),
        "expert": make_expert(),
    }


def test_page_views_write_nothing_in_their_transaction(app, app_ctx, writes_in_gets):
    users = _users()
    notify(users["institution"], "消息", "内容")
    db.session.commit()
    statuses = []
    for role, paths in PAGES.items():
        client = app.test_client()
        if role:
            login(client, users[role])
            # an old last-seen time: the next page view touches it (once a minute at most)
            _age_sessions()
        for path in paths:
            statuses.append((path, client.get(path).status_code))
    assert all(code < 500 for _, code in statuses), statuses
    assert all(code in (200, 302) for _, code in statuses), statuses  # the list above names real pages
    assert writes_in_gets == []


def test_the_last_seen_time_is_touched_aside(app, app_ctx, client, writes_in_gets):
    user = make_institution()
    login(client, user)
    _age_sessions()
    before = db.session.scalar(sa.select(UserSession.last_seen_at))
    assert client.get("/workspace/").status_code == 200
    db.session.rollback()
    assert db.session.scalar(sa.select(UserSession.last_seen_at)) > before
    assert writes_in_gets == []


def _age_sessions():
    db.session.execute(sa.update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()


def test_a_busy_database_does_not_fail_a_page(app, app_ctx, client):
    """While another transaction holds the lock the touch needs, the page is still served (the
    touch is skipped after a moment, and made on a later page view)."""
    user = make_institution()
    login(client, user)
    _age_sessions()
    with db.engine.connect() as blocker:
        blocker.info["write"] = True
        try:
            with blocker.begin():
                # SQLite: the database's write lock; PostgreSQL: the session row's lock
                blocker.execute(sa.select(UserSession.id).with_for_update())
                blocker.execute(sa.update(UserSession).values(user_agent="x"))
                assert client.get("/workspace/").status_code == 200
        finally:
            blocker.info.pop("write", None)
