"""投诉统计 导出 Excel honours the page's filter (年度; issue 14, item 7): the link carries the year on
screen, each sheet has exactly the page's rows with its figures, counted again here in SQL; the title
row names the year and prints on every A4 landscape page with the header."""

from datetime import date
from io import BytesIO

import sqlalchemy as sa
from openpyxl import load_workbook

from app.blueprints.complaints.models import Complaint
from app.extensions import db
from tests.complaints.conftest import make_complaint
from tests.helpers import page
from tests.spreadsheet_checks import NASTY, formulas_in


def _data():
    make_complaint(
        registered_on=date(2024, 3, 5), status="closed", closed_on_time=True, handling_days=4, rating="satisfied"
    )
    make_complaint(registered_on=date(2024, 3, 21), status="rejected", company_name=NASTY[1])
    make_complaint(
        registered_on=date(2024, 7, 1),
        city_code="430200",
        status="closed",
        closed_on_time=False,
        handling_days=9,
        rating="basic",
    )
    make_complaint(registered_on=date(2023, 12, 30), status="closed", closed_on_time=True, handling_days=1)
    make_complaint(registered_on=date(2023, 6, 2), city_code="430300", status="processing")
    make_complaint(registered_on=date(2023, 6, 3), status="unverified")  # never counted


def _shown(cell):
    """A cell as Excel shows it (its number format applied)."""
    if cell.number_format == "0.0" and isinstance(cell.value, (int, float)):
        return f"{cell.value:.1f}"
    return str(cell.value)


def _page_rows(table):
    return [[td.get_text(strip=True) for td in tr.find_all("td")] for tr in table.find("tbody").find_all("tr")]


def _as_on_page(row):
    """An export row in the page's columns: 满意 / 基本满意 / 不满意 in one, no 按时办结（件）."""
    label, total, rejected, closed, _on_time, rate, days, satisfied, basic, dissatisfied, satisfaction = row
    return [
        label.value,
        _shown(total),
        _shown(rejected),
        _shown(closed),
        _shown(rate),
        _shown(days),
        f"{satisfied.value} / {basic.value} / {dissatisfied.value}",
        _shown(satisfaction),
    ]


def test_each_year_exports_the_rows_the_page_shows(app, province):
    _data()
    for year in (2024, 2023):
        soup = page(province.get(f"/complaints/admin/stats?year={year}"))
        link = soup.find("a", string="导出 Excel")["href"]
        assert link == f"/complaints/admin/stats.xlsx?year={year}"
        response = province.get(link)
        assert formulas_in(response.data) == []
        book = load_workbook(BytesIO(response.data))
        tables = soup.select("table.complaint-stats")
        for sheet, table in zip(("按月统计", "按市州统计"), tables, strict=True):
            rows = [list(r) for r in book[sheet].iter_rows(min_row=3)]
            assert [_as_on_page(r) for r in rows] == _page_rows(table), (year, sheet)
            assert book[sheet]["A1"].value == f"{year}年企业投诉{sheet}"
            assert book[sheet].print_title_rows == "$1:$2"
            assert book[sheet].page_setup.paperSize == 9 and book[sheet].page_setup.orientation == "landscape"
        # the 合计 row against SQL written here
        counted = db.session.scalar(
            sa.select(sa.func.count(Complaint.id)).where(
                Complaint.status != "unverified",
                Complaint.registered_on.between(date(year, 1, 1), date(year, 12, 31)),
            )
        )
        total = list(book["按月统计"].iter_rows(min_row=15, max_row=15, values_only=True))[0]
        assert total[0] == "合计" and total[1] == counted
