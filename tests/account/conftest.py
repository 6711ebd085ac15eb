"""Account test helpers (tests run inside ``app_ctx``, so factory objects stay usable)."""

import sqlalchemy as sa

from app.extensions import db
from tests.helpers import login


def signed_in(client, user):
    response = login(client, user)
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:300]
    return client


def fresh(model, ident):
    """Re-read a row after a request (the request used its own session)."""
    db.session.expire_all()
    return db.session.get(model, ident)


def rows(model, *criteria):
    db.session.expire_all()
    return db.session.scalars(sa.select(model).where(*criteria)).all()
