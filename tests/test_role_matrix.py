"""Who may open what, checked against a table written from DESIGN.md ("Who uses it", "Security")
and the operations manual, not read from the code's declarations: a wrong declaration fails here.

Every GET page in ``app.url_map`` without path arguments must be in the table (a new page has to be
placed in it consciously); pages with ids are requested with rows the fixture creates. Allowed means
neither 401/403 nor a redirect to 登录; refused means 403, or for a visitor a redirect to 登录.
"""

import pytest
import sqlalchemy as sa

from app.extensions import db
from tests.factories import (
    make_city_admin,
    make_enterprise,
    make_expert,
    make_institution,
    make_province_admin,
    make_round,
)
from tests.helpers import login

ANON, ENT, INST, EXP, CITY, PROV = "anonymous", "enterprise", "institution", "expert", "city_admin", "province_admin"
EVERYONE = {ANON, ENT, INST, EXP, CITY, PROV}
SIGNED_IN = {ENT, INST, EXP, CITY, PROV}
ADMINS = {CITY, PROV}

# path -> who may reach it
MATRIX = {
    # 门户 (portal): public, also on a phone
    "/": EVERYONE,
    "/notices": EVERYONE,
    "/notices/{notice_id}": EVERYONE,
    "/institutions": EVERYONE,
    "/institutions/{institution_id}": EVERYONE,
    "/excellent/institutions": EVERYONE,
    "/excellent/products": EVERYONE,
    "/excellent/experts": EVERYONE,
    "/big-data": EVERYONE,
    "/reports/big-data.xlsx": EVERYONE,  # the portal's 调度大数据 导出Excel: aggregates only
    "/search": EVERYONE,
    "/help": EVERYONE,
    "/help/manual.docx": EVERYONE,
    "/contact": EVERYONE,
    "/regions/counties": EVERYONE,
    "/healthz": EVERYONE,
    "/entry/complaint": EVERYONE,  # 企业投诉入口: the form is public
    "/entry/report": SIGNED_IN,  # 调度管理入口: a visitor is sent to 登录 first
    "/entry/apply": SIGNED_IN,
    "/entry/award": SIGNED_IN,
    # 登录 / 注册 / 忘记密码 / 手机号变更申诉 (manual 2, FAQ 3)
    "/auth/login": EVERYONE,
    "/auth/register": EVERYONE,
    "/auth/register/enterprise": EVERYONE,
    "/auth/register/institution": EVERYONE,
    "/auth/register/institution/social": EVERYONE,
    "/auth/register/expert": EVERYONE,
    "/auth/forgot-password": EVERYONE,
    "/auth/forgot-password/reset": EVERYONE,
    "/auth/phone-appeal": EVERYONE,
    "/auth/phone-appeal/submitted": EVERYONE,
    "/auth/session/keep-alive": SIGNED_IN,  # 继续 on the idle-timeout warning
    # 企业投诉 / 处理结果 (manual 6): anonymous visitors
    "/complaints/": EVERYONE,
    "/complaints/confirm": EVERYONE,
    "/complaints/done": EVERYONE,
    "/complaints/results": EVERYONE,
    "/complaints/results/verify": EVERYONE,
    "/complaints/results/list": EVERYONE,
    # every account: its workspace, messages, profile, password
    "/workspace/": SIGNED_IN,
    "/workspace/messages": SIGNED_IN,
    "/workspace/profile": SIGNED_IN,
    "/workspace/password": SIGNED_IN,
    # 服务机构: 核心服务机构申报, 月度调度填报, 优秀评选申报 (manual 3, 4, 5)
    "/applications/": {INST},
    "/reports/": {INST},
    "/reports/periods/{report_round_id}/reopen": {INST},  # 申请补报
    "/awards/institutions/": {INST},
    "/awards/products/": {INST},
    # 优秀服务专家: an institution nominates its experts, an expert may nominate itself
    "/awards/experts/": {INST, EXP},
    # 服务专家 on a review panel
    "/awards/reviews/": {EXP},
    # 审核 (初审 by the 市州, 终审 by the province) and what reviewers read and export
    "/admin/": ADMINS,
    "/applications/review": ADMINS,
    "/applications/export.xlsx": ADMINS,
    "/awards/institutions/review": ADMINS,
    "/awards/institutions/export.xlsx": ADMINS,
    "/awards/products/review": ADMINS,
    "/awards/products/export.xlsx": ADMINS,
    "/awards/experts/review": ADMINS,
    "/awards/experts/export.xlsx": ADMINS,
    "/reports/review": ADMINS,
    "/reports/reopen-requests": ADMINS,  # the 市州 decides its institutions' 补报 requests
    # 报送情况 / 催报 / 调度数据: the province for all, a 市州 for its own
    "/reports/completeness": ADMINS,
    "/reports/completeness/missing.xlsx": ADMINS,
    "/reports/stats": ADMINS,
    "/reports/stats.xlsx": ADMINS,  # 调度大数据 导出Excel: the page's tables
    "/reports/exports": ADMINS,
    "/reports/export.xlsx": ADMINS,
    # 企业投诉 handling: routed to a 市州 or handled by the province
    "/complaints/admin": ADMINS,
    # 后台任务: an admin's own exports and those of admins with the same reach
    "/jobs/": ADMINS,
    # 用户管理: the province for all, a 市州 reads its own 市州's accounts
    "/admin/users": ADMINS,
    "/admin/users/{institution_user_id}": ADMINS,
    # 机构详情: the province for any institution, a 市州 for its own (the fixture's is in 长沙市)
    "/admin/institutions/{institution_id}": ADMINS,
    # 省中小企业服务中心 only: rounds and deadlines, notices, reference data, users, statistics, audit
    "/admin/users/new-admin": {PROV},
    "/admin/audit": {PROV},
    "/admin/login-logs": {PROV},
    "/admin/online": {PROV},
    "/admin/sms": {PROV},
    "/admin/phone-requests": {PROV},
    "/admin/dicts": {PROV},
    "/admin/dicts/service_category": {PROV},
    "/admin/dicts/service_category/new": {PROV},
    "/admin/platforms": {PROV},
    "/admin/platforms/new": {PROV},
    "/rounds/": {PROV},
    "/rounds/new": {PROV},
    "/rounds/{report_round_id}/edit": {PROV},
    "/reports/periods": {PROV},
    "/reports/recognitions": {PROV},
    "/reports/bulletin": {PROV},
    "/jobs/schedules": {PROV},  # 定时任务
    "/jobs/schedules/{schedule_name}": {PROV},
    "/notices/manage": {PROV},
    "/notices/manage/new": {PROV},
    "/notices/manage/{notice_id}/edit": {PROV},
    "/institutions/import": {PROV},
    "/institutions/import/template.xlsx": {PROV},
    "/complaints/admin/stats": {PROV},
    "/complaints/admin/stats.xlsx": {PROV},
    "/awards/admin/": {PROV},
    "/awards/admin/reviewers": {PROV},
    "/awards/admin/unpublish": {PROV},  # 撤销发布 (confirmation page)
}

