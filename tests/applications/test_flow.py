"""核心服务机构申报 through the engine: steps, attachments, submission, two-level review."""

import io
import re

import pytest
import sqlalchemy as sa
from docx import Document
from openpyxl import load_workbook

from app.blueprints.applications.models import CoreApplication, Recognition
from app.extensions import db
from app.filings.models import Attachment, ReviewEvent
from app.inbox import Message
from app.sms import SmsMessage
from tests.applications.conftest import BASIC, OPERATIONS
from tests.helpers import login, page, text_of
from tests.jobs_queue import queue_export
from tests.uploads import stored_files

PDF = b"%PDF-1.4\n%test\n"
DOCX_HEAD = b"PK\x03\x04" + b"\x00" * 60


def new_draft(client):
    response = client.post("/applications/new")
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    match = re.search(r"/applications/(\d+)/step/basic", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def fill_steps(client, filing_id):
    assert client.post(f"/applications/{filing_id}/step/basic", data=BASIC).status_code == 303
    assert client.post(f"/applications/{filing_id}/step/operations", data=OPERATIONS).status_code == 303


def upload(client, filing_id, *files):
    data = {"files": [(io.BytesIO(content), name) for name, content in files]}
    return client.post(f"/applications/{filing_id}/attachments", data=data, content_type="multipart/form-data")


def ready_application(client):
    filing_id = new_draft(client)
    fill_steps(client, filing_id)
    upload(client, filing_id, ("营业执照.pdf", PDF))
    return filing_id


def test_list_page_has_the_manual_labels(client, people):
    login(client, people.institution.username)
    soup = page(client.get("/applications/"))
    text = text_of(soup)
    assert "机构申报" in text and "当前显示第 1 页 共 0 条记录" in text
    assert "核心服务机构申报管理" in text  # side menu


def test_outside_a_round_the_button_explains_why(client, app, people):
    with app.app_context():
        from app.filings.models import Round

        db.session.execute(sa.delete(Round))
        db.session.commit()
    login(client, people.institution.username)
    soup = page(client.get("/applications/"))
    button = soup.find("button", string="机构申报")
    assert button.has_attr("disabled")
    assert "当前没有开放的填报批次" in text_of(soup)
    response = client.post("/applications/new", follow_redirects=True)
    assert "当前没有开放的填报批次" in response.get_data(as_text=True)


def test_step_one_keeps_input_and_explains_errors(client, people):
    login(client, people.institution.username)
    filing_id = new_draft(client)
    bad = dict(
        BASIC, registered_capital="-5", total_assets="abc", equipment_ratio="120", floor_area="1.234", intro="字" * 1001
    )
    response = client.post(f"/applications/{filing_id}/step/basic", data=bad)
    soup = page(response, status=422)
    text = text_of(soup)
    assert "不能为负数" in text and "请输入数字" in text and "0 到 100" in text and "最多保留两位小数" in text
    assert "请在1000字以内" in text
    assert soup.find("input", {"name": "total_assets"})["value"] == "abc"
    assert soup.find(class_="error-summary") is not None
    with client.application.app_context():
        assert db.session.get(CoreApplication, filing_id).registered_capital is None  # nothing half-saved


def test_steps_save_and_move_on_with_and_without_htmx(client, people):
    login(client, people.institution.username)
    filing_id = new_draft(client)
    # Skipping ahead goes back to the first incomplete step.
    response = client.get(f"/applications/{filing_id}/step/operations")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/applications/{filing_id}/step/basic"
    )
    # htmx: the next step comes back as a fragment with the URL to push.
    response = client.post(f"/applications/{filing_id}/step/basic", data=BASIC, headers={"HX-Request": "true"})
    soup = page(response, fragment=True)
    assert response.headers["HX-Push-Url"] == f"/applications/{filing_id}/step/operations"
    labels = [label.get_text() for label in soup.find_all("label")]
    assert any("2024年服务企业数" in label for label in labels) and any("2025年服务活动数" in label for label in labels)
    assert "模版下载" in text_of(soup)
    # Without htmx: a 303 to the attachment step.
    response = client.post(f"/applications/{filing_id}/step/operations", data=OPERATIONS)
    assert response.status_code == 303 and response.headers["Location"].endswith("/attachments")
    soup = page(client.get(f"/applications/{filing_id}/attachments"))
    text = text_of(soup)
    assert (
        "允许上传 [.zip, .7z, .rar, .txt, .doc, .docx, .xls, .xlsx, .ppt, .pptx, .pdf] 格式的文件，大小不超过50MB!"
        in text
    )
    assert "选择..." in text and "上传" in text and "当前显示第 1 页 共 0 条记录" in text
    tabs = [t.get_text(strip=True) for t in soup.select(".tabs li")]
    # the two steps saved are marked complete (issue 18 item 2); no attachment yet
    assert tabs == ["✓（已完成）基本信息", "✓（已完成）服务经营情况", "申报证明材料上传"]
    assert "申报管理 / 核心服务机构调度管理 / 编辑服务机构申报信息" in text_of(soup.select_one(".breadcrumb"))
    # 返回 keeps what was saved.
    soup = page(client.get(f"/applications/{filing_id}/step/basic"))
    assert soup.find("input", {"name": "total_assets"})["value"] == "1200.50"


