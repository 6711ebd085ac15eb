"""调度大数据 导出Excel (issue 14, item 7): every table of the page, with the page's filters, the
same rows and the same figures as shown; a title row naming the filters; A4 landscape print set-up;
text typed by institutions stays text. Checked against the rendered page and against SQL written
here, not read from the code under test."""

import io
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from openpyxl import load_workbook

from app.blueprints.reports.models import MonthlyReport
from app.extensions import db
from tests.helpers import login, page
from tests.reports.conftest import make_report, report_round
from tests.reports.export_data import NASTY_NAME, export_data  # noqa: F401  (the ``data`` fixture)
from tests.spreadsheet_checks import formulas_in

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _book(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == XLSX
    assert formulas_in(response.data) == []
    return load_workbook(io.BytesIO(response.data))


def shown(cell):
    """A cell as Excel shows it with its number format (what a user compares with the page)."""
    value, fmt = cell.value, cell.number_format
    if value is None:
        return ""
    if fmt == "#,##0":
        return f"{int(value):,}"
    if fmt == "#,##0.00":
        return f"{Decimal(str(value)):,.2f}"
    if fmt.startswith("+0.0%"):
        pct = round(float(value) * 100, 1)
        return f"{'+' if pct > 0 else ''}{pct}%"
    return str(value)


def sheet_rows(sheet, first=3):
    """Rows from ``first`` (1-based) as shown, trailing blanks dropped."""
    rows = []
    for row in sheet.iter_rows(min_row=first):
        values = [shown(cell) for cell in row]
        while values and values[-1] == "":
            values.pop()
        if values:
            rows.append(values)
    return rows


def page_rows(table):
    return [[td.get_text(strip=True) for td in tr.find_all("td")] for tr in table.find("tbody").find_all("tr")]


def page_headers(table):
    return [th.get_text(strip=True) for th in table.find("thead").find_all("th")]


def _export_link(soup):
    link = soup.find("a", string="导出Excel")
    assert link is not None
    return link["href"]


def _compare_with_page(client, query):
    """Open the page with ``query``, follow its 导出Excel link and compare every table; returns the book."""
    soup = page(client.get(f"/reports/stats?{query}"))
    book = _book(client.get(_export_link(soup)))
    for sheet, table_id in (
        ("各月趋势", "admin-months-table"),
        ("各市州情况", "admin-cities-table"),
        ("各服务类别情况", "admin-categories-table"),
    ):
        table = soup.find("table", id=table_id)
        assert [shown(c) for c in book[sheet][2]] == page_headers(table), sheet
        assert sheet_rows(book[sheet]) == page_rows(table), sheet
    tops = {}
    for caption in soup.select("table caption"):
        if caption.get_text(strip=True).startswith("按"):  # 按服务企业数（前 3 名）
            tops[caption.get_text(strip=True).split("（")[0]] = caption.parent
    for sheet in ("按服务企业数排名", "按服务活动数排名"):
        table = tops[sheet[:-2]]
        assert [shown(c) for c in book[sheet][2]] == page_headers(table)
        expected = [row for row in page_rows(table) if row != ["暂无数据。"]]
        assert sheet_rows(book[sheet]) == (expected or [["暂无数据。"]]), sheet
    # 汇总: the tiles, then 环比与同比 as the page shows them
    summary = book["汇总"]
    tiles = [div.find("b").get_text(strip=True) for div in soup.select(".stats .stat")]
    assert [shown(c) for c in summary[5]][: len(tiles)] == tiles
    compared = soup.find("h2", string="环比与同比").find_next("table")
    excel = [[v for v in row if v] for row in sheet_rows(summary, first=9)[:2]]
    assert excel == [[cell for cell in row if cell] for row in page_rows(compared)]
    return book


def test_every_table_matches_the_page_under_each_filter(client, app, people, data):
    login(client, people.province.username)
    queries = [
        "year=2025&month_from=1&month_to=2",
        f"year=2025&month_from=1&month_to=2&city_code=430100&institution_type_id={data['special']}",
        f"year=2025&month_from=2&month_to=2&institution_type_id={data['general']}",
        "year=2025&month_from=1&month_to=1&city_code=430200",
    ]
    for query in queries:
        _compare_with_page(client, query)


def _approved(year, months, city=None, type_id=None):
    """Independent SQL: approved reports and their figures for the filters."""
    criteria = [
        MonthlyReport.status == "approved",
        MonthlyReport.year == year,
        MonthlyReport.month.between(*months),
    ]
    if city:
        criteria.append(MonthlyReport.city_code == city)
    if type_id:
        criteria.append(MonthlyReport.institution_type_id == type_id)
    return db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.count(sa.distinct(MonthlyReport.institution_id)),
            sa.func.coalesce(sa.func.sum(MonthlyReport.served_total), 0),
            sa.func.coalesce(sa.func.sum(MonthlyReport.revenue), 0),
        ).where(*criteria)
    ).one()


