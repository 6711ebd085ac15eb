"""投诉处理 by admins: the state machine, its guards, city scoping, the queue, the audit trail."""

from datetime import date

import pytest
import sqlalchemy as sa

from app.audit import AuditLog
from app.blueprints.complaints.models import Complaint
from app.extensions import db
from app.inbox import Message
from tests.complaints.conftest import PHONE, fresh, make_complaint, signed_in, sms_texts
from tests.factories import make_city_admin, make_enterprise, make_institution
from tests.helpers import page, text_of


def act(client, complaint, action, **fields):
    data = {f"{action}-{name}": value for name, value in fields.items()}
    return client.post(f"/complaints/admin/{complaint.id}/{action}", data=data)


def test_full_handling_path(province, city, province_admin, city_admin):
    complaint = make_complaint()
    assert act(province, complaint, "accept", note="属实").status_code == 303
    assert fresh(Complaint, complaint.id).status == "accepted"
    assert act(province, complaint, "transfer", city_code="430100", note="请核查").status_code == 303
    complaint = fresh(Complaint, complaint.id)
    assert complaint.status == "transferred" and complaint.assigned_city_code == "430100"
    assert (
        db.session.scalar(sa.select(Message.title).where(Message.user_id == city_admin.id))
        == f"新转办投诉 {complaint.ticket_no}"
    )
    assert act(city, complaint, "start").status_code == 303
    assert act(city, complaint, "close", result="已督促该机构退还服务费。").status_code == 303
    complaint = fresh(Complaint, complaint.id)
    assert complaint.status == "closed" and complaint.result == "已督促该机构退还服务费。"
    assert complaint.closed_on_time is True and complaint.handling_days == 0
    events = complaint.events
    assert [(e.action, e.to_status) for e in events] == [
        ("register", "submitted"),
        ("accept", "accepted"),
        ("transfer", "transferred"),
        ("start", "processing"),
        ("close", "closed"),
    ]
    assert [e.actor_id for e in events[1:]] == [province_admin.id, province_admin.id, city_admin.id, city_admin.id]
    assert events[1].note == "属实" and "长沙市" in events[2].note and all(e.created_at for e in events)
    actions = db.session.scalars(sa.select(AuditLog.action).order_by(AuditLog.id)).all()
    assert [a for a in actions if a.startswith("complaint.")] == [
        "complaint.accept",
        "complaint.transfer",
        "complaint.start",
        "complaint.close",
    ]
    assert "已办结" in sms_texts(PHONE)[-1]
    # The detail page shows the history and no action is left.
    soup = page(province.get(f"/complaints/admin/{complaint.id}"))
    assert "办理记录" in text_of(soup) and not soup.select("form.action-form")


def test_reject_needs_a_reason_and_tells_the_complainant(province):
    complaint = make_complaint()
    response = act(province, complaint, "reject", reason="")
    assert response.status_code == 422
    assert page(response, 422).select("#field-reject-reason .error-message")
    assert fresh(Complaint, complaint.id).status == "submitted"
    assert act(province, complaint, "reject", reason="不属于受理范围。").status_code == 303
    complaint = fresh(Complaint, complaint.id)
    assert complaint.status == "rejected" and complaint.reject_reason == "不属于受理范围。"
    assert "不予受理" in sms_texts()[-1]


def test_close_needs_a_result(province):
    complaint = make_complaint(status="processing")
    response = act(province, complaint, "close", result="")
    assert page(response, 422).select("#field-close-result .error-message")
    assert fresh(Complaint, complaint.id).status == "processing"


@pytest.mark.parametrize(
    "status,action",
    [
        ("submitted", "transfer"),
        ("submitted", "start"),
        ("submitted", "close"),
        ("accepted", "accept"),
        ("accepted", "close"),
        ("transferred", "accept"),
        ("transferred", "close"),
        ("processing", "transfer"),
        ("closed", "accept"),
        ("closed", "close"),
        ("closed", "extend"),
        ("rejected", "accept"),
        ("rejected", "extend"),
    ],
)
def test_state_machine_guards(province, status, action):
    complaint = make_complaint(status=status, assigned_city_code="430100" if status != "submitted" else None)
    fields = {"note": "说明", "reason": "理由", "result": "处理结果内容", "city_code": "430100", "days": "3"}
    response = act(province, complaint, action, **fields)
    assert response.status_code == 303
    follow = page(province.get(response.headers["Location"]))
    assert "不能进行此操作" in text_of(follow)
    assert fresh(Complaint, complaint.id).status == status
    assert db.session.scalar(sa.select(sa.func.count(AuditLog.id)).where(AuditLog.action.like("complaint.%"))) == 0