def test_templates_are_real_documents_with_the_institution_name(client, people):
    login(client, people.institution.username)
    filing_id = new_draft(client)
    response = client.get(f"/applications/{filing_id}/templates/outline")
    assert response.status_code == 200
    assert "filename*=UTF-8''%E6%A0%B8" in response.headers["Content-Disposition"]
    text = "\n".join(p.text for p in Document(io.BytesIO(response.data)).paragraphs)
    assert "核心服务机构申请报告提纲" in text and "长沙测试服务机构" in text
    response = client.get(f"/applications/{filing_id}/templates/staff")
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert "长沙测试服务机构" in sheet["A2"].value and sheet["B3"].value == "姓名"
    assert client.get(f"/applications/{filing_id}/templates/clients").status_code == 200
    assert "真实性声明" in "\n".join(
        p.text
        for p in Document(io.BytesIO(client.get(f"/applications/{filing_id}/templates/declaration").data)).paragraphs
    )
    assert client.get(f"/applications/{filing_id}/templates/nope").status_code == 404


def test_attachments_upload_validate_and_delete(client, app, people):
    login(client, people.institution.username)
    filing_id = new_draft(client)
    fill_steps(client, filing_id)
    response = upload(
        client,
        filing_id,
        ("申报材料.pdf", PDF),
        ("人员表.docx", DOCX_HEAD),
        ("病毒.pdf", b"MZ\x90\x00binary"),
        ("空文件.txt", b""),
        ("run.exe", b"MZ"),
    )
    assert response.status_code == 303
    text = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已上传：申报材料.pdf" in text and "已上传：人员表.docx" in text
    assert "内容与扩展名.pdf不符" in text and "是空文件" in text and "格式不允许上传" in text
    with app.app_context():
        attachments = db.session.scalars(sa.select(Attachment).where(Attachment.filing_id == filing_id)).all()
        assert sorted(a.original_name for a in attachments) == ["人员表.docx", "申报材料.pdf"]

        stored = stored_files(app)
        assert len(stored) == 2  # refused files left nothing behind
        chinese = next(a for a in attachments if a.original_name == "申报材料.pdf")
    download = client.get(f"/applications/{filing_id}/attachments/{chinese.id}")
    assert download.data == PDF
    assert "filename*=UTF-8''%E7%94%B3%E6%8A%A5%E6%9D%90%E6%96%99.pdf" in download.headers["Content-Disposition"]
    # htmx delete returns the step fragment without the file.
    response = client.post(
        f"/applications/{filing_id}/attachments/{chinese.id}/delete",
        data={"confirmed": "1"},  # the browser's confirm was answered (app.js)
        headers={"HX-Request": "true"},
    )
    soup = page(response, fragment=True)
    assert "申报材料.pdf" not in text_of(soup.select_one("table.attachments"))
    assert "已删除：申报材料.pdf" in text_of(soup)
    with app.app_context():
        assert len(stored_files(app)) == 1


def test_a_file_over_50mb_is_refused_and_leaves_nothing(client, app, people, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 60 * 1024 * 1024)
    login(client, people.institution.username)
    filing_id = new_draft(client)
    fill_steps(client, filing_id)
    big = b"%PDF-" + b"0" * (51 * 1024 * 1024)
    response = upload(client, filing_id, ("大文件.pdf", big))
    text = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "超过 50MB" in text

    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Attachment.id))) == 0
        assert stored_files(app) == []