def test_the_type_filter_is_honoured_and_the_figures_equal_sql(client, app, people, data):
    login(client, people.province.username)
    for type_id in (None, data["general"], data["special"]):
        query = "year=2025&month_from=1&month_to=2" + (f"&institution_type_id={type_id}" if type_id else "")
        book = _book(client.get(f"/reports/stats.xlsx?{query}"))
        with app.app_context():
            reports, institutions, served, revenue = _approved(2025, (1, 2), type_id=type_id)
        totals = dict(zip([c.value for c in book["汇总"][4]], [c.value for c in book["汇总"][5]]))
        assert totals["报表(份)"] == reports and totals["报送机构(家)"] == institutions
        assert totals["服务企业数(家次)"] == served
        assert Decimal(str(totals["营业收入(万元)"])).quantize(Decimal("0.01")) == Decimal(revenue).quantize(
            Decimal("0.01")
        )
        # the months' reports add up to the same count
        assert sum(row[1].value for row in book["各月趋势"].iter_rows(min_row=3)) == reports
    special = _book(client.get(f"/reports/stats.xlsx?year=2025&institution_type_id={data['special']}"))
    names = [row[1].value for row in special["按服务企业数排名"].iter_rows(min_row=3)]
    assert names == ["株洲调度测试机构", NASTY_NAME]  # 综合服务机构 left out
    assert "长沙调度测试机构" not in names


def test_title_rows_name_the_filters_and_sheets_print_on_a4_landscape(client, app, people, data):
    login(client, people.province.username)
    book = _book(
        client.get(
            f"/reports/stats.xlsx?year=2025&month_from=1&month_to=2&city_code=430100&institution_type_id={data['special']}"
        )
    )
    assert book.sheetnames == [
        "汇总",
        "各月趋势",
        "各市州情况",
        "各服务类别情况",
        "按服务企业数排名",
        "按服务活动数排名",
    ]
    caption = "统计期：2025年1-2月；市州：长沙市；机构类型：专业服务机构"
    for sheet in book.worksheets:
        assert caption in sheet["A1"].value, sheet.title
        assert sheet.page_setup.paperSize == 9 and sheet.page_setup.orientation == "landscape"
        setup = sheet.page_setup  # one page wide (1 is the default, so not written), as many tall as needed
        assert sheet.sheet_properties.pageSetUpPr.fitToPage and setup.fitToWidth in (None, 1) and setup.fitToHeight == 0
    assert book["各月趋势"].print_title_rows == "$1:$2"  # title and header on every printed page
    assert [row[0].value for row in book["各市州情况"].iter_rows(min_row=3)] == ["长沙市"]


def test_a_city_admin_exports_its_own_city_whatever_it_asks(client, app, people, data):
    login(client, people.city.username)
    soup = page(client.get("/reports/stats?year=2025&month_from=1&month_to=2&city_code=430200"))
    assert "city_code" not in _export_link(soup)
    book = _book(client.get("/reports/stats.xlsx?year=2025&month_from=1&month_to=2&city_code=430200"))
    assert "市州：长沙市" in book["汇总"]["A1"].value
    assert [row[0].value for row in book["各市州情况"].iter_rows(min_row=3)] == ["长沙市"]
    with app.app_context():
        reports, *_ = _approved(2025, (1, 2), city="430100")
    assert book["汇总"]["B5"].value == reports
    _compare_with_page(client, "year=2025&month_from=1&month_to=2&city_code=430200")
    login(client, people.institution.username)
    assert client.get("/reports/stats.xlsx?year=2025").status_code == 403


def test_an_open_month_and_an_empty_period(client, app, people, data):
    login(client, people.province.username)
    with app.app_context():
        report_round(2025, 4)  # still open: 环比 says so instead of a fall
    book = _compare_with_page(client, "year=2025&month_from=2&month_to=4")
    assert "2025年4月尚未截止，暂不比较" in " ".join(str(c.value) for c in book["汇总"][9] if c.value)
    # no approved report in the period: the page shows no tables and no export, a direct export says so
    soup = page(client.get("/reports/stats?year=2025&month_from=3&month_to=3"))
    assert soup.find("a", string="导出Excel") is None and "该统计期暂无审核通过的调度数据" in soup.get_text()
    empty = _book(client.get("/reports/stats.xlsx?year=2025&month_from=3&month_to=3"))
    assert empty.sheetnames == ["汇总"] and empty["汇总"]["A4"].value == "该统计期暂无审核通过的调度数据。"