def test_unknown_action_is_404(province):
    complaint = make_complaint()
    assert province.post(f"/complaints/admin/{complaint.id}/delete").status_code == 404


def test_city_admin_sees_only_complaints_transferred_to_it(city):
    mine = make_complaint(status="transferred", assigned_city_code="430100", respondent_name="转给长沙的")
    waiting = make_complaint(status="submitted", respondent_name="长沙尚未转办的")
    elsewhere = make_complaint(
        status="transferred", city_code="430200", assigned_city_code="430200", respondent_name="转给株洲的"
    )
    text = text_of(page(city.get("/complaints/admin")))
    assert "转给长沙的" in text and "长沙尚未转办的" not in text and "转给株洲的" not in text
    assert city.get(f"/complaints/admin/{mine.id}").status_code == 200
    for other in (waiting, elsewhere):
        assert city.get(f"/complaints/admin/{other.id}").status_code == 404
        assert act(city, other, "start").status_code == 404
    # A city admin cannot accept, reject or transfer.
    assert act(city, waiting, "accept").status_code == 404
    complaint = make_complaint(status="transferred", assigned_city_code="430100")
    response = act(city, complaint, "transfer", city_code="430200")
    assert response.status_code == 303 and fresh(Complaint, complaint.id).status == "transferred"


def test_other_roles_are_refused(app, app_ctx):
    complaint = make_complaint()
    for user in (make_institution(), make_enterprise()):
        client = signed_in(app.test_client(), user)
        assert client.get("/complaints/admin").status_code == 403
        assert client.get(f"/complaints/admin/{complaint.id}").status_code == 403
        assert act(client, complaint, "accept").status_code == 403
    other_city = signed_in(app.test_client(), make_city_admin(city_code="430100", username="cs2"))
    assert other_city.get("/complaints/admin/stats").status_code == 403


def test_province_handles_directly(province, city):
    complaint = make_complaint(status="accepted")
    assert act(province, complaint, "start", note="省中心直接办理").status_code == 303
    assert act(province, complaint, "close", result="省中心已协调处理完毕。").status_code == 303
    assert fresh(Complaint, complaint.id).status == "closed"
    assert city.get(f"/complaints/admin/{complaint.id}").status_code == 404


def test_extension_moves_the_due_date_in_working_days(province, city):
    complaint = make_complaint(
        status="transferred", assigned_city_code="430100", registered_on=date(2024, 9, 26), due_on=date(2024, 9, 30)
    )
    response = act(city, complaint, "extend", days="1", reason="需要补充调查")
    assert response.status_code == 303
    complaint = fresh(Complaint, complaint.id)
    assert complaint.due_on == date(2024, 10, 8)  # the next working day after 国庆
    event = complaint.events[-1]
    assert event.action == "extend" and event.due_on == date(2024, 10, 8) and "需要补充调查" in event.note
    assert db.session.scalar(sa.select(AuditLog.action).where(AuditLog.action == "complaint.extend"))
    response = act(province, complaint, "extend", days="", reason="")
    soup = page(response, 422)
    assert soup.select("#field-extend-days .error-message") and soup.select("#field-extend-reason .error-message")
    assert page(act(province, complaint, "extend", days="31", reason="太长"), 422).select(
        "#field-extend-days .error-message"
    )


def test_closing_late_is_recorded(province):
    complaint = make_complaint(status="processing", registered_on=date(2024, 9, 26), due_on=date(2024, 10, 22))
    act(province, complaint, "close", result="迟到的处理结果。")
    complaint = fresh(Complaint, complaint.id)
    assert complaint.closed_on_time is False
    assert complaint.handling_days > 15


