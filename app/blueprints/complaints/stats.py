"""投诉统计: per month and per 市州 (of the 被投诉方), as SQL aggregates, and the Excel export."""

from dataclasses import dataclass
from io import BytesIO

import sqlalchemy as sa

from app.blueprints.complaints.models import CLOSED, REJECTED, UNVERIFIED, Complaint
from app.extensions import db
from app.reference.services import cities
from app.spreadsheets import xlsx_workbook, xlsxwriter_cell, xlsxwriter_row


@dataclass
class Row:
    label: str
    total: int = 0
    rejected: int = 0
    closed: int = 0
    on_time: int = 0
    avg_days: float | None = None
    satisfied: int = 0
    basic: int = 0
    dissatisfied: int = 0

    @property
    def rated(self):
        return self.satisfied + self.basic + self.dissatisfied

    @property
    def on_time_rate(self):
        """按时办结率 in % of the closed ones, or None when none is closed."""
        return round(100 * self.on_time / self.closed, 1) if self.closed else None

    @property
    def satisfaction(self):
        """满意度: (满意 + 基本满意) in % of the rated ones, or None when none is rated."""
        return round(100 * (self.satisfied + self.basic) / self.rated, 1) if self.rated else None


def _count_if(condition):
    return sa.func.sum(sa.case((condition, 1), else_=0))


def _aggregates():
    return (
        sa.func.count(Complaint.id),
        _count_if(Complaint.status == REJECTED),
        _count_if(Complaint.status == CLOSED),
        _count_if(sa.and_(Complaint.status == CLOSED, Complaint.closed_on_time.is_(True))),
        sa.func.avg(sa.case((Complaint.status == CLOSED, Complaint.handling_days), else_=None)),
        _count_if(Complaint.rating == "satisfied"),
        _count_if(Complaint.rating == "basic"),
        _count_if(Complaint.rating == "dissatisfied"),
    )


def _fill(row, values):
    total, rejected, closed, on_time, avg_days, satisfied, basic, dissatisfied = values
    row.total, row.rejected, row.closed, row.on_time = (
        int(total or 0),
        int(rejected or 0),
        int(closed or 0),
        int(on_time or 0),
    )
    row.avg_days = round(float(avg_days), 1) if avg_days is not None else None
    row.satisfied, row.basic, row.dissatisfied = int(satisfied or 0), int(basic or 0), int(dissatisfied or 0)
    return row


def complaint_stats(*, year):
    """(by_month, by_city, total) for complaints registered in ``year``."""
    base = sa.and_(Complaint.status != UNVERIFIED, sa.extract("year", Complaint.registered_on) == year)
    month = sa.extract("month", Complaint.registered_on)
    by_month = {m: Row(f"{year}-{m:02d}") for m in range(1, 13)}
    for values in db.session.execute(sa.select(month, *_aggregates()).where(base).group_by(month)).all():
        _fill(by_month[int(values[0])], values[1:])
    by_city = {city.code: Row(city.name) for city in cities()}
    for values in db.session.execute(
        sa.select(Complaint.respondent_city_code, *_aggregates()).where(base).group_by(Complaint.respondent_city_code)
    ).all():
        if values[0] in by_city:
            _fill(by_city[values[0]], values[1:])
    total = _fill(Row("合计"), db.session.execute(sa.select(*_aggregates()).where(base)).one())
    return list(by_month.values()), list(by_city.values()), total


def complaint_years():
    """Years that have complaints, newest first."""
    year = sa.extract("year", Complaint.registered_on)
    return [
        int(y)
        for y in db.session.scalars(
            sa.select(year).where(Complaint.status != UNVERIFIED).group_by(year).order_by(year.desc())
        )
        if y is not None
    ]


HEADERS = [
    "投诉数（件）",
    "不予受理（件）",
    "已办结（件）",
    "按时办结（件）",
    "按时办结率（%）",
    "平均办理时长（工作日）",
    "满意（件）",
    "基本满意（件）",
    "不满意（件）",
    "满意度（%）",
]


# the columns (after the label) of 按时办结率, 平均办理时长 and 满意度: one decimal, as on the page
ONE_DECIMAL = {1 + HEADERS.index(name) for name in ("按时办结率（%）", "平均办理时长（工作日）", "满意度（%）")}


def _values(row):
    return [
        row.total,
        row.rejected,
        row.closed,
        row.on_time,
        row.on_time_rate,
        row.avg_days,
        row.satisfied,
        row.basic,
        row.dissatisfied,
        row.satisfaction,
    ]


def stats_workbook(*, year):
    """The statistics of ``year`` as an .xlsx file (bytes): one sheet per month, one per 市州."""
    by_month, by_city, total = complaint_stats(year=year)
    buffer = BytesIO()
    book = xlsx_workbook(buffer)
    title_format = book.add_format({"bold": True, "font_size": 13})
    header_format = book.add_format({"bold": True, "align": "center", "text_wrap": True})
    one_decimal = book.add_format({"num_format": "0.0", "align": "right"})
    sheets = (("按月统计", "月份", by_month), ("按市州统计", "被投诉方市州", by_city))
    for title, first, rows in sheets:
        sheet = book.add_worksheet(title)
        sheet.repeat_rows(0, 1)  # the title names the year: printed on every page with the header row
        xlsxwriter_cell(sheet, 0, 0, f"{year}年企业投诉{title}", title_format)
        xlsxwriter_row(sheet, 1, [first, *HEADERS], header_format)
        for number, row in enumerate([*rows, total], start=2):
            for column, value in enumerate([row.label, *_values(row)]):
                if column in ONE_DECIMAL:  # as the page shows them: 66.7, 12.0, or — when there is none
                    xlsxwriter_cell(sheet, number, column, "—" if value is None else value, one_decimal)
                else:
                    xlsxwriter_cell(sheet, number, column, value)
        sheet.set_column(0, 0, 16)
        sheet.set_column(1, 10, 13)
        sheet.freeze_panes(2, 1)
    book.close()
    return buffer.getvalue()
