"""The reports module's sections of the admins' 机构详情 page: a 12-month grid of the institution's
monthly reports and the reminders (催报) it was sent.

The grid shows the 12 months ending with the current one, or the months of a chosen year
(``?year=2025``). Each month is the report's status (已通过 / 待审核 / 已退回 / 草稿) with its
查看 / 审核 links, or, without a report, 未报送 (the institution was 应报 that month), 不需报送 (it
was not: not recognised then, as 报送情况 counts it) or 未到报送期 (the month has not ended, so its
调度期 has not opened). Queries: whether each month was 应报 (one statement for the 12 months, by
the rule 报送情况 uses), the reminders; the reports come with the institution's other filings
(app/filings/overview.py) and the recognitions from the applications module's section.
"""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager

from app.blueprints.applications.institution_section import institution_recognitions
from app.blueprints.applications.services import institution_expected
from app.blueprints.auth.models import Institution
from app.blueprints.reports.models import MonthlyReport, ReportReminder
from app.blueprints.reports.wizard import wizard
from app.extensions import db
from app.filings import overview, workflow
from app.filings.models import Round
from app.inputs import db_int
from app.modules import AdminSection
from app.utils import local_today

NOT_DUE, NOT_NEEDED, MISSING = "not_due", "not_needed", "missing"
STATE_LABELS = {NOT_DUE: "未到报送期", NOT_NEEDED: "不需报送", MISSING: "未报送"}
STATE_CSS = {NOT_DUE: "status", NOT_NEEDED: "status", MISSING: "status status-bad"}
FIRST_YEAR = 2000


@dataclass
class MonthCell:
    year: int
    month: int
    report: MonthlyReport | None
    state: str | None  # without a report: NOT_DUE, NOT_NEEDED or MISSING
    links: overview.FilingLinks | None
    reminder: ReportReminder | None

    @property
    def label(self):
        if self.report is not None:
            return wizard.status_label(self.report.status)
        return STATE_LABELS[self.state]

    @property
    def css(self):
        if self.report is not None:
            return workflow.STATUS_CSS.get(self.report.status, "status")
        return STATE_CSS[self.state]

    @property
    def title(self):
        return f"{self.year}年{self.month}月"


def window(year, today):
    """The grid's months: those of ``year``, or the 12 ending with today's month."""
    if year:
        return [(year, month) for month in range(1, 13)]
    months = []
    y, m = today.year, today.month
    for _ in range(12):
        months.append((y, m))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return months[::-1]


def chosen_year(args, today):
    """The ``year`` argument when it is a plausible year; anything else shows the last 12 months."""
    year = args.get("year", type=db_int)
    return year if year and FIRST_YEAR <= year <= today.year + 1 else None


def year_choices(recognitions, today):
    """Years to offer: every year a recognition covers up to this year, and this year."""
    years = {today.year}
    for r in recognitions:
        years.update(range(max(r.term_start, FIRST_YEAR), min(r.term_end, today.year) + 1))
    return sorted(years, reverse=True)


def expected_months(institution_id, months):
    """{(year, month): whether the institution was 应报} for the months that are over, in one
    statement (the rule is ``applications.services.institution_expected``, as 报送情况 counts)."""
    if not months:
        return {}
    row = db.session.execute(
        sa.select(*(institution_expected(y, m).label(f"m{i}") for i, (y, m) in enumerate(months))).where(
            Institution.id == institution_id
        )
    ).one()
    return {month: bool(row[i]) for i, month in enumerate(months)}


def month_grid(*, institution_id, viewer, months, reminders, today):
    rows = overview.institution_filings(wizards=[wizard], institution_id=institution_id, viewer=viewer)
    by_month = {(row.filing.year, row.filing.month): row for row in rows}
    reminded = {(r.round.year, r.round.month): r for r in reminders}
    over = [month for month in months if month < (today.year, today.month)]
    expected = expected_months(institution_id, [month for month in over if month not in by_month])
    cells = []
    for year, month in months:
        row = by_month.get((year, month))
        if row is not None:
            cells.append(MonthCell(year, month, row.filing, None, row.links, reminded.get((year, month))))
            continue
        if (year, month) not in expected:
            state = NOT_DUE
        else:
            state = MISSING if expected[(year, month)] else NOT_NEEDED
        cells.append(MonthCell(year, month, None, state, None, reminded.get((year, month))))
    return cells


def sections(institution, *, viewer, args):
    """调度数据报送情况 (the grid) and 催报记录."""
    today = local_today()
    reminders = db.session.scalars(
        sa.select(ReportReminder)
        .join(ReportReminder.round)
        .where(ReportReminder.institution_id == institution.id)
        .options(contains_eager(ReportReminder.round))
        .order_by(Round.year.desc(), Round.month.desc(), ReportReminder.id.desc())
    ).all()
    year = chosen_year(args, today)
    cells = month_grid(
        institution_id=institution.id, viewer=viewer, months=window(year, today), reminders=reminders, today=today
    )
    return [
        AdminSection(
            "reports",
            "调度数据报送情况",
            "reports/_partials/_institution_reports.html",
            {"cells": cells, "year": year, "years": year_choices(institution_recognitions(institution.id), today)},
        ),
        AdminSection(
            "reminders", "催报记录", "reports/_partials/_institution_reminders.html", {"reminders": reminders}
        ),
    ]
