"""The 调度大数据 figures are kept in the app's Flask-Caching cache: reused until a report is
approved, and recomputed after a rebuild of the rollups even when the counts stay the same."""

import sqlalchemy as sa

from app.blueprints.reports import stats
from app.blueprints.reports.models import ReportCategoryStat
from app.extensions import db
from tests.reports.test_stats import _fixture


def _skew_rollups():
    """Rollups gone wrong behind the app's back; the counts the cache's version reads stay as they were."""
    db.session.execute(sa.update(ReportCategoryStat).values(activities=ReportCategoryStat.activities + 1000))
    db.session.commit()


def test_a_rebuild_is_seen_at_once(app, people, monkeypatch):
    _fixture(app, people)
    with app.test_request_context():
        monkeypatch.setitem(app.config, "REPORT_STATS_CACHE_SECONDS", 0)
        right = [row.activities for row in stats.public_summary(2025).categories]
        monkeypatch.setitem(app.config, "REPORT_STATS_CACHE_SECONDS", 300)
        _skew_rollups()
        wrong = [row.activities for row in stats.public_summary(2025).categories]
        assert wrong != right
        # a change behind the ORM's back moves no topic: the cached figures are served
        db.session.rollback()  # (end the session's read snapshot first)
        with db.engine.begin() as connection:
            connection.execute(sa.update(ReportCategoryStat).values(activities=0))
        assert [row.activities for row in stats.public_summary(2025).categories] == wrong
        db.session.rollback()
        stats.stats_rebuild()
        assert [row.activities for row in stats.public_summary(2025).categories] == right
