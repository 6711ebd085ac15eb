"""Queries the nomination wizards' hooks need (app/blueprints/awards/wizard.py): kept below the
services so the declaration imports nothing that imports it."""

import sqlalchemy as sa
from flask import current_app

from app.blueprints.awards.models import AwardPublication, AwardResult
from app.blueprints.reports.models import MonthlyReport
from app.extensions import db


def result_clear(filing):
    """Forget a nomination's 入选 / 未入选 (in the caller's transaction)."""
    db.session.execute(sa.delete(AwardResult).where(AwardResult.filing_id == filing.id))


def report_totals(filing):
    """The institution's approved monthly report totals for the year before the 评选年度 (上年度),
    keyed by the nomination's field names: {served_count, activity_count, revenue}. None when the
    reports module is not installed or the institution has no approved report that year."""
    if filing.institution_id is None or "reports" not in current_app.blueprints:
        return None

    count, served, activities, revenue = db.session.execute(
        sa.select(
            sa.func.count(MonthlyReport.id),
            sa.func.sum(MonthlyReport.served_total),
            sa.func.sum(MonthlyReport.activities_total),
            sa.func.sum(MonthlyReport.revenue),
        ).where(
            MonthlyReport.institution_id == filing.institution_id,
            MonthlyReport.year == filing.round.year - 1,
            MonthlyReport.counted.is_(True),
        )
    ).one()
    if not count:
        return None
    return {
        "served_count": int(served or 0),
        "activity_count": int(activities or 0),
        "revenue": f"{revenue or 0:,.2f}",
        "months": count,
    }


def publication_started(round):
    """Whether the round's 公示 has been opened (or its results published): nominations close then."""
    if round is None:
        return False
    return (
        db.session.scalar(sa.select(AwardPublication.round_id).where(AwardPublication.round_id == round.id)) is not None
    )
