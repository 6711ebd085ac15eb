"""投诉统计: per month, per 市州, average handling time, on-time rate, satisfaction; Excel export."""

from datetime import date
from io import BytesIO

from openpyxl import load_workbook

from app.blueprints.complaints.stats import complaint_stats
from tests.complaints.conftest import make_complaint
from tests.helpers import page, text_of


def _data():
    make_complaint(
        registered_on=date(2024, 3, 5), status="closed", closed_on_time=True, handling_days=4, rating="satisfied"
    )
    make_complaint(
        registered_on=date(2024, 3, 20), status="closed", closed_on_time=False, handling_days=20, rating="dissatisfied"
    )
    make_complaint(registered_on=date(2024, 3, 21), status="rejected")
    make_complaint(
        registered_on=date(2024, 7, 1),
        city_code="430200",
        status="closed",
        closed_on_time=True,
        handling_days=9,
        rating="basic",
    )
    make_complaint(registered_on=date(2024, 7, 2), city_code="430200", status="processing")
    make_complaint(registered_on=date(2023, 12, 30), status="closed", closed_on_time=True, handling_days=1)


def test_aggregates(app_ctx):
    _data()
    by_month, by_city, total = complaint_stats(year=2024)
    march, july = by_month[2], by_month[6]
    assert (march.total, march.rejected, march.closed, march.on_time) == (3, 1, 2, 1)
    assert march.avg_days == 12.0 and march.on_time_rate == 50.0 and march.satisfaction == 50.0
    assert (july.total, july.closed, july.avg_days, july.on_time_rate, july.satisfaction) == (2, 1, 9.0, 100.0, 100.0)
    assert by_month[0].total == 0 and by_month[0].on_time_rate is None
    cities = {row.label: row for row in by_city}
    assert len(by_city) == 14
    assert cities["长沙市"].total == 3 and cities["株洲市"].total == 2 and cities["湘潭市"].total == 0
    assert (total.total, total.closed, total.on_time, total.rated) == (5, 3, 2, 3)
    assert total.avg_days == 11.0 and total.on_time_rate == 66.7 and total.satisfaction == 66.7


def test_stats_page_and_export(app, province):
    _data()
    soup = page(province.get("/complaints/admin/stats?year=2024"))
    text = text_of(soup)
    assert "按月统计" in text and "按被投诉方市州统计" in text and "2024-03" in text
    assert soup.select_one("a[href='/complaints/admin/stats.xlsx?year=2024']")
    response = province.get("/complaints/admin/stats.xlsx?year=2024")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''2024" in response.headers["Content-Disposition"]
    book = load_workbook(BytesIO(response.data))
    assert book.sheetnames == ["按月统计", "按市州统计"]
    months = book["按月统计"]
    assert months["A2"].value == "月份" and months["B2"].value == "投诉数（件）"
    assert [months.cell(row=5, column=c).value for c in range(1, 5)] == ["2024-03", 3, 1, 2]
    assert months.cell(row=15, column=1).value == "合计" and months.cell(row=15, column=2).value == 5
    cities = book["按市州统计"]
    assert cities["A3"].value == "长沙市" and cities["B3"].value == 3
    # A bad year falls back to this year instead of failing.
    assert province.get("/complaints/admin/stats?year=abc").status_code == 200
