"""Server-side sessions: idle and absolute timeouts end a login; an ended session stays ended."""

from datetime import timedelta

import sqlalchemy as sa

from app.blueprints.auth.models import UserSession
from app.extensions import db
from tests.factories import make_institution
from tests.helpers import login


def _only_session(app):
    with app.app_context():
        return db.session.scalar(sa.select(UserSession))


def _shift(app, **fields):
    with app.app_context():
        db.session.execute(sa.update(UserSession).values(**fields))
        db.session.commit()


def test_an_idle_session_times_out(app, client):
    with app.app_context():
        username = make_institution().username
    login(client, username)
    assert client.get("/workspace/").status_code == 200
    row = _only_session(app)
    _shift(app, last_seen_at=row.last_seen_at - app.config["SESSION_IDLE_TIMEOUT"] - timedelta(seconds=1))
    response = client.get("/workspace/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    ended = _only_session(app)
    assert ended.ended_at is not None and ended.end_reason == "timeout"


def test_activity_keeps_a_session_alive_but_not_past_the_absolute_limit(app, client):
    with app.app_context():
        username = make_institution().username
    login(client, username)
    row = _only_session(app)
    # Active a minute ago, but logged in 12 hours and a second ago.
    _shift(
        app,
        created_at=row.created_at - app.config["SESSION_ABSOLUTE_TIMEOUT"] - timedelta(seconds=1),
        last_seen_at=row.last_seen_at - timedelta(minutes=1),
    )
    response = client.get("/workspace/")
    assert response.status_code == 302


def test_a_touch_moves_last_seen_forward(app, client):
    with app.app_context():
        username = make_institution().username
    login(client, username)
    row = _only_session(app)
    _shift(app, last_seen_at=row.last_seen_at - timedelta(minutes=20))
    assert client.get("/workspace/").status_code == 200
    assert _only_session(app).last_seen_at > row.last_seen_at - timedelta(minutes=1)
