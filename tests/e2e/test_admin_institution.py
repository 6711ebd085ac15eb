"""机构详情 in a real browser, JavaScript on and off (issue 14, item 6): the page fits 1366 px with
a full year of reports, its sections' links lead to the filing, and 年度 + 查看 changes the grid
without JavaScript too."""

import re
from datetime import date, datetime

from tests.e2e.conftest import snap
from tests.e2e.flows import log_in
from tests.factories import PASSWORD, make_institution, make_province_admin, make_round
from tests.reports.conftest import make_report


def test_institution_page_fits_and_changes_year(web, app):
    with app.app_context():
        from app.audit import AuditLog
        from app.blueprints.applications.models import Recognition
        from app.blueprints.reports.models import ReportReminder
        from app.extensions import db
        from app.utils import local_today
        from tests.complaints.conftest import make_complaint

        year = local_today().year - 1
        owner = make_institution(name="湖南省长沙市岳麓区中小企业综合服务示范中心有限责任公司")
        owner.institution.created_at = datetime(year - 1, 6, 1)
        institution_id, name = owner.institution.id, owner.institution.name
        db.session.add(
            Recognition(
                institution_id=institution_id, term_start=year, term_end=year + 3, effective_on=date(year, 1, 1)
            )
        )
        db.session.commit()
        statuses = ["approved"] * 6 + ["submitted", "returned", "draft"]
        for month, status in enumerate(statuses, start=1):
            round_ = make_round("report", year=year, month=month, title=f"{year}年{month}月调度")
            make_report(owner.id, round_.id, status=status, late=month == 8)
        reminded = make_round("report", year=year, month=10, title=f"{year}年10月调度")
        db.session.add(
            ReportReminder(round_id=reminded.id, institution_id=institution_id, sender_level="province", times=3)
        )
        for n in range(3):
            db.session.add(
                AuditLog(
                    actor_name="sheng",
                    action="user.disable",
                    target_type="User",
                    target_name=name,
                    institution_id=institution_id,
                    summary=f"停用帐户 {name}（第{n + 1}次）",
                )
            )
        db.session.commit()
        make_complaint(respondent_name=name, company_name="长沙某某精密机械制造有限公司")
        province = make_province_admin().username

    log_in(web, province, PASSWORD)
    web.goto(f"/admin/institutions/{institution_id}")
    assert "未到报送期" in web.inner_text("#section-reports")  # the last 12 months: this month is not over
    web.select_option("#grid-year", str(year))
    web.click("#section-reports button:has-text('查看')")
    web.wait_for_url(re.compile(rf"year={year}"))
    grid = web.inner_text("#section-reports table")
    assert "已通过" in grid and "待审核" in grid and "已退回" in grid and "草稿" in grid and "未报送" in grid
    assert "催报 3 次" in grid and "逾期报送" in grid
    width = web.evaluate("document.documentElement.scrollWidth")
    assert width <= 1366, width
    snap(web, "admin-institution")
    web.click("#section-reports a:has-text('审核')")
    web.wait_for_url(re.compile(r"/reports/\d+/review"))
    assert "审核意见" in web.inner_text("main") and name in web.inner_text("main")