def test_a_request_over_the_limit_gets_the_413_page(client, app, people, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024)
    login(client, people.institution.username)
    filing_id = new_draft(client)
    fill_steps(client, filing_id)
    big = b"%PDF-" + b"0" * (1024 * 1024 + 10)
    response = upload(client, filing_id, ("大文件.pdf", big))
    assert response.status_code == 413
    assert "单个文件不超过 50MB" in response.get_data(as_text=True)


def test_several_files_up_to_the_per_file_limit_go_up_together(client, app, people, monkeypatch):
    """The per-file limit applies to each file, not to the request (scaled down: 1 MB files)."""
    monkeypatch.setitem(app.config, "MAX_FILE_SIZE", 1024 * 1024)
    login(client, people.institution.username)
    filing_id = new_draft(client)
    fill_steps(client, filing_id)
    parts = [b"%PDF-" + bytes([48 + n]) * (900 * 1024) for n in range(3)]
    response = upload(client, filing_id, ("一.pdf", parts[0]), ("二.pdf", parts[1]), ("三.pdf", parts[2]))
    text = client.get(response.headers["Location"]).get_data(as_text=True)
    assert all(f"已上传：{name}" in text for name in ("一.pdf", "二.pdf", "三.pdf"))


def test_a_failed_commit_leaves_no_file_and_no_row(client, app, people, monkeypatch):
    login(client, people.institution.username)
    filing_id = new_draft(client)
    fill_steps(client, filing_id)

    def broken_commit():
        raise RuntimeError("database went away")

    original = db.session.commit
    monkeypatch.setattr(db.session, "commit", broken_commit, raising=False)
    try:
        with pytest.raises(RuntimeError):
            upload(client, filing_id, ("材料.pdf", PDF))
    finally:
        monkeypatch.setattr(db.session, "commit", original, raising=False)
    with app.app_context():
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(Attachment.id))) == 0
        assert stored_files(app) == []


def test_submit_requires_every_step_and_an_attachment(client, app, people):
    login(client, people.institution.username)
    filing_id = new_draft(client)
    fill_steps(client, filing_id)
    response = client.post(f"/applications/{filing_id}/submit", follow_redirects=True)
    assert "请至少上传 1 个附件" in response.get_data(as_text=True)
    upload(client, filing_id, ("材料.pdf", PDF))
    response = client.post(f"/applications/{filing_id}/submit")
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(CoreApplication, filing_id).status == "submitted"
    soup = page(client.get("/applications/"))
    assert "待初审" in text_of(soup)


def test_one_application_per_round(client, people):
    login(client, people.institution.username)
    new_draft(client)
    response = client.post("/applications/new", follow_redirects=True)
    # only a draft exists: the message says so and leads to it, not "已提交过"
    body = response.get_data(as_text=True)
    assert "本期已有一份尚未提交的核心服务机构申报草稿" in body
    assert "已提交过" not in body
    assert "继续填写草稿" in body


def test_second_application_after_submitting_says_it_was_submitted(client, people):
    login(client, people.institution.username)
    filing_id = ready_application(client)
    client.post(f"/applications/{filing_id}/submit")
    response = client.post("/applications/new", follow_redirects=True)
    body = response.get_data(as_text=True)
    assert "本批次已提交过核心服务机构申报，每个机构每批次只能申报一次" in body
    assert "查看已有的填报记录" in body


def test_edit_after_submit_withdraws_to_draft_until_a_reviewer_acts(client, app, people):
    login(client, people.institution.username)
    filing_id = ready_application(client)
    client.post(f"/applications/{filing_id}/submit")
    response = client.get(f"/applications/{filing_id}/step/basic")
    assert response.headers["Location"].endswith(f"/applications/{filing_id}/withdraw")
    soup = page(client.get(f"/applications/{filing_id}/withdraw"))
    assert "撤回并修改" in text_of(soup)
    assert client.post(f"/applications/{filing_id}/withdraw").status_code == 303
    with app.app_context():
        assert db.session.get(CoreApplication, filing_id).status == "draft"
    # Deleting works for drafts only; another institution's draft is a 404.
    other = client.application.test_client()
    login(other, people.other_institution.username)
    assert other.post(f"/applications/{filing_id}/delete").status_code == 404
    assert client.post(f"/applications/{filing_id}/delete").status_code == 303
    with app.app_context():
        assert db.session.get(CoreApplication, filing_id) is None


