"""`flask seed-demo` shows a living province (issue 18, item 8): 调度大数据 with figures, 核心服务机构 in
every 市州, a published 优秀评选, applications and complaints in every state, a dozen notices, and a
previous month the demo institution's next report carries its standing figures over from."""

import sqlalchemy as sa

from app.blueprints.applications.models import CoreApplication, Recognition
from app.blueprints.auth.models import Institution
from app.blueprints.awards.models import AwardPublication
from app.blueprints.complaints.models import STATUS_LABELS, Complaint
from app.blueprints.portal.models import Notice
from app.blueprints.reports.models import MonthlyReport, ReportMonthStat
from app.extensions import db
from app.filings.models import Filing
from app.reference.models import Region
from tests.helpers import login, page, text_of
from tests.reports.test_flow import new_report


def seeded(app):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return result


def test_the_demo_shows_a_living_province(client, app):
    seeded(app)
    with app.app_context():
        cities = set(db.session.scalars(sa.select(Region.code).where(Region.level == "city")))
        recognised = db.session.execute(
            sa.select(Institution.id, Institution.city_code)
            .join(Recognition, Recognition.institution_id == Institution.id)
            .where(Recognition.revoked_at.is_(None))
            .distinct()
        ).all()
        assert len({row.id for row in recognised}) >= 40
        assert {row.city_code for row in recognised} == cities and len(cities) == 14
        months = db.session.execute(
            sa.select(MonthlyReport.year, MonthlyReport.month).where(MonthlyReport.counted.is_(True)).distinct()
        ).all()
        assert len(months) >= 12
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportMonthStat)) > 0
        statuses = set(db.session.scalars(sa.select(CoreApplication.status)))
        assert statuses >= {"draft", "submitted", "city_approved", "approved", "returned", "rejected"}
        assert set(db.session.scalars(sa.select(Complaint.status))) == set(STATUS_LABELS)
        assert db.session.scalar(sa.select(sa.func.count(Notice.id))) >= 12
        assert db.session.scalar(sa.select(AwardPublication.id).where(AwardPublication.published_at.is_not(None)))

    big_data = text_of(page(client.get("/big-data")))
    assert "暂无" not in big_data
    for name in ("长沙市", "湘西土家族苗族自治州"):
        assert name in big_data
    directory = text_of(page(client.get("/institutions")))
    assert "暂无" not in directory
    for key in ("institutions", "products", "experts"):
        assert "暂无" not in text_of(page(client.get(f"/excellent/{key}")))


def test_the_demo_institution_has_a_previous_month_to_carry_over(client, app):
    seeded(app)
    login(client, "jigou@example.com", password="Demo2026pass")
    report_id = new_report(client)  # the open month: not filed yet
    note = page(client.get(f"/reports/{report_id}/step/basic")).select_one("#carried-note")
    assert note is not None and "沿用上月" in text_of(note)


def test_seeding_twice_adds_nothing(app):
    seeded(app)
    with app.app_context():
        counts = [db.session.scalar(sa.select(sa.func.count()).select_from(t)) for t in (Institution, Filing)]
    seeded(app)
    with app.app_context():
        again = [db.session.scalar(sa.select(sa.func.count()).select_from(t)) for t in (Institution, Filing)]
    assert counts == again
