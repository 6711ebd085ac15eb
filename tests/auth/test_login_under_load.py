"""Logins that survive load: the password hash is checked outside any write transaction.

On SQLite every POST's transaction takes the write lock (BEGIN IMMEDIATE, app/database.py). A
login that checked scrypt inside that transaction held the lock ~100 ms, so 40-50 logins at once
queued past the 5 s busy timeout and failed with "database is locked".
"""

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from app.blueprints.auth.models import LoginLog, User, UserSession
from app.extensions import db
from tests.concurrency import Visitor, at_once
from tests.factories import PASSWORD, make_institution

LOGINS = 50


def test_fifty_simultaneous_scrypt_logins_all_succeed(app, live_server):
    with app.app_context():
        users = [make_institution() for _ in range(LOGINS)]
        # the production hash (the suite's cheap pbkdf2 would hide the problem)
        scrypt_hash = generate_password_hash(PASSWORD, method="scrypt")
        db.session.execute(sa.update(User).values(password_hash=scrypt_hash))
        db.session.commit()
        names = [user.username for user in users]
    visitors = [Visitor(live_server) for _ in names]
    calls = [
        (
            lambda visitor=visitor, name=name: visitor.post(
                "/auth/login", {"username": name, "password": PASSWORD, "captcha": "TEST"}
            )
        )
        for visitor, name in zip(visitors, names)
    ]
    responses = at_once(*calls)
    statuses = [response.status_code for response in responses]
    assert statuses == [303] * LOGINS, [(r.status_code, r.text[:200]) for r in responses if r.status_code != 303][:3]
    with app.app_context():
        assert (
            db.session.scalar(sa.select(sa.func.count(UserSession.id)).where(UserSession.ended_at.is_(None))) == LOGINS
        )
        assert db.session.scalar(sa.select(sa.func.count(LoginLog.id)).where(LoginLog.success.is_(True))) == LOGINS
    # each visitor really is signed in
    assert all(visitor.get("/workspace/").status_code == 200 for visitor in visitors[:3])