def test_two_level_review_return_resubmit_and_recognition(client, app, people):
    login(client, people.institution.username)
    filing_id = ready_application(client)
    client.post(f"/applications/{filing_id}/submit")

    city = app.test_client()
    login(city, people.city.username)
    queue = text_of(page(city.get("/applications/review")))
    assert "长沙测试服务机构" in queue
    # A return needs a comment; the page keeps the choice and explains.
    response = city.post(f"/applications/{filing_id}/review", data={"action": "city_return", "comment": ""})
    assert "请填写审核意见" in text_of(page(response, status=422))
    response = city.post(
        f"/applications/{filing_id}/review",
        data={"action": "city_return", "comment": "注册资本与营业执照不符", "pinned": ["registered_capital"]},
    )
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(CoreApplication, filing_id).status == "returned"
        message = db.session.scalar(sa.select(Message).where(Message.user_id == people.institution.id))
        assert "已退回" in message.title and "注册资本与营业执照不符" in message.body
        assert db.session.scalar(sa.select(sa.func.count(SmsMessage.id))) >= 1

    # The applicant sees the comment and the pinned field, edits and resubmits.
    soup = page(client.get(f"/applications/{filing_id}/step/basic"))
    assert "注册资本与营业执照不符" in text_of(soup)
    assert "pinned" in soup.find(id="field-registered_capital")["class"]
    client.post(f"/applications/{filing_id}/step/basic", data=dict(BASIC, registered_capital="600"))
    assert client.post(f"/applications/{filing_id}/submit").status_code == 303

    # Another 市州's admin sees nothing of it.
    other_city = app.test_client()
    login(other_city, people.other_city.username)
    assert other_city.get(f"/applications/{filing_id}/review").status_code == 404
    assert other_city.get(f"/applications/{filing_id}").status_code == 404
    assert "长沙测试服务机构" not in text_of(page(other_city.get("/applications/review?status=")))

    # The province cannot act before the city has approved.
    province = app.test_client()
    login(province, people.province.username)
    response = province.post(f"/applications/{filing_id}/review", data={"action": "province_approve"})
    assert response.status_code == 422

    assert (
        city.post(
            f"/applications/{filing_id}/review", data={"action": "city_approve", "comment": "材料齐全"}
        ).status_code
        == 303
    )
    assert "长沙测试服务机构" in text_of(page(province.get("/applications/review")))
    assert province.post(f"/applications/{filing_id}/review", data={"action": "province_approve"}).status_code == 303
    with app.app_context():
        application = db.session.get(CoreApplication, filing_id)
        assert application.status == "approved"
        recognition = db.session.scalar(sa.select(Recognition).where(Recognition.application_id == filing_id))
        assert recognition.term_label == "2026-2029"
        actions = [
            e.action
            for e in db.session.scalars(
                sa.select(ReviewEvent).where(ReviewEvent.filing_id == filing_id).order_by(ReviewEvent.id)
            )
        ]
        assert actions == ["submit", "city_return", "submit", "city_approve", "province_approve"]
    soup = page(client.get(f"/applications/{filing_id}"))
    text = text_of(soup)
    assert "已认定" in text and "注册资本与营业执照不符" in text and "600.00 万元" in text


def test_authorization_by_id(client, app, people):
    login(client, people.institution.username)
    filing_id = ready_application(client)
    other = app.test_client()
    login(other, people.other_institution.username)
    for path in (
        f"/applications/{filing_id}",
        f"/applications/{filing_id}/step/basic",
        f"/applications/{filing_id}/attachments",
    ):
        assert other.get(path).status_code == 404, path
    assert other.post(f"/applications/{filing_id}/submit").status_code == 404
    anonymous = app.test_client()
    assert anonymous.get(f"/applications/{filing_id}").status_code == 302
    # Drafts are private: even the city admin of the 市州 cannot open one.
    city = app.test_client()
    login(city, people.city.username)
    assert city.get(f"/applications/{filing_id}").status_code == 404
    # An institution cannot reach the review pages.
    assert client.get("/applications/review").status_code == 403