def test_text_typed_by_institutions_stays_text(client, app, people, data):
    login(client, people.province.username)
    response = client.get("/reports/stats.xlsx?year=2025")
    book = _book(response)  # no formula anywhere
    cell = next(row[1] for row in book["按服务企业数排名"].iter_rows(min_row=3) if row[1].value == NASTY_NAME)
    assert cell.data_type == "s"


# ---- the 导出报表明细 button and 调度数据导出 ---------------------------------------------------------------


def _hidden(form):
    return {tag["name"]: tag.get("value", "") for tag in form.find_all("input", type="hidden")}


def test_the_raw_rows_button_keeps_the_type_filter(client, app, people, data):
    """导出报表明细 on 调度大数据 exports exactly the reports the page counts (type and 市州 included)."""
    from tests.jobs_queue import start_and_download

    login(client, people.province.username)
    query = f"year=2025&month_from=1&month_to=2&city_code=430100&institution_type_id={data['special']}"
    soup = page(client.get(f"/reports/stats?{query}"))
    form = soup.find("button", string="导出报表明细").find_parent("form")
    fields = _hidden(form)
    assert fields["institution_type_id"] == str(data["special"]) and fields["city_code"] == "430100"
    response = start_and_download(client, form["action"], fields)
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    with app.app_context():
        reports, *_ = _approved(2025, (1, 2), city="430100", type_id=data["special"])
    counted = int(soup.select(".stats .stat b")[1].get_text(strip=True).replace(",", ""))
    assert len(rows) == reports == counted == 2
    header = [c.value for c in sheet[1]]
    assert {row[header.index("机构类型")] for row in rows} == {"专业服务机构"}
    assert {row[header.index("机构名称")] for row in rows} == {NASTY_NAME}


# ---- the portal's 调度大数据 ----------------------------------------------------------------------------


def test_the_public_export_matches_the_portal_page(client, app, people, data):
    soup = page(client.get("/big-data?year=2025"))
    link = soup.find("a", string="导出Excel")
    assert link["href"] == "/reports/big-data.xlsx?year=2025"
    book = _book(client.get(link["href"]))  # a visitor: no login
    assert book.sheetnames == ["汇总", "各月趋势", "各市州情况", "各服务类别情况"]
    for sheet, table_id in (
        ("各月趋势", "public-months-table"),
        ("各市州情况", "public-cities-table"),
        ("各服务类别情况", "public-categories-table"),
    ):
        table = soup.find("table", id=table_id)
        assert [shown(c) for c in book[sheet][2]] == page_headers(table), sheet
        assert sheet_rows(book[sheet]) == page_rows(table), sheet
        assert "统计期：2025年1-2月；全省" in book[sheet]["A1"].value
    tiles = [div.find("b").get_text(strip=True) for div in soup.select(".stats .stat")]
    assert [shown(c) for c in book["汇总"][5]][: len(tiles)] == tiles
    assert [c.value for c in book["汇总"][4] if c.value][-1] == "营业收入(万元)"  # four institutions report
    # no single institution anywhere: no ranking, no names
    assert NASTY_NAME not in {c.value for sheet in book.worksheets for row in sheet.iter_rows() for c in row}


def test_the_public_export_hides_revenue_as_the_page_does(client, app, people):
    with app.app_context():
        jan = report_round(2025, 1, opens_on=date(2025, 2, 1), closes_on=date(2025, 2, 10)).id
        make_report(people.institution.id, jan, revenue=100, categories={"政策服务": (2, 20, 5)})
    soup = page(client.get("/big-data"))
    assert "营业收入" not in " ".join(d.get_text() for d in soup.select(".stats .stat"))
    book = _book(client.get(soup.find("a", string="导出Excel")["href"]))
    headers = [c.value for c in book["汇总"][4] if c.value]
    assert headers == ["报送机构数(家)", "服务活动数(场次)", "参与企业数(家)", "服务企业数(家次)"]
    assert "100" not in {shown(c) for sheet in book.worksheets for row in sheet.iter_rows() for c in row}
    assert "营业收入(万元)" not in {c.value for sheet in book.worksheets for row in sheet.iter_rows() for c in row}
    empty = _book(client.get("/reports/big-data.xlsx?year=2030"))
    assert empty.sheetnames == ["汇总"] and empty["汇总"]["A4"].value == "暂无2030年的调度数据。"
