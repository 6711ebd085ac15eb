"""登录日志, 在线用户 with 强退, 操作日志, 短信日志."""

from datetime import timedelta

import sqlalchemy as sa

from app.audit import AuditLog, audit
from app.blueprints.admin.display import browser_family, mask_sms
from app.blueprints.auth.models import UserSession
from app.extensions import db
from app.sms import SmsMessage
from app.utils import utcnow
from tests.admin.conftest import assert_logged_out, count, signed_in
from tests.factories import make_expert, make_institution
from tests.helpers import login, page, text_of

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
EDGE = CHROME + " Edg/120.0.0.0"
QIHU = (
    "Mozilla/5.0 (Windows NT 6.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/86.0.4240.198 Safari/537.36 QIHU 360SE"
)
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"


def test_browser_family():
    assert browser_family(CHROME) == "Chrome"
    assert browser_family(EDGE) == "Edge"
    assert browser_family(QIHU) == "360"
    assert browser_family(FIREFOX) == "Firefox"
    assert browser_family("Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0)") == "IE"
    assert browser_family(None) == "未知"


def test_login_logs_list_and_filters(province, app_ctx, other_client):
    inst = make_institution(username="jigou1")
    login(other_client, inst, password="wrong-Pass1")
    other_client.post(
        "/auth/login",
        data={"username": inst.username, "password": "Test2026pass", "captcha": "TEST"},
        headers={"User-Agent": EDGE},
    )
    soup = page(province.get("/admin/login-logs"))
    headers = [th.get_text(strip=True) for th in soup.select("#results thead th")]
    assert headers == ["序号", "时间", "帐户名称", "结果", "IP", "浏览器"]
    text = text_of(soup)
    assert "失败 密码错误" in text and "成功" in text and "jigou1" in text
    edge = soup.find("span", title=EDGE)
    assert edge is not None and edge.get_text(strip=True) == "Edge"

    def rows(query):
        return [
            row.find_all("td")[2].get_text(strip=True)
            for row in page(province.get("/admin/login-logs" + query)).select("#results tbody tr")
        ]

    assert rows("?result=fail") == ["jigou1"]
    assert rows("?username=JIGOU") == ["jigou1", "jigou1"]
    # a date range: today holds them all, yesterday nothing
    today = (utcnow() + timedelta(hours=8)).date()
    assert len(rows(f"?date_from={today}&date_to={today}")) == 3  # the admin's own login too
    assert rows(f"?date_to={today - timedelta(days=1)}") == []
    # a bad date is marked and ignored, not an error page
    soup = page(province.get("/admin/login-logs?date_from=2024-13-40"))
    assert soup.select(".filters .error-message")


def test_online_lists_open_sessions_and_marks_the_current_one(province, app_ctx, other_client, app, monkeypatch):
    inst = make_institution(username="zaixian")
    other_client.post(
        "/auth/login",
        data={"username": "zaixian", "password": "Test2026pass", "captcha": "TEST"},
        headers={"User-Agent": QIHU},
    )
    # a session idle past the timeout is not listed
    stale = make_expert(username="guoqi")
    db.session.add(
        UserSession(
            id="stale-session",
            user_id=stale.id,
            created_at=utcnow() - timedelta(hours=2),
            last_seen_at=utcnow() - timedelta(hours=1),
        )
    )
    db.session.commit()
    soup = page(province.get("/admin/online"))
    rows = soup.select("table.list tbody tr")
    assert len(rows) == 2
    text = text_of(soup)
    assert "zaixian" in text and "guoqi" not in text and "360" in text
    own = [row for row in rows if "sheng" in row.get_text()][0]
    assert "当前会话" in own.get_text() and not own.find("button")
    theirs = [row for row in rows if "zaixian" in row.get_text()][0]
    assert theirs.find("button").get_text(strip=True) == "强退"
    # the page never shows a real session id
    sid = db.session.scalar(sa.select(UserSession.id).where(UserSession.user_id == inst.id))
    assert sid not in str(soup)


def test_force_logout(province, app_ctx, other_client):
    inst = make_institution(username="qiangtui")
    signed_in(other_client, inst)
    assert other_client.get("/workspace/").status_code == 200
    soup = page(province.get("/admin/online"))
    row = [row for row in soup.select("table.list tbody tr") if "qiangtui" in row.get_text()][0]
    ref = row.find("input", attrs={"name": "session"})["value"]
    response = province.post("/admin/online/force-logout", data={"session": ref})
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/online")
    assert_logged_out(other_client)
    ended = db.session.scalar(sa.select(UserSession).where(UserSession.user_id == inst.id))
    db.session.refresh(ended)
    assert ended.end_reason == "forced" and ended.ended_at is not None
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "session.force_logout"))
    assert entry.target_id == str(inst.id) and "qiangtui" in entry.summary
    # forcing the same session again is refused with a message
    again = province.post("/admin/online/force-logout", data={"session": ref}, follow_redirects=True)
    assert "该会话已结束" in text_of(page(again))