def test_export_lists_every_field(client, app, people):
    login(client, people.institution.username)
    filing_id = ready_application(client)
    client.post(f"/applications/{filing_id}/submit")
    province = app.test_client()
    login(province, people.province.username)
    response = queue_export(province, "/applications/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert "注册资本(万元)" in header and "2024年服务企业数(家次)" in header and "审核状态" in header
    row = dict(zip(header, rows[1]))
    assert row["机构名称"] == "长沙测试服务机构" and row["总资产(万元)"] == 1200.5 and row["审核状态"] == "待初审"


def test_admin_home_counts_waiting_applications(client, app, people):
    login(client, people.institution.username)
    filing_id = ready_application(client)
    client.post(f"/applications/{filing_id}/submit")
    city = app.test_client()
    login(city, people.city.username)
    text = text_of(page(city.get("/admin/")))
    assert re.search(r"1 件 待审核核心服务机构申报", text), text
    other_city = app.test_client()
    login(other_city, people.other_city.username)
    assert re.search(r"0 件 待审核核心服务机构申报", text_of(page(other_city.get("/admin/"))))


def test_the_list_reminds_that_drafts_are_not_submitted(client, people):
    login(client, people.institution.username)
    new_draft(client)
    text = text_of(page(client.get("/applications/")))
    assert "尚未提交，审核人员看不到" in text and "点击“提交申报”" in text


def test_delete_without_javascript_asks_on_a_page_then_says_deleted(client, app, people):
    login(client, people.institution.username)
    filing_id = new_draft(client)
    client.post(f"/applications/{filing_id}/step/basic", data=BASIC)
    client.post(f"/applications/{filing_id}/step/operations", data=OPERATIONS)
    data = {"files": [(io.BytesIO(PDF), "营业执照.pdf")]}
    client.post(f"/applications/{filing_id}/attachments", data=data, content_type="multipart/form-data")
    with app.app_context():
        attachment_id = db.session.scalar(sa.select(Attachment.id).where(Attachment.filing_id == filing_id))
    url = f"/applications/{filing_id}/attachments/{attachment_id}/delete"
    # the step's 删除 carries an empty confirmed field, which app.js fills once the browser asked
    step = page(client.get(f"/applications/{filing_id}/attachments"))
    assert step.select_one(f"form[action='{url}'] input[name=confirmed]")["value"] == ""
    # without JavaScript: a page asks first, and nothing is deleted yet
    soup = page(client.post(url))
    assert "确定删除附件“营业执照.pdf”" in text_of(soup)
    assert soup.select_one(f"form[action='{url}'] input[name=confirmed]")["value"] == "1"
    with app.app_context():
        assert db.session.get(Attachment, attachment_id) is not None
    response = client.post(url, data={"confirmed": "1"})
    assert response.status_code == 303
    assert "已删除：营业执照.pdf" in text_of(page(client.get(response.headers["Location"])))
    with app.app_context():
        assert db.session.get(Attachment, attachment_id) is None


def test_the_upload_control_is_one_picker_with_the_limits_for_the_browser(client, app, people):
    login(client, people.institution.username)
    filing_id = new_draft(client)
    client.post(f"/applications/{filing_id}/step/basic", data=BASIC)
    client.post(f"/applications/{filing_id}/step/operations", data=OPERATIONS)
    data = {"files": [(io.BytesIO(PDF), "营业执照.pdf")]}
    client.post(f"/applications/{filing_id}/attachments", data=data, content_type="multipart/form-data")
    soup = page(client.get(f"/applications/{filing_id}/attachments"))
    form = soup.select_one("form[data-upload]")
    assert len(form.select("input[type=file]")) == 1 and not form.select(".file-pick")
    assert int(form["data-max-file"]) == app.config["MAX_FILE_SIZE"]
    assert int(form["data-max-files"]) == app.config["FILING_MAX_FILES"] - 1
    assert int(form["data-max-bytes"]) == app.config["FILING_MAX_BYTES"] - len(PDF)
    cell = soup.select_one("[data-attached]")
    assert cell["data-name"] == "营业执照.pdf" and len(cell["data-sha256"]) == 64
