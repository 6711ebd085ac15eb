"""Complaints on a busy day: twin 确认提交 and two admins pressing one button, really at once."""

import sqlalchemy as sa

from app.blueprints.complaints.models import Complaint, ComplaintEvent
from app.extensions import db
from app.sms import SmsMessage
from tests.complaints.conftest import FORM, PHONE, last_code, make_complaint
from tests.concurrency import Visitor, at_once
from tests.factories import make_province_admin


def _settle():
    db.session.rollback()  # the test thread holds no transaction while the server's threads race


def test_confirm_sent_twice_with_one_code_registers_once(app, app_ctx, live_server):
    visitor = Visitor(live_server)
    response = visitor.post("/complaints/", FORM)
    assert response.status_code == 303
    code = last_code(PHONE)
    _settle()
    responses = at_once(*(lambda: visitor.post("/complaints/confirm", {"sms_code": code}) for _ in range(2)))
    assert [r.status_code for r in responses] == [303, 303]
    assert all(r.headers["Location"].endswith("/complaints/done") for r in responses)
    _settle()
    registered = db.session.scalars(sa.select(Complaint).where(Complaint.ticket_no.is_not(None))).all()
    assert len(registered) == 1
    texts = db.session.scalars(sa.select(SmsMessage.text).where(SmsMessage.text.contains("受理编号"))).all()
    assert len(texts) == 1 and registered[0].ticket_no in texts[0]
    # the receipt shows the one 受理编号
    assert registered[0].ticket_no in visitor.get("/complaints/done").text


def test_two_admins_pressing_start_at_once_write_one_event(app, app_ctx, live_server):
    complaint = make_complaint(status="accepted")
    admins = [make_province_admin(), make_province_admin()]
    cid = complaint.id
    _settle()
    visitors = [Visitor(live_server).log_in(admin) for admin in admins]
    responses = at_once(*(lambda v=v: v.post(f"/complaints/admin/{cid}/start", {}) for v in visitors))
    assert 500 not in [r.status_code for r in responses]
    _settle()
    events = db.session.scalars(
        sa.select(ComplaintEvent).where(ComplaintEvent.complaint_id == cid, ComplaintEvent.action == "start")
    ).all()
    assert len(events) == 1
    assert db.session.get(Complaint, cid).status == "processing"


def test_one_admin_double_clicking_start_lands_on_success_twice(app, app_ctx, live_server):
    complaint = make_complaint(status="accepted")
    admin = make_province_admin()
    cid = complaint.id
    _settle()
    visitor = Visitor(live_server).log_in(admin)
    responses = at_once(*(lambda: visitor.post(f"/complaints/admin/{cid}/start", {}) for _ in range(2)))
    assert [r.status_code for r in responses] == [303, 303]
    page = visitor.get(f"/complaints/admin/{cid}").text
    assert "不能进行此操作" not in page
    _settle()
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(ComplaintEvent)
            .where(ComplaintEvent.complaint_id == cid, ComplaintEvent.action == "start")
        )
        == 1
    )
