"""投诉登记: the manual's fields, validation, image captcha, SMS code, 受理编号 and the receipt."""

import io
import re
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.audit import AuditLog
from app.blueprints.complaints import services
from app.blueprints.complaints.models import Complaint, ComplaintTicketCounter
from app.blueprints.complaints.workdays import add_working_days
from app.extensions import db
from app.filings.models import Attachment
from app.utils import local_today, utcnow
from app.verification import SmsCode
from tests.complaints.conftest import FORM, PHONE, allow_quick_resend, file_complaint, fresh, last_code, sms_texts
from tests.helpers import page, text_of
from tests.uploads import stored_files

PDF = b"%PDF-1.4 evidence"


def errors_of(soup, name):
    return [p.get_text() for p in soup.select(f"#field-{name} .error-message")]


def post_form(client, **fields):
    data = {**FORM, **fields}
    return client.post("/complaints/", data=data, content_type="multipart/form-data")


def test_form_page_has_the_manuals_fields(client):
    soup = page(client.get("/complaints/"))
    text = text_of(soup)
    for label in (
        "投诉企业基本信息",
        "被投诉方基本信息",
        "投诉事项",
        "单位名称",
        "所属市州",
        "详细地址",
        "联系人",
        "联系电话",
    ):
        assert label in text
    nav = [a.get_text() for a in soup.select(".complaint-nav a")]
    assert nav == ["首页", "企业投诉", "处理结果", "联系我们"]
    assert soup.select_one(".complaint-nav a[href='/contact']")
    required = {f["for"] for f in soup.select("label[for]") if f.select_one(".req")}
    assert required == {
        "company_name",
        "contact_name",
        "phone",
        "respondent_name",
        "respondent_city_code",
        "respondent_address",
        "respondent_contact",
        "respondent_phone",
        "content",
        "captcha",
    }
    assert soup.select_one("textarea#content")["data-counter"] == "2000"
    assert len(soup.select("#respondent_city_code option")) == 15  # 请选择 + 14 市州
    assert soup.select_one("img.captcha-img")["src"] == "/auth/captcha/complaint.png"
    assert soup.select_one("input[type=file][name=evidence][multiple]")


def test_every_required_field_is_checked(client, app_ctx):
    soup = page(client.post("/complaints/", data={}))
    for name in (
        "company_name",
        "contact_name",
        "phone",
        "respondent_name",
        "respondent_city_code",
        "respondent_address",
        "respondent_contact",
        "respondent_phone",
        "content",
        "captcha",
    ):
        assert errors_of(soup, name), name
    assert soup.select_one(".error-summary")
    assert db.session.scalar(sa.select(sa.func.count(Complaint.id))) == 0
    assert sms_texts() == []


@pytest.mark.parametrize("phone", ["1380013800", "138001380001", "12800138000", "0731-88888888", "abc"])
def test_complainant_phone_must_be_a_mobile(client, app_ctx, phone):
    soup = page(post_form(client, phone=phone))
    assert errors_of(soup, "phone")
    assert sms_texts(phone) == []


@pytest.mark.parametrize(
    "phone,ok",
    [("0731-88888888", True), ("073188888888", True), ("13912345678", True), ("88888888", False), ("0731-8888", False)],
)
def test_respondent_phone_mobile_or_landline(client, app_ctx, phone, ok):
    response = post_form(client, respondent_phone=phone)
    if ok:
        assert response.status_code == 303
    else:
        assert errors_of(page(response), "respondent_phone")


def test_content_length_10_to_2000(client, app_ctx):
    assert errors_of(page(post_form(client, content="太短了九个字啊啊")), "content")
    assert "2000字以内" in errors_of(page(post_form(client, content="长" * 2001)), "content")[0]
    assert post_form(client, content="十个字的投诉事项内容").status_code == 303


def test_unknown_city_is_refused(client, app_ctx):
    assert errors_of(page(post_form(client, respondent_city_code="999999")), "respondent_city_code")


def test_wrong_image_captcha(client, app, app_ctx, monkeypatch):
    monkeypatch.setitem(app.config, "CAPTCHA_TEST_CODE", None)
    soup = page(post_form(client, captcha="ABCD"))
    assert errors_of(soup, "captcha")
    assert "单位名称" in text_of(soup) and soup.select_one("#company_name")["value"] == FORM["company_name"]
    assert sms_texts() == []


def test_real_image_captcha_is_used_once(client, app, app_ctx, monkeypatch):
    from app.verification import CaptchaChallenge

    monkeypatch.setitem(app.config, "CAPTCHA_TEST_CODE", None)
    client.get("/auth/captcha/complaint.png")
    answer = db.session.scalar(sa.select(CaptchaChallenge.answer))
    assert post_form(client, captcha=answer.lower()).status_code == 303
    client.get("/complaints/")
    assert errors_of(page(post_form(client, captcha=answer)), "captcha")


