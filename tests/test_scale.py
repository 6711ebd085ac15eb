"""`flask seed-scale`: the benchmark's bulk data generator."""

import sqlalchemy as sa

from app.blueprints.applications.models import CoreApplication
from app.blueprints.auth.models import Institution
from app.blueprints.reports.models import MonthlyReport, ReportActivity, ReportMonthStat
from app.extensions import db
from app.reference.models import Region


def count(model, *criteria):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*criteria))


def test_seed_scale_fills_every_city_status_and_rollup(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    result = app.test_cli_runner().invoke(args=["seed-scale", "--institutions", "28", "--months", "3"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert count(Institution) == 28
        cities = set(db.session.scalars(sa.select(Institution.city_code)))
        assert cities == set(db.session.scalars(sa.select(Region.code).where(Region.level == "city")))
        assert count(MonthlyReport) == 28 * 3
        assert count(ReportActivity) == 28 * 3 * 16
        statuses = set(db.session.scalars(sa.select(CoreApplication.status)))
        assert statuses == {"draft", "submitted", "city_approved", "approved", "returned", "rejected"}
        counted = count(MonthlyReport, MonthlyReport.counted.is_(True))
        assert db.session.scalar(sa.select(sa.func.sum(ReportMonthStat.reports))) == counted > 0
        assert len(list(tmp_path.iterdir())) > 0  # attachment files exist
        # Ordinary inserts still work afterwards (PostgreSQL sequences moved past the explicit ids).
        from tests.factories import make_institution

        assert make_institution().id is not None
    again = app.test_cli_runner().invoke(args=["seed-scale", "--institutions", "14", "--months", "2"])
    assert again.exit_code != 0 and "空数据库" in again.output


def test_seed_scale_refuses_production(app, monkeypatch):
    monkeypatch.setitem(app.config, "APP_ENV", "production")
    result = app.test_cli_runner().invoke(args=["seed-scale", "--institutions", "14", "--months", "2"])
    assert result.exit_code != 0 and "production" in result.output
    with app.app_context():
        assert count(Institution) == 0
