"""处理结果: phone + captcha → SMS code → that phone's complaints; no enumeration; rating."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine

from app.audit import AuditLog
from app.blueprints.complaints.models import Complaint, ComplaintLookup
from app.extensions import db
from app.inbox import Message
from app.utils import utcnow
from tests.complaints.conftest import PHONE, file_complaint, fresh, last_code, make_complaint, sms_texts
from tests.helpers import page, text_of

OTHER = "13900139000"


def start(client, phone=PHONE):
    return client.post("/complaints/results", data={"phone": phone, "captcha": "TEST"})


def verify(client, code):
    return client.post("/complaints/results/verify", data={"sms_code": code})


def looked_up(client, phone=PHONE):
    assert start(client, phone).status_code == 303
    response = verify(client, last_code(phone))
    assert response.status_code == 303 and response.headers["Location"] == "/complaints/results/list"
    return client


def test_lookup_page_has_the_manuals_hint(client):
    soup = page(client.get("/complaints/results"))
    text = text_of(soup)
    assert "提示: 请输入手机号码, 此号码用于处理查询的唯一凭证。" in text
    assert [a.get_text() for a in soup.select(".complaint-nav a[aria-current]")] == ["处理结果"]
    labels = [label.get_text(strip=True) for label in soup.select("main form label[for]")]
    assert labels == ["*手机号码", "*验证码"]
    assert soup.select_one("img.captcha-img")["src"] == "/auth/captcha/lookup.png"


def test_bad_phone_and_captcha(client, app, app_ctx, monkeypatch):
    soup = page(start(client, "12345"))
    assert soup.select("#field-phone .error-message")
    monkeypatch.setitem(app.config, "CAPTCHA_TEST_CODE", None)
    soup = page(client.post("/complaints/results", data={"phone": PHONE, "captcha": "XXXX"}))
    assert soup.select("#field-captcha .error-message")
    assert sms_texts() == []


def test_shows_only_that_phones_complaints(client, app_ctx):
    mine = make_complaint(respondent_name="我投诉的机构")
    make_complaint(phone=OTHER, respondent_name="别人投诉的机构")
    response = start(client)
    assert response.headers["Location"] == "/complaints/results/verify" and PHONE not in response.headers["Location"]
    assert "138****8000" in text_of(page(client.get("/complaints/results/verify")))
    response = verify(client, last_code())
    assert PHONE not in response.headers["Location"]
    soup = page(client.get("/complaints/results/list"))
    text = text_of(soup)
    assert mine.ticket_no in text and "我投诉的机构" in text and "待受理" in text
    assert f"{mine.due_on:%Y-%m-%d}" in text and f"{mine.registered_on:%Y-%m-%d}" in text
    assert "别人投诉的机构" not in text
    # Within 30 minutes, 处理结果 goes straight to the list.
    assert client.get("/complaints/results").headers["Location"] == "/complaints/results/list"


def test_no_enumeration(app, app_ctx, monkeypatch):
    """A phone with complaints and one without see the same pages and the same wrong-code message."""
    make_complaint()
    answers = []
    for phone in (PHONE, OTHER):
        client = app.test_client()
        sent = start(client, phone)
        step2 = page(client.get("/complaints/results/verify"))
        wrong = "000000" if last_code(phone) != "000000" else "111111"
        refused = page(verify(client, wrong))
        answers.append(
            (
                sent.status_code,
                sent.headers["Location"],
                text_of(step2).replace(f"{phone[:3]}****{phone[-4:]}", "masked"),
                [p.get_text() for p in refused.select(".error-message")],
            )
        )
        assert len(sms_texts(phone)) == 1  # the code goes out whether or not the phone has complaints
    assert answers[0] == answers[1]
    # Once verified, a phone without complaints is told so.
    monkeypatch.setitem(app.config, "SMS_SEND_INTERVAL", timedelta(0))
    client = looked_up(app.test_client(), OTHER)
    assert "暂无投诉记录" in text_of(page(client.get("/complaints/results/list")))


def test_list_needs_a_verified_lookup(client, app_ctx):
    make_complaint()
    assert client.get("/complaints/results/list").headers["Location"] == "/complaints/results"
    start(client)
    assert client.get("/complaints/results/list").headers["Location"] == "/complaints/results"
    assert client.get("/complaints/results/verify").status_code == 200


def test_lookup_lasts_30_minutes(client, app_ctx):
    make_complaint()
    looked_up(client)
    row = db.session.scalar(sa.select(ComplaintLookup))
    assert timedelta(minutes=29) < row.expires_at - utcnow() <= timedelta(minutes=30)
    db.session.execute(sa.update(ComplaintLookup).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert client.get("/complaints/results/list").headers["Location"] == "/complaints/results"


def test_lookup_code_rules(client, app, app_ctx, monkeypatch):
    start(client)
    code = last_code()
    # 1 per minute
    client.post("/complaints/results/resend")
    assert "过于频繁" in text_of(page(client.get("/complaints/results/verify")))
    # expiry
    from app.verification import SmsCode

    db.session.execute(sa.update(SmsCode).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert "已失效" in text_of(page(verify(client, code)))


def test_lookup_code_single_use_and_tries(client, app, app_ctx, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_SEND_INTERVAL", timedelta(0))
    looked_up(client)
    used = last_code()
    client.post("/complaints/results/end")
    start(client)
    assert page(verify(client, used)).select(".error-message")  # a used code does not come back
    start(client)
    code = last_code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        verify(client, wrong)
    assert "错误次数过多" in text_of(page(verify(client, code)))


def test_status_history_and_result_are_shown(client, app_ctx):
    from app.blueprints.complaints.models import ComplaintEvent

    complaint = make_complaint(status="closed", result="已督促退还服务费。", closed_on_time=True)
    complaint.events.append(
        ComplaintEvent(action="accept", from_status="submitted", to_status="accepted", note="内部意见", actor_name="省")
    )
    complaint.events.append(
        ComplaintEvent(
            action="close",
            from_status="processing",
            to_status="closed",
            note="已督促退还服务费。",
            public_note=True,
            actor_name="市",
        )
    )
    db.session.commit()
    looked_up(client)
    soup = page(client.get("/complaints/results/list"))
    text = text_of(soup)
    assert "已督促退还服务费。" in text and "已办结" in text
    steps = [" ".join(li.get_text().split()) for li in soup.select(".complaint-timeline li")]
    assert [step.split(" ", 1)[1] for step in steps] == ["提交投诉（待受理）", "受理（已受理）", "办结（已办结）"]
    assert all(step[:10] == f"{complaint.registered_on:%Y-%m-%d}" for step in steps)
    assert "内部意见" not in text
    assert "评价处理情况" in text


def test_overdue_is_marked(client, app_ctx):
    from datetime import date

    make_complaint(status="processing", registered_on=date(2024, 9, 26), due_on=date(2024, 10, 22))
    looked_up(client)
    assert "已超期" in text_of(page(client.get("/complaints/results/list")))


@pytest.fixture
def closed(app_ctx):
    return make_complaint(status="closed", result="处理完毕。", closed_on_time=True, handling_days=3)


def test_rating_satisfied(client, closed):
    looked_up(client)
    response = client.post(f"/complaints/results/{closed.id}/rate", data={f"c{closed.id}-rating": "satisfied"})
    assert response.status_code == 303
    complaint = fresh(Complaint, closed.id)
    assert complaint.rating == "satisfied" and complaint.status == "closed"
    text = text_of(page(client.get("/complaints/results/list")))
    assert "您的评价 满意" in text and "评价处理情况" not in text
    # Rated once only.
    response = client.post(f"/complaints/results/{closed.id}/rate", data={f"c{closed.id}-rating": "dissatisfied"})
    assert response.status_code == 404 and fresh(Complaint, closed.id).rating == "satisfied"


def test_rating_needs_a_choice(client, closed):
    looked_up(client)
    soup = page(client.post(f"/complaints/results/{closed.id}/rate", data={}))
    assert soup.select(f"#field-c{closed.id}-rating .error-message")


def test_dissatisfied_reopens_for_the_province(client, closed, province_admin):
    looked_up(client)
    response = client.post(
        f"/complaints/results/{closed.id}/rate",
        data={f"c{closed.id}-rating": "dissatisfied", f"c{closed.id}-note": "钱没退"},
    )
    assert response.status_code == 303
    complaint = fresh(Complaint, closed.id)
    assert complaint.status == "accepted" and complaint.reopen_count == 1 and complaint.rating == "dissatisfied"
    assert [e.action for e in complaint.events][-2:] == ["rate", "reopen"]
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "complaint.rate"))
    assert entry.before["status"] == "已办结" and entry.after["status"] == "已受理" and "钱没退" in entry.summary
    assert db.session.scalar(sa.select(Message.title).where(Message.user_id == province_admin.id)).startswith(
        f"投诉 {complaint.ticket_no}"
    )


def test_cannot_rate_another_phones_or_an_open_complaint(client, app_ctx):
    others = make_complaint(phone=OTHER, status="closed", result="完毕。")
    open_one = make_complaint(status="processing")
    looked_up(client)
    assert (
        client.post(f"/complaints/results/{others.id}/rate", data={f"c{others.id}-rating": "satisfied"}).status_code
        == 404
    )
    assert (
        client.post(f"/complaints/results/{open_one.id}/rate", data={f"c{open_one.id}-rating": "satisfied"}).status_code
        == 404
    )
    assert fresh(Complaint, others.id).rating is None


def test_rating_after_the_lookup_expired(client, closed):
    response = client.post(f"/complaints/results/{closed.id}/rate", data={f"c{closed.id}-rating": "satisfied"})
    assert response.headers["Location"] == "/complaints/results"
    assert fresh(Complaint, closed.id).rating is None


def test_end_lookup(client, app_ctx):
    make_complaint()
    looked_up(client)
    assert client.post("/complaints/results/end").status_code == 303
    assert client.get("/complaints/results/list").headers["Location"] == "/complaints/results"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ComplaintLookup)) == 0


def test_right_after_filing_the_same_browser_sees_the_result_without_a_second_code(client, app_ctx):
    """Issue 18 item 7: the phone verified while filing counts for 处理结果 for 30 minutes."""
    complaint = file_complaint(client)
    response = client.get("/complaints/results")
    assert response.status_code == 302 and response.headers["Location"].endswith("/complaints/results/list")
    text = text_of(page(client.get("/complaints/results/list")))
    assert complaint.ticket_no in text
    with time_machine.travel(utcnow() + timedelta(minutes=31), tick=False):
        assert client.get("/complaints/results").status_code == 200  # the code again after 30 minutes
    # another browser is not let in by it
    other = client.application.test_client()
    assert other.get("/complaints/results").status_code == 200