def test_full_registration(client, app_ctx):
    response = post_form(client)
    assert response.status_code == 303 and response.headers["Location"] == "/complaints/confirm"
    assert PHONE not in response.headers["Location"]
    draft = db.session.scalar(sa.select(Complaint))
    assert draft.status == "unverified" and draft.ticket_no is None
    soup = page(client.get("/complaints/confirm"))
    assert "138****8000" in text_of(soup) and PHONE not in text_of(soup)
    assert "验证码" in sms_texts()[0]
    # A wrong code is refused and the draft stays.
    soup = page(
        client.post("/complaints/confirm", data={"sms_code": "000000" if last_code() != "000000" else "111111"})
    )
    assert "短信验证码不正确" in errors_of(soup, "sms_code")[0]
    response = client.post("/complaints/confirm", data={"sms_code": last_code()})
    assert response.status_code == 303 and response.headers["Location"] == "/complaints/done"
    complaint = fresh(Complaint, draft.id)
    today = local_today()
    assert complaint.status == "submitted"
    assert re.fullmatch(rf"TS{today:%Y%m%d}-0001", complaint.ticket_no)
    assert complaint.due_on == add_working_days(today, 15)
    assert [e.action for e in complaint.events] == ["register"]
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "complaint.register"))
    assert entry.actor_id is None and entry.actor_name == "投诉人" and complaint.ticket_no in entry.summary
    soup = page(client.get("/complaints/done"))
    text = text_of(soup)
    assert complaint.ticket_no in text and f"{complaint.due_on:%Y-%m-%d}" in text and "接下来" in text
    assert complaint.ticket_no in sms_texts()[-1] and f"{complaint.due_on:%Y-%m-%d}" in sms_texts()[-1]
    # The draft is gone from the session: the confirm page sends back to the form.
    assert client.get("/complaints/confirm").headers["Location"] == "/complaints/"


def test_due_days_are_configurable(client, app, app_ctx, monkeypatch):
    monkeypatch.setitem(app.config, "COMPLAINT_DUE_WORKING_DAYS", 5)
    complaint = file_complaint(client)
    assert complaint.due_on == add_working_days(local_today(), 5)


def test_code_is_single_use(client, app, app_ctx, monkeypatch):
    allow_quick_resend(app, monkeypatch)
    file_complaint(client)
    used = last_code()
    post_form(client)
    soup = page(client.post("/complaints/confirm", data={"sms_code": used}))
    # The new draft sent a new code; the old one no longer works.
    assert errors_of(soup, "sms_code")
    assert db.session.scalar(sa.select(sa.func.count(Complaint.id)).where(Complaint.status == "submitted")) == 1


