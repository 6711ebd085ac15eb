"""用户管理: list and filters, details, 停用/启用, 重置密码, 新增管理员."""

import re

import sqlalchemy as sa

from app.audit import AuditLog
from app.blueprints.auth.models import User, UserSession
from app.extensions import db
from app.sms import SmsMessage
from tests import sms_capture
from tests.admin.conftest import assert_logged_out, count, fresh, signed_in
from tests.factories import PASSWORD, make_city_admin, make_enterprise, make_expert, make_institution
from tests.helpers import login, page, text_of


def _rows(soup):
    return soup.select("#results table.list tbody tr")


def test_list_shows_columns_and_pager(province, app_ctx):
    inst = make_institution(name="湖南测试服务有限公司")
    make_expert()
    make_enterprise()
    soup = page(province.get("/admin/users"))
    headers = [th.get_text(strip=True) for th in soup.select("#results thead th")]
    assert headers == ["序号", "帐户名称", "类型", "名称", "所在地区", "手机", "状态", "注册时间", "最近登录", "操作"]
    assert len(_rows(soup)) == 4  # three accounts and the admin itself
    text = text_of(soup)
    assert "湖南测试服务有限公司" in text and "长沙市 芙蓉区" in text and inst.phone in text
    assert "当前显示第 1 页 共 4 条记录" in text


def test_list_filters(province, app_ctx):
    make_institution(name="长沙甲机构", city_code="430100", county_code="430102")
    zhuzhou = make_institution(name="株洲乙机构", city_code="430200", county_code="430202", phone="13912345678")
    make_expert()
    disabled = make_enterprise()
    disabled.status = "disabled"
    db.session.commit()

    def names(query):
        return [row.find_all("td")[3].get_text(strip=True) for row in _rows(page(province.get("/admin/users" + query)))]

    assert sorted(names("?role=institution")) == ["株洲乙机构", "长沙甲机构"]
    assert names("?city_code=430200") == ["株洲乙机构"]
    assert names("?status=disabled") == [disabled.enterprise.name]
    assert names("?q=株洲") == ["株洲乙机构"]  # by 名称
    assert names("?q=13912345678") == ["株洲乙机构"]  # by 手机
    assert names(f"?q={zhuzhou.username.upper()}") == ["株洲乙机构"]  # by 帐户名称, any case
    assert names("?q=%25") == []  # LIKE wildcards are literal
    # an htmx filter request gets the results fragment only
    fragment = page(province.get("/admin/users?role=expert", headers={"HX-Request": "true"}), fragment=True)
    assert fragment.find(id="results") and not fragment.find("nav")


def test_list_pages_through_many_accounts(province, app_ctx, app, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 3)
    for _ in range(4):
        make_enterprise()
    soup = page(province.get("/admin/users?role=enterprise&page=2"))
    assert "当前显示第 2 页 共 4 条记录" in text_of(soup)
    assert _rows(soup)[0].find("td").get_text(strip=True) == "4"  # 序号 continues
    assert "role=enterprise" in soup.find("a", rel="prev")["href"]


def test_list_query_count_does_not_grow_with_rows(province, app_ctx, app):
    statements = []

    def counter(*args):
        statements.append(1)

    make_institution(), make_expert(), make_enterprise()
    province.get("/admin/users")  # warm caches (region names) before counting
    sa.event.listen(db.engine, "before_cursor_execute", counter)
    try:
        db.session.commit()  # the requests share the test's session: start both from the same state
        province.get("/admin/users")
        few = len(statements)
        for _ in range(5):
            make_institution(), make_expert(), make_enterprise()
        db.session.commit()
        statements.clear()
        province.get("/admin/users")
        many = len(statements)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", counter)
    assert many == few


def test_show_user_has_profile_logins_and_sessions(province, app_ctx, other_client):
    inst = make_institution(name="详情测试机构")
    signed_in(other_client, inst)
    soup = page(province.get(f"/admin/users/{inst.id}"))
    text = text_of(soup)
    assert "详情测试机构" in text and inst.institution.uscc in text and "企业" in text
    assert "在线会话" in text and "强退" in text
    assert "最近登录记录" in text and "成功" in text


def test_disable_ends_sessions_and_blocks_login(province, app_ctx, other_client):
    inst = make_institution()
    signed_in(other_client, inst)
    assert other_client.get("/workspace/").status_code == 200
    response = province.post(f"/admin/users/{inst.id}/disable")
    assert response.status_code == 303
    assert fresh(User, inst.id).status == "disabled"
    assert_logged_out(other_client)
    assert count(UserSession, UserSession.user_id == inst.id, UserSession.ended_at.is_(None)) == 0
    assert login(other_client, inst).status_code == 200  # refused: the form comes back
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "user.disable"))
    assert (
        entry.target_id == str(inst.id)
        and entry.before == {"status": "active"}
        and entry.after == {"status": "disabled"}
    )
    assert entry.actor_name == "sheng"
    assert "已停用" in text_of(page(province.get(response.headers["Location"])))


