"""手机号变更申诉: the province admin approves or rejects; the outcome goes by SMS and inbox."""

import os
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from app.audit import AuditLog
from app.blueprints.auth.models import PhoneChangeRequest, User
from app.extensions import db
from app.filings.models import Attachment
from app.inbox import Message
from app.sms import SmsMessage
from tests.admin.conftest import assert_logged_out, count, fresh, signed_in
from tests.factories import make_expert, make_institution
from tests.helpers import page, text_of


def make_request(user=None, username=None, old_phone=None, new_phone="13700009999", with_proof=True):
    attachment = None
    if with_proof:
        folder = Path(current_app.config["UPLOAD_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        stored = os.urandom(8).hex() + ".pdf"
        (folder / stored).write_bytes(b"%PDF-1.4 proof")
        attachment = Attachment(original_name="营业执照及说明.pdf", stored_name=stored, size=14, sha256="0" * 64)
        db.session.add(attachment)
        db.session.flush()
    req = PhoneChangeRequest(
        username=username or user.username,
        user_id=user.id if user else None,
        old_phone=old_phone or (user.phone if user else "13600000000"),
        new_phone=new_phone,
        reason="原手机号已停用，无法接收验证码。",
        attachment_id=attachment.id if attachment else None,
    )
    db.session.add(req)
    db.session.commit()
    return req


def test_list_defaults_to_pending(province, app_ctx):
    inst = make_institution(username="shenqing")
    make_request(inst)
    done = make_request(make_expert(username="yichuli"))
    done.status = "rejected"
    db.session.commit()
    make_request(username="meiyouzhege")
    soup = page(province.get("/admin/phone-requests"))
    headers = [th.get_text(strip=True) for th in soup.select("#results thead th")]
    assert headers == ["序号", "提交时间", "帐户名称", "帐户是否存在", "原手机号", "新手机号", "状态", "操作"]
    text = text_of(soup.find(id="results"))
    assert "shenqing" in text and "meiyouzhege" in text and "yichuli" not in text
    assert "当前显示第 1 页 共 2 条记录" in text
    assert "yichuli" in text_of(page(province.get("/admin/phone-requests?status=rejected")))
    assert len(page(province.get("/admin/phone-requests?status=all")).select("#results tbody tr")) == 3


def test_home_counts_pending_requests(province, app_ctx):
    make_request(make_institution())
    make_request(make_institution())
    soup = page(province.get("/admin/"))
    tiles = {tile.find("b").next_sibling.strip(): tile for tile in soup.select(".stats .stat")}
    tile = tiles["待审核手机号变更申诉"]
    assert tile.find("b").get_text(" ").split()[0] == "2" and tile["href"] == "/admin/phone-requests"
    assert tiles["服务机构帐户"].find("b").get_text(" ").split()[0] == "2"
    assert tiles["在线用户"].find("b").get_text(" ").split()[0] == "1"


def test_show_request_details_and_proof(province, app_ctx):
    inst = make_institution(phone="13912340000")
    req = make_request(inst, old_phone="13900000000")
    soup = page(province.get(f"/admin/phone-requests/{req.id}"))
    text = text_of(soup)
    assert "13912340000" in text  # the current bound phone
    assert "与当前绑定手机不一致" in text
    assert "营业执照及说明.pdf" in text
    assert [b.get_text(strip=True) for b in soup.select("button[name=decision]")] == ["通过", "驳回"]
    response = province.get(f"/admin/phone-requests/{req.id}/proof")
    assert response.status_code == 200 and response.data == b"%PDF-1.4 proof"
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    no_proof = make_request(inst, with_proof=False)
    assert province.get(f"/admin/phone-requests/{no_proof.id}/proof").status_code == 404
    assert province.get("/admin/phone-requests/99999").status_code == 404


def test_approve(province, app_ctx, other_client):
    inst = make_institution(phone="13911110000")
    signed_in(other_client, inst)
    req = make_request(inst, new_phone="13722223333")
    response = province.post(f"/admin/phone-requests/{req.id}/decide", data={"decision": "approve", "note": ""})
    assert response.status_code == 303
    user = fresh(User, inst.id)
    assert user.phone == "13722223333" and user.institution.phone == "13722223333"
    req = fresh(PhoneChangeRequest, req.id)
    assert req.status == "approved" and req.decided_at is not None
    assert_logged_out(other_client)
    sms = db.session.scalars(sa.select(SmsMessage).where(SmsMessage.phone == "13722223333")).all()
    assert len(sms) == 1 and "已通过" in sms[0].text
    message = db.session.scalar(sa.select(Message).where(Message.user_id == inst.id))
    assert message.title == "手机号变更申诉已通过"
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "phone_request.approve"))
    assert entry.before["phone"] == "13911110000" and entry.after["phone"] == "13722223333"
    soup = page(province.get(response.headers["Location"]))
    assert "已通过" in text_of(soup) and not soup.select("form button[name=decision]")
    # a decided request cannot be decided again
    again = province.post(
        f"/admin/phone-requests/{req.id}/decide", data={"decision": "reject", "note": "重复"}, follow_redirects=True
    )
    assert "该申诉已处理，不能重复处理" in text_of(page(again))
    assert fresh(PhoneChangeRequest, req.id).status == "approved"
    assert count(SmsMessage) == 1


def test_approve_updates_expert_profile_phone(province, app_ctx):
    expert = make_expert()
    req = make_request(expert, new_phone="13655556666")
    province.post(f"/admin/phone-requests/{req.id}/decide", data={"decision": "approve"})
    assert fresh(User, expert.id).expert.phone == "13655556666"


def test_reject_needs_a_note(province, app_ctx):
    inst = make_institution(phone="13911110000")
    req = make_request(inst, new_phone="13722223333")
    soup = page(province.post(f"/admin/phone-requests/{req.id}/decide", data={"decision": "reject", "note": ""}))
    assert "驳回时请填写处理意见" in soup.find(id="field-note").get_text()
    assert fresh(PhoneChangeRequest, req.id).status == "pending"
    response = province.post(
        f"/admin/phone-requests/{req.id}/decide", data={"decision": "reject", "note": "证明材料不清晰，请重新提交。"}
    )
    assert response.status_code == 303
    assert fresh(PhoneChangeRequest, req.id).status == "rejected"
    assert fresh(User, inst.id).phone == "13911110000"
    sms = db.session.scalar(sa.select(SmsMessage).where(SmsMessage.phone == "13722223333"))
    assert "未通过" in sms.text and "证明材料不清晰" in sms.text
    message = db.session.scalar(sa.select(Message).where(Message.user_id == inst.id))
    assert message.title == "手机号变更申诉未通过" and "证明材料不清晰" in message.body
    assert count(AuditLog, AuditLog.action == "phone_request.reject") == 1


def test_request_for_unknown_account_can_only_be_rejected(province, app_ctx):
    req = make_request(username="nobody", new_phone="13733334444")
    soup = page(province.get(f"/admin/phone-requests/{req.id}"))
    assert [b.get_text(strip=True) for b in soup.select("button[name=decision]")] == ["驳回"]
    response = province.post(
        f"/admin/phone-requests/{req.id}/decide", data={"decision": "approve"}, follow_redirects=True
    )
    assert "只能驳回" in text_of(page(response))
    assert fresh(PhoneChangeRequest, req.id).status == "pending"
    province.post(f"/admin/phone-requests/{req.id}/decide", data={"decision": "reject", "note": "帐户不存在。"})
    assert fresh(PhoneChangeRequest, req.id).status == "rejected"
    assert count(SmsMessage, SmsMessage.phone == "13733334444") == 1
    assert count(Message) == 0