def test_force_logout_refuses_own_session(province, province_admin):
    soup = page(province.get("/admin/online"))
    assert not soup.select("input[name=session]")
    sid = db.session.scalar(sa.select(UserSession.id).where(UserSession.user_id == province_admin.id))
    from app.blueprints.admin.queries import session_ref

    response = province.post("/admin/online/force-logout", data={"session": session_ref(sid)}, follow_redirects=True)
    assert "不能强退自己的当前会话" in text_of(page(response))
    assert count(UserSession, UserSession.id == sid, UserSession.ended_at.is_(None)) == 1


def test_force_logout_from_user_page_returns_there(province, app_ctx, other_client):
    inst = make_institution()
    signed_in(other_client, inst)
    soup = page(province.get(f"/admin/users/{inst.id}"))
    form = soup.find("input", attrs={"name": "session"}).find_parent("form")
    data = {field["name"]: field.get("value", "") for field in form.find_all("input")}
    response = province.post(form["action"], data=data)
    assert response.headers["Location"].endswith(f"/admin/users/{inst.id}")
    assert_logged_out(other_client)


def test_audit_list_filters_and_details(province, app_ctx, province_admin):
    inst = make_institution()
    audit(
        "user.disable",
        summary="停用帐户 测试",
        target=inst,
        before={"status": "active", "phone": "139"},
        after={"status": "disabled", "phone": "139"},
        actor=province_admin,
    )
    audit("custom.code", summary="其他模块的操作", actor=province_admin)
    db.session.commit()
    soup = page(province.get("/admin/audit"))
    headers = [th.get_text(strip=True) for th in soup.select("#results thead th")]
    assert headers == ["序号", "时间", "操作人", "操作", "对象", "机构", "摘要", "IP", "详情"]
    # the 机构 column links to the institution's 机构详情 (a line about no institution leaves it empty)
    links = [a["href"] for a in soup.select("#results tbody td:nth-of-type(6) a")]
    assert links == [f"/admin/institutions/{inst.institution.id}"]
    text = text_of(soup)
    assert "停用帐户" in text and "custom.code" in text  # a label, and an unknown code as it is
    # the object by its name (the account's display name or username), with the institution
    assert f"帐户 {inst.display_name or inst.username}" in text and "LocalProxy" not in text
    only = page(province.get("/admin/audit?action=user.disable")).select("#results tbody tr")
    assert len(only) == 1
    by_institution = page(province.get(f"/admin/audit?institution={inst.institution.name[:4]}"))
    assert len(by_institution.select("#results tbody tr")) == 1  # the other line concerns no institution
    assert len(page(province.get("/admin/audit?target_type=User")).select("#results tbody tr")) == 1
    assert page(province.get("/admin/audit?actor=nobody")).select("#results tbody tr") == []
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "user.disable"))
    detail = page(province.get(f"/admin/audit/{entry.id}"))
    cells = [
        [cell.get_text(strip=True) for cell in row.find_all(["th", "td"])]
        for row in detail.select("table.list tbody tr")
    ]
    assert ["状态", "正常", "已停用"] in cells
    assert ["手机", "139", "139"] in cells
    assert detail.select("tr.changed") and len(detail.select("tr.changed")) == 1
    assert province.get("/admin/audit/99999").status_code == 404


def test_sms_outbox_masks_codes_too(province, app_ctx):
    db.session.add(SmsMessage(phone="13900001111", text="您的验证码为 482913，10分钟内有效。", backend="outbox"))
    db.session.add(SmsMessage(phone="13700002222", text="您的申诉已通过。", backend="outbox"))
    db.session.commit()
    soup = page(province.get("/admin/sms"))
    text = text_of(soup)
    assert "当前为开发用发件箱，短信不会真正发出" in text
    assert "482913" not in text and "验证码为 ******" in text
    rows = page(province.get("/admin/sms?phone=1390000")).select("#results tbody tr")
    assert len(rows) == 1 and "13900001111" in rows[0].get_text()


def test_sms_masks_codes_with_a_live_backend(province, app_ctx, app, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_BACKEND", "example.gateway:Backend")
    db.session.add(SmsMessage(phone="13900001111", text="您的验证码为 482913，10分钟内有效。", backend="gateway"))
    db.session.add(
        SmsMessage(
            phone="13900001111",
            text="您的帐户 a 的密码已由管理员重置，临时密码：Kx7pQ2mZ9a ，请登录后修改。",
            backend="gateway",
        )
    )
    db.session.commit()
    text = text_of(page(province.get("/admin/sms")))
    assert "当前为开发用发件箱" not in text
    assert "482913" not in text and "验证码为 ******" in text
    assert "Kx7pQ2mZ9a" not in text and "临时密码：********" in text
    assert "13900001111" in text  # the phone number itself is not masked


def test_mask_sms_keeps_dates_and_landlines():
    assert mask_sms("验证码:4821") == "验证码:****"
    assert mask_sms("2024年请拨打 0731-89706287") == "2024年请拨打 0731-89706287"