# GET pages deliberately left out of the matrix, each with the reason (none so far)
NOT_IN_MATRIX = {}


@pytest.fixture
def rows(app):
    """One account per role, and the rows the templated paths need."""
    from app.blueprints.portal.models import Notice
    from app.utils import utcnow

    with app.app_context():
        users = {
            ENT: make_enterprise(),
            INST: make_institution(),
            EXP: make_expert(),
            CITY: make_city_admin("430100"),
            PROV: make_province_admin(),
        }
        notice = Notice(
            title="关于调度工作的通知", category="通知公告", body="正文", is_published=True, published_at=utcnow()
        )
        db.session.add(notice)
        db.session.commit()
        report_round = make_round("report", month=1, title="1月调度")
        ids = {
            "notice_id": notice.id,
            "institution_id": users[INST].institution.id,
            "institution_user_id": users[INST].id,
            "report_round_id": report_round.id,
            "schedule_name": "reports.deadline_reminders",
        }
        names = {role: user.username for role, user in users.items()}
    return names, ids


def _get_rules(app):
    with app.test_request_context():
        return [r for r in app.url_map.iter_rules() if "GET" in r.methods and r.endpoint != "static"]


def test_every_plain_get_page_is_in_the_matrix(app):
    plain = {r.rule for r in _get_rules(app) if "<" not in r.rule}
    missing = sorted(plain - set(MATRIX) - set(NOT_IN_MATRIX))
    assert missing == [], f"GET pages not placed in tests/test_role_matrix.py: {missing}"
    stale = sorted(
        p for p in MATRIX if "{" not in p and p not in plain and not p.startswith(("/entry/", "/admin/dicts/"))
    )
    assert stale == [], f"pages in the matrix that no longer exist: {stale}"


def test_every_templated_path_in_the_matrix_matches_a_route(app, rows):
    _, ids = rows
    adapter = app.url_map.bind("localhost")
    for path in MATRIX:
        adapter.match(path.format(**ids), method="GET")  # raises NotFound for a stale path


def _refused(role, response):
    if role == ANON:
        return response.status_code in (302, 303) and "/auth/login" in response.headers.get("Location", "")
    return response.status_code == 403


def _allowed(response):
    if response.status_code in (401, 403):
        return False
    return not (response.status_code in (302, 303) and "/auth/login" in response.headers.get("Location", ""))


@pytest.mark.parametrize("role", [ANON, ENT, INST, EXP, CITY, PROV])
def test_each_role_reaches_exactly_what_the_matrix_says(app, client, rows, role):
    names, ids = rows
    if role != ANON:
        assert login(client, names[role]).status_code in (302, 303)
    wrong = []
    for template, who in MATRIX.items():
        path = template.format(**ids)
        response = client.get(path)
        if role in who and not _allowed(response):
            wrong.append((path, "should open", response.status_code, response.headers.get("Location")))
        elif role not in who and not _refused(role, response):
            wrong.append((path, "should be refused", response.status_code, response.headers.get("Location")))
    assert wrong == [], f"{role}: {wrong}"


def test_a_signed_in_account_must_change_a_reset_password_first(app, client, rows):
    """The one page-wide exception to the matrix: after an admin reset, only 修改密码 opens."""
    from app.blueprints.auth.models import User

    names, _ = rows
    with app.app_context():
        db.session.execute(sa.update(User).where(User.username == names[INST]).values(must_change_password=True))
        db.session.commit()
    login(client, names[INST])
    response = client.get("/reports/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/workspace/password")
    assert client.get("/workspace/password").status_code == 200
