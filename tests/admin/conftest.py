"""Fixtures for the admin tests: logged-in clients for a province admin and a city admin.

Tests run inside ``app_ctx``, so the objects the factories return stay usable; after a request
call ``fresh()`` to read what the request changed.
"""

import pytest
import sqlalchemy as sa

from app.extensions import db
from tests.factories import make_city_admin, make_province_admin
from tests.helpers import login


def signed_in(client, user):
    response = login(client, user)
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:300]
    return client


def fresh(model, ident):
    """Re-read a row after a request (the request used its own session)."""
    db.session.expire_all()
    return db.session.get(model, ident)


def count(model, *criteria):
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*criteria))


@pytest.fixture
def province_admin(app_ctx):
    return make_province_admin(username="sheng", display_name="省中心管理员")


@pytest.fixture
def province(client, province_admin):
    """A client logged in as a province admin."""
    return signed_in(client, province_admin)


@pytest.fixture
def city_admin(app_ctx):
    return make_city_admin(city_code="430100", username="changsha", display_name="长沙市工信局")


@pytest.fixture
def city(client, city_admin):
    """A client logged in as the 长沙市 city admin."""
    return signed_in(client, city_admin)


@pytest.fixture
def other_client(app):
    """A second browser, e.g. the user an admin acts on."""
    return app.test_client()


def assert_logged_out(client):
    """The client's next request to a logged-in page is sent to the login page."""
    response = client.get("/workspace/")
    assert response.status_code == 302, response.status_code
    assert "/auth/login" in response.headers["Location"]