def test_cannot_disable_yourself(province, province_admin):
    response = province.post(f"/admin/users/{province_admin.id}/disable", follow_redirects=True)
    assert "不能停用自己的帐户" in text_of(page(response))
    assert fresh(User, province_admin.id).status == "active"


def test_enable(province, app_ctx, other_client):
    inst = make_institution()
    inst.status = "disabled"
    db.session.commit()
    response = province.post(f"/admin/users/{inst.id}/enable", follow_redirects=True)
    assert "已启用帐户" in text_of(page(response))
    assert fresh(User, inst.id).status == "active"
    assert count(AuditLog, AuditLog.action == "user.enable") == 1
    signed_in(other_client, inst)
    # enabling twice is refused with a message, not an error page
    again = province.post(f"/admin/users/{inst.id}/enable", follow_redirects=True)
    assert "已是正常状态" in text_of(page(again))


def test_reset_password(province, app_ctx, other_client):
    inst = make_institution(phone="13911112222")
    signed_in(other_client, inst)
    response = province.post(f"/admin/users/{inst.id}/reset-password", follow_redirects=True)
    text = text_of(page(response))
    match = re.search(r"临时密码：(\S+) （仅显示这一次）", text)
    assert match, text
    temporary = match.group(1)
    assert "已通过短信发送至 13911112222" in text
    # shown once: the next page no longer carries it
    assert temporary not in province.get(f"/admin/users/{inst.id}").get_data(as_text=True)
    user = fresh(User, inst.id)
    assert user.must_change_password and user.check_password(temporary) and not user.check_password(PASSWORD)
    assert_logged_out(other_client)
    sms = db.session.scalar(sa.select(SmsMessage).where(SmsMessage.phone == "13911112222"))
    # delivered whole, stored masked: the 短信日志 never holds a live password
    assert temporary not in sms.text and "临时密码：**********" in sms.text and sms.status == "sent"
    assert any(temporary in text for text in sms_capture.delivered("13911112222"))
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "user.reset_password"))
    assert temporary not in str(entry.before) + str(entry.after) + entry.summary
    # the user logs in with it and is sent to change the password first
    assert login(other_client, inst, password=temporary).status_code in (302, 303)
    response = other_client.get("/workspace/")
    assert response.status_code == 302 and "/workspace/password" in response.headers["Location"]


def test_reset_password_without_mobile_sends_no_sms(province, app_ctx):
    admin = make_city_admin(city_code="430200")
    response = province.post(f"/admin/users/{admin.id}/reset-password", follow_redirects=True)
    assert "请通过安全方式告知用户" in text_of(page(response))
    assert count(SmsMessage) == 0


def _new_admin_data(**changes):
    data = {
        "username": "xiangtan",
        "display_name": "湘潭市工信局",
        "role": "city_admin",
        "city_code": "430300",
        "phone": "13800138000",
        "password": "Hunan2026xt",
        "confirm": "Hunan2026xt",
    }
    data.update(changes)
    return data


def test_new_admin(province, app_ctx, other_client):
    page(province.get("/admin/users/new-admin"))
    response = province.post("/admin/users/new-admin", data=_new_admin_data())
    assert response.status_code == 303
    user = db.session.scalar(sa.select(User).where(User.username == "xiangtan"))
    assert (user.role, user.city_code, user.phone, user.must_change_password) == (
        "city_admin",
        "430300",
        "13800138000",
        True,
    )
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "user.create_admin"))
    assert entry.actor_name == "sheng" and entry.after["city_code"] == "430300"
    # the new admin must change the password at first login
    assert login(other_client, "xiangtan", password="Hunan2026xt").status_code in (302, 303)
    assert "/workspace/password" in other_client.get("/admin/").headers["Location"]


def test_new_province_admin_needs_no_city(province, app_ctx):
    response = province.post(
        "/admin/users/new-admin", data=_new_admin_data(username="sheng2", role="province_admin", city_code="")
    )
    assert response.status_code == 303
    user = db.session.scalar(sa.select(User).where(User.username == "sheng2"))
    assert user.role == "province_admin" and user.city_code is None


def test_new_admin_errors_beside_fields(province, app_ctx):
    make_city_admin(username="taken")
    cases = [
        (_new_admin_data(city_code=""), "city_code", "市州管理员必须选择所属市州"),
        (_new_admin_data(username="TAKEN"), "username", "该帐户名称已被使用"),
        (_new_admin_data(confirm="Other2026x"), "confirm", "两次输入的密码不一致"),
        (_new_admin_data(password="abc", confirm="abc"), "password", "密码至少 8 位"),
        (_new_admin_data(phone="12345"), "phone", "11 位手机号码"),
    ]
    for data, field, message in cases:
        soup = page(province.post("/admin/users/new-admin", data=data))
        assert message in soup.find(id=f"field-{field}").get_text(), field
        assert soup.find(class_="error-summary")
        assert soup.find(id="display_name")["value"] == "湘潭市工信局"  # typed input kept
    assert count(User, User.role == "city_admin") == 1