def test_expired_code_is_refused(client, app_ctx):
    post_form(client)
    code = last_code()
    db.session.execute(sa.update(SmsCode).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    soup = page(client.post("/complaints/confirm", data={"sms_code": code}))
    assert "已失效" in errors_of(soup, "sms_code")[0]


def test_at_most_five_tries(client, app_ctx):
    post_form(client)
    code = last_code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        client.post("/complaints/confirm", data={"sms_code": wrong})
    soup = page(client.post("/complaints/confirm", data={"sms_code": code}))
    assert "错误次数过多" in errors_of(soup, "sms_code")[0]
    assert db.session.scalar(sa.select(Complaint.status)) == "unverified"


def test_send_rate_one_a_minute_and_ten_a_day(client, app, app_ctx, monkeypatch):
    post_form(client)
    response = client.post("/complaints/confirm/resend")
    assert response.status_code == 303
    assert "过于频繁" in text_of(page(client.get("/complaints/confirm")))
    assert len(sms_texts()) == 1
    allow_quick_resend(app, monkeypatch)
    for _ in range(9):
        client.post("/complaints/confirm/resend")
    assert len(sms_texts()) == 10
    client.post("/complaints/confirm/resend")
    assert "次数已达上限" in text_of(page(client.get("/complaints/confirm")))
    assert len(sms_texts()) == 10


def test_editing_the_draft_keeps_one_row_and_does_not_resend_a_live_code(client, app_ctx):
    post_form(client)
    soup = page(client.get("/complaints/"))
    assert soup.select_one("#company_name")["value"] == FORM["company_name"]
    assert post_form(client, company_name="改过的企业名称").status_code == 303
    assert db.session.scalar(sa.select(sa.func.count(Complaint.id))) == 1
    assert len(sms_texts()) == 1  # the first code is still valid: no second SMS within the minute
    assert db.session.scalar(sa.select(Complaint.company_name)) == "改过的企业名称"


def test_changing_the_phone_sends_to_the_new_one(client, app_ctx):
    post_form(client)
    assert post_form(client, phone="13900139000").status_code == 303
    assert len(sms_texts("13900139000")) == 1


def test_evidence_files_are_stored_and_linked(client, app_ctx):
    files = [(io.BytesIO(PDF), "服务协议.pdf"), (io.BytesIO(b"plain text"), "说明.txt")]
    response = post_form(client, evidence=files)
    assert response.status_code == 303
    draft = db.session.scalar(sa.select(Complaint))
    assert sorted(a.original_name for a in draft.attachments) == ["服务协议.pdf", "说明.txt"]
    assert all(a.uploaded_by_id is None for a in draft.attachments)
    # Back to the form: the files are listed, one can be removed.
    soup = page(client.get("/complaints/"))
    assert "服务协议.pdf" in text_of(soup)
    keep, drop = sorted(draft.attachments, key=lambda a: a.original_name)
    assert post_form(client, remove_attachments=[str(drop.id)]).status_code == 303
    assert [a.original_name for a in fresh(Complaint, draft.id).attachments] == [keep.original_name]
    assert db.session.get(Attachment, drop.id) is None


def test_more_than_five_files_are_refused(client, app_ctx):
    files = [(io.BytesIO(PDF), f"材料{n}.pdf") for n in range(6)]
    soup = page(post_form(client, evidence=files))
    assert "最多 5 个文件" in errors_of(soup, "evidence")[0]
    assert db.session.scalar(sa.select(sa.func.count(Attachment.id))) == 0


def test_a_refused_file_leaves_nothing_behind(client, app, app_ctx):

    files = [(io.BytesIO(PDF), "好的.pdf"), (io.BytesIO(b"MZ\x90\x00binary"), "病毒.exe")]
    soup = page(post_form(client, evidence=files))
    assert errors_of(soup, "evidence")
    assert db.session.scalar(sa.select(sa.func.count(Attachment.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Complaint.id))) == 0
    assert stored_files(app) == []
    assert sms_texts() == []
    # A file whose bytes do not match its extension is refused too.
    soup = page(post_form(client, evidence=[(io.BytesIO(b"not a pdf"), "假的.pdf")]))
    assert "不符" in errors_of(soup, "evidence")[0]


def test_a_refused_send_leaves_nothing_behind(client, app, app_ctx):

    post_form(client)
    other = app.test_client()
    soup = page(post_form(other, evidence=[(io.BytesIO(PDF), "证据.pdf")]))
    assert "过于频繁" in errors_of(soup, "phone")[0]
    assert db.session.scalar(sa.select(sa.func.count(Complaint.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(Attachment.id))) == 0
    assert stored_files(app) == []


def test_stale_drafts_are_purged(client, app_ctx):
    post_form(client, evidence=[(io.BytesIO(PDF), "旧.pdf")])
    db.session.execute(sa.update(Complaint).values(created_at=utcnow() - timedelta(days=2)))
    db.session.commit()
    other = client.application.test_client()
    assert other.post("/complaints/", data={**FORM, "phone": "13900139000"}).status_code == 303
    assert db.session.scalar(sa.select(sa.func.count(Complaint.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(Attachment.id))) == 0


def test_ticket_numbers_follow_the_day(client, app, app_ctx, monkeypatch):
    allow_quick_resend(app, monkeypatch)
    first = file_complaint(client)
    second = file_complaint(app.test_client(), phone="13900139000")
    assert first.ticket_no.endswith("-0001") and second.ticket_no.endswith("-0002")
    db.session.add(ComplaintTicketCounter(day=local_today() - timedelta(days=1), last=41))
    db.session.commit()
    assert file_complaint(app.test_client(), phone="13700137000").ticket_no.endswith("-0003")


def test_ticket_numbers_are_unique_under_concurrency(app):
    """Registrations at the same moment each get their own number (the counter row is locked)."""
    day = local_today()
    results, failures = [], []

    def register():
        with app.app_context():
            try:
                results.append(services._next_ticket_no(day))
                db.session.commit()
            except Exception as error:  # pragma: no cover - reported below
                failures.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=register) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(results) == [f"TS{day:%Y%m%d}-{n:04d}" for n in range(1, 9)]


def test_receipt_needs_a_complaint_registered_here(client, app, app_ctx):
    file_complaint(client)
    assert app.test_client().get("/complaints/done").headers["Location"] == "/complaints/"