def test_transfer_defaults_to_the_respondents_city(province):
    complaint = make_complaint(status="accepted", city_code="430200")
    soup = page(province.get(f"/complaints/admin/{complaint.id}"))
    assert soup.select_one("#transfer-city_code option[selected]")["value"] == "430200"


def test_queue_filters(province):
    make_complaint(
        registered_on=date(2024, 9, 26), due_on=date(2024, 10, 22), status="processing", respondent_name="超期的"
    )
    new = make_complaint(status="submitted", city_code="430200", respondent_name="株洲的")
    make_complaint(status="closed", closed_on_time=True, respondent_name="办结的")

    def names(**args):
        soup = page(province.get("/complaints/admin", query_string=args))
        return {td.get_text() for td in soup.select("#results tbody td:nth-child(5)")}

    assert names() == {"超期的", "株洲的", "办结的"}
    assert names(status="submitted") == {"株洲的"}
    assert names(city_code="430200") == {"株洲的"}
    assert names(overdue="1") == {"超期的"}
    assert names(date_from="2024-09-01", date_to="2024-09-30") == {"超期的"}
    assert names(q=new.ticket_no) == {"株洲的"}
    assert names(status="bogus", date_from="not-a-date") == {"超期的", "株洲的", "办结的"}
    soup = page(province.get("/complaints/admin", headers={"HX-Request": "true"}), fragment=True)
    assert soup.select_one("#results")
    assert "已超期" in text_of(page(province.get("/complaints/admin", query_string={"overdue": "1"})))


def test_admin_home_counts(province, city):
    make_complaint(status="submitted")
    make_complaint(status="submitted")
    make_complaint(status="transferred", assigned_city_code="430100")
    make_complaint(
        status="processing", assigned_city_code="430100", registered_on=date(2024, 9, 26), due_on=date(2024, 10, 22)
    )
    text = text_of(page(province.get("/admin/")))
    assert "2 件 待受理投诉" in text and "1 件 超期未办结投诉" in text
    text = text_of(page(city.get("/admin/")))
    assert "1 件 待处理投诉" in text and "1 件 处理中投诉" in text and "待受理投诉" not in text


def test_menu_items(province, city):
    soup = page(province.get("/complaints/admin"))
    menu = text_of(soup.select_one(".sidemenu"))
    assert "投诉列表" in menu and "投诉统计" in menu
    menu = text_of(page(city.get("/complaints/admin")).select_one(".sidemenu"))
    assert "投诉列表" in menu and "投诉统计" not in menu


def test_evidence_download_is_scoped(province, city, client):
    import io

    from tests.complaints.conftest import FORM, last_code

    client.post(
        "/complaints/",
        data={**FORM, "evidence": [(io.BytesIO(b"%PDF-1.4 x"), "协议.pdf")]},
        content_type="multipart/form-data",
    )
    client.post("/complaints/confirm", data={"sms_code": last_code()})
    complaint = db.session.scalar(sa.select(Complaint))
    attachment = complaint.attachments[0]
    url = f"/complaints/admin/{complaint.id}/attachments/{attachment.id}"
    response = province.get(url)
    assert response.status_code == 200 and response.data == b"%PDF-1.4 x"
    assert "filename*=UTF-8''%E5%8D%8F%E8%AE%AE.pdf" in response.headers["Content-Disposition"]
    assert city.get(url).status_code == 404
    assert client.get(url).status_code == 302  # anonymous: to the login page
    assert province.get(f"/complaints/admin/{complaint.id}/attachments/{attachment.id + 99}").status_code == 404


def test_unconfirmed_drafts_are_invisible_to_admins(client, province):
    from tests.complaints.conftest import FORM

    client.post("/complaints/", data=FORM)
    draft = db.session.scalar(sa.select(Complaint))
    assert draft.status == "unverified"
    assert page(province.get("/complaints/admin")).select_one("#results .empty")
    assert province.get(f"/complaints/admin/{draft.id}").status_code == 404
    assert "0 件 待受理投诉" in text_of(page(province.get("/admin/")))
