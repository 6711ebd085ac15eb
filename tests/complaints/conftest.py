"""Fixtures for the complaint tests: the public form data, complaints made straight in the
database, and logged-in admin clients.

Tests run inside ``app_ctx``; after a request call ``fresh()`` to read what it changed.
"""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import g, request_started

from app.blueprints.complaints.models import Complaint, ComplaintEvent
from app.blueprints.complaints.workdays import add_working_days
from app.extensions import db
from app.sms import SmsMessage
from app.utils import local_today, utcnow
from tests import sms_capture
from tests.factories import make_city_admin, make_province_admin
from tests.helpers import login

PHONE = "13800138000"
FORM = {
    "company_name": "长沙某某科技有限公司",
    "contact_name": "王经理",
    "phone": PHONE,
    "respondent_name": "某某中小企业服务中心",
    "respondent_city_code": "430100",
    "respondent_address": "长沙市岳麓区麓谷大道 100 号",
    "respondent_contact": "李主任",
    "respondent_phone": "0731-88888888",
    "content": "签订服务协议后对方收取服务费但未提供约定的融资对接服务，请求督促退还费用。",
    "captcha": "TEST",
}


@pytest.fixture(autouse=True)
def _login_per_request(app):
    """Requests under ``app_ctx`` share the test's ``g``, where Flask-Login caches the user."""

    def forget(sender, **extra):
        g.pop("_login_user", None)

    request_started.connect(forget, app)
    yield
    request_started.disconnect(forget, app)


def fresh(model, ident):
    db.session.expire_all()
    return db.session.get(model, ident)


def sms_texts(phone=PHONE):
    db.session.expire_all()
    return list(db.session.scalars(sa.select(SmsMessage.text).where(SmsMessage.phone == phone).order_by(SmsMessage.id)))


def last_code(phone=PHONE):
    for text in reversed(sms_capture.delivered(phone)):  # stored masked; the outbox log has it
        found = re.search(r"验证码 (\d{6})", text)
        if found:
            return found.group(1)
    raise AssertionError(f"no code sent to {phone}")


def allow_quick_resend(app, monkeypatch):
    """Let a test send a second code at once (the 1-per-minute rule is tested on its own)."""
    monkeypatch.setitem(app.config, "SMS_SEND_INTERVAL", timedelta(0))


def file_complaint(client, **fields):
    """Fill the form, then type the SMS code: the complaint as registered."""
    response = client.post("/complaints/", data={**FORM, **fields})
    assert response.status_code == 303, response.get_data(as_text=True)[:600]
    phone = fields.get("phone", PHONE)
    response = client.post("/complaints/confirm", data={"sms_code": last_code(phone)})
    assert response.status_code == 303 and response.headers["Location"] == "/complaints/done"
    db.session.expire_all()
    return db.session.scalar(sa.select(Complaint).where(Complaint.phone == phone).order_by(Complaint.id.desc()))


def make_complaint(
    phone=PHONE,
    status="submitted",
    city_code="430100",
    assigned_city_code=None,
    registered_on=None,
    due_on=None,
    **fields,
):
    """A registered complaint written straight to the database."""
    registered_on = registered_on or local_today()
    n = db.session.scalar(sa.select(sa.func.count(Complaint.id))) + 1
    complaint = Complaint(
        ticket_no=f"TS{registered_on:%Y%m%d}-{n:04d}",
        status=status,
        company_name=fields.pop("company_name", f"投诉企业{n}"),
        contact_name="王经理",
        phone=phone,
        respondent_name=fields.pop("respondent_name", f"被投诉机构{n}"),
        respondent_city_code=city_code,
        respondent_address="地址",
        respondent_contact="李主任",
        respondent_phone="0731-88888888",
        content="投诉事项内容超过十个字的说明。",
        registered_at=utcnow(),
        registered_on=registered_on,
        due_on=due_on or add_working_days(registered_on, 15),
        assigned_city_code=assigned_city_code,
        **fields,
    )
    complaint.events.append(ComplaintEvent(action="register", to_status="submitted", actor_name="投诉人"))
    db.session.add(complaint)
    db.session.commit()
    return complaint


@pytest.fixture
def province_admin(app_ctx):
    return make_province_admin(username="sheng", display_name="省中心管理员")


@pytest.fixture
def city_admin(app_ctx):
    return make_city_admin(city_code="430100", username="changsha", display_name="长沙市工信局")


def signed_in(client, user):
    response = login(client, user)
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:300]
    return client


@pytest.fixture
def province(app, province_admin):
    return signed_in(app.test_client(), province_admin)


@pytest.fixture
def city(app, city_admin):
    return signed_in(app.test_client(), city_admin)
