"""手机号变更申诉: a public form with a proof file; it never reveals whether the account exists."""

import io

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from app.blueprints.auth import services
from app.blueprints.auth.models import PhoneChangeRequest
from app.extensions import db
from app.filings.models import Attachment
from tests.factories import make_institution
from tests.helpers import page, text_of
from tests.uploads import stored_files

URL = "/auth/phone-appeal"
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def appeal_data(username="org@example.com", **over):
    data = {
        "username": username,
        "old_phone": "13900000000",
        "new_phone": "13711112222",
        "reason": "原手机号已停用，单位联系人更换，申请变更为新联系人的手机号。",
        "proof": (io.BytesIO(PDF), "变更说明.pdf"),
        "captcha": "TEST",
    }
    data.update(over)
    return data


def post(client, data):
    return client.post(URL, data=data, content_type="multipart/form-data")


def count(model):
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_form_page(client):
    soup = page(client.get(URL))
    form = soup.find("form", attrs={"action": URL})
    assert form["enctype"] == "multipart/form-data"
    names = [i["name"] for i in form.find_all(["input", "textarea"]) if i.get("type") != "hidden"]
    assert names == ["username", "old_phone", "new_phone", "reason", "proof", "captcha"]
    assert form.find("img", class_="captcha-img")["src"] == "/auth/captcha/appeal.png"
    assert "允许上传 [.zip, .7z, .rar, .txt, .doc, .docx, .xls, .xlsx, .ppt, .pptx, .pdf] 格式的文件" in text_of(soup)
    assert "短信" in text_of(soup)


def test_appeal_creates_a_pending_request_with_its_proof(app, client, app_ctx):
    user = make_institution(username="org@example.com", phone="13900000000")
    before = set(stored_files(app))
    response = post(client, appeal_data("ORG@example.com"))
    assert response.status_code == 303 and response.headers["Location"] == "/auth/phone-appeal/submitted"
    appeal = db.session.scalar(sa.select(PhoneChangeRequest))
    assert (appeal.status, appeal.user_id, appeal.new_phone, appeal.old_phone) == (
        "pending",
        user.id,
        "13711112222",
        "13900000000",
    )
    assert appeal.attachment.original_name == "变更说明.pdf" and appeal.attachment.uploaded_by_id is None
    assert set(stored_files(app)) - before == {appeal.attachment.stored_name}
    soup = page(client.get(response.headers["Location"]))
    text = text_of(soup)
    assert "137****2222" in text and "待审核" in text and "省中小企业服务中心" in text and "短信" in text


def test_receipt_does_not_reveal_whether_the_account_exists(client, app_ctx):
    make_institution(username="org@example.com")
    real = text_of(page(client.get(post(client, appeal_data("org@example.com")).headers["Location"])))
    other = client.application.test_client()
    fake = text_of(page(other.get(post(other, appeal_data("ghost@example.com")).headers["Location"])))
    strip = lambda text: " ".join(w for w in text.split() if "example.com" not in w and ":" not in w and "-" not in w)  # noqa: E731
    assert strip(real) == strip(fake)
    rows = db.session.scalars(sa.select(PhoneChangeRequest).order_by(PhoneChangeRequest.id)).all()
    assert [r.user_id is None for r in rows] == [False, True]


def test_receipt_without_an_appeal_goes_to_the_form(client):
    assert client.get("/auth/phone-appeal/submitted").headers["Location"] == URL


def test_exe_renamed_pdf_is_refused_and_nothing_is_kept(app, client, app_ctx):
    make_institution(username="org@example.com")
    before = stored_files(app)
    data = appeal_data("org@example.com", proof=(io.BytesIO(b"MZ\x90\x00" + b"\x00" * 200), "证明.pdf"))
    soup = page(post(client, data))
    errors = [p.get_text() for p in soup.select("#field-proof .error-message")]
    assert errors and "内容与扩展名.pdf不符" in errors[0]
    assert soup.find("input", attrs={"name": "username"})["value"] == "org@example.com"
    assert soup.find("textarea", attrs={"name": "reason"}).get_text().strip() == data["reason"]
    assert count(PhoneChangeRequest) == 0 and count(Attachment) == 0
    assert stored_files(app) == before


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("reason", "太短了", "10-500 字"),
        ("reason", "长" * 501, "10-500 字"),
        ("new_phone", "0731-88886666", "11 位手机号码"),
        ("old_phone", "abc", "原来绑定的手机号"),
        ("username", "", "必填"),
        ("proof", (io.BytesIO(b""), ""), "请上传证明材料"),
        ("proof", (io.BytesIO(PDF), "证明.exe"), "格式不允许上传"),
    ],
)
def test_validation_errors(client, app_ctx, field, value, message):
    soup = page(post(client, appeal_data(**{field: value})))
    errors = [p.get_text() for p in soup.select(f"#field-{field} .error-message")]
    assert any(message in e for e in errors), errors
    assert count(PhoneChangeRequest) == 0


def test_wrong_captcha(app, client, app_ctx, monkeypatch):
    monkeypatch.setitem(app.config, "CAPTCHA_TEST_CODE", None)
    soup = page(post(client, appeal_data("org@example.com", captcha="ZZZZ")))
    assert [p.get_text() for p in soup.select("#field-captcha .error-message")] == ["验证码错误，请重新输入。"]
    assert count(PhoneChangeRequest) == 0


def test_a_failed_commit_leaves_no_file_behind(app, app_ctx, monkeypatch):
    before = stored_files(app)

    def broken_audit(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "audit", broken_audit)
    upload = FileStorage(stream=io.BytesIO(PDF), filename="证明.pdf")
    with pytest.raises(RuntimeError):
        services.phone_change_request_create(
            username="org@example.com",
            old_phone="13900000000",
            new_phone="13711112222",
            reason="原手机号已停用，申请变更手机号。",
            file=upload,
        )
    assert stored_files(app) == before
    assert count(PhoneChangeRequest) == 0 and count(Attachment) == 0
