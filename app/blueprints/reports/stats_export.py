"""调度大数据 as Excel: every table of the page, one sheet each, with the page's figures.

The workbook is built from the same ``Dashboard`` (or ``PublicSummary``) object the page renders,
for the same ``Filters``, so its rows and figures are the screen's: counts as whole numbers, money
in 万元 with two decimals, 环比/同比 as the page shows them (+62.5%, —, or why there is no
comparison yet). Each sheet starts with a title row naming the filters; sheets print on A4
landscape, fitted to the width, with the title and header rows repeated (app/spreadsheets.py).
Aggregates only (a few dozen rows), so the file is built in the request.
"""

from flask import send_file

from app.blueprints.reports.stats import filters_named
from app.filings.export import XLSX
from app.spreadsheets import xlsx_file, xlsx_workbook, xlsxwriter_cell, xlsxwriter_merge
from app.utils import format_date, local_today

COUNT, MONEY, PERCENT, TEXT = "count", "money", "percent", "text"
NUMBER_FORMATS = {COUNT: "#,##0", MONEY: "#,##0.00", PERCENT: "+0.0%;-0.0%;0.0%"}

# (header, attribute of a stats.Row, kind) of each breakdown, as the page's tables
MONTH_COLUMNS = (
    ("月份", "label", TEXT),
    ("报送机构(家)", "institutions", COUNT),
    ("服务活动数(场次)", "activities", COUNT),
    ("参与企业数(家)", "participants", COUNT),
    ("服务企业数(家次)", "served", COUNT),
    ("营业收入(万元)", "revenue", MONEY),
)
CITY_COLUMNS = (
    ("市州", "label", TEXT),
    ("报送机构(家)", "institutions", COUNT),
    ("服务活动数(场次)", "activities", COUNT),
    ("服务企业数(家次)", "served", COUNT),
    ("营业收入(万元)", "revenue", MONEY),
)
CATEGORY_COLUMNS = (
    ("服务类别", "label", TEXT),
    ("服务活动数(场次)", "activities", COUNT),
    ("参与企业数(家)", "participants", COUNT),
    ("服务企业数(家次)", "served", COUNT),
)
TOTAL_TILES = (
    ("报送机构(家)", "institutions", COUNT),
    ("报表(份)", "reports", COUNT),
    ("服务活动数(场次)", "activities", COUNT),
    ("参与企业数(家)", "participants", COUNT),
    ("服务企业数(家次)", "served", COUNT),
    ("营业收入(万元)", "revenue", MONEY),
    ("服务支出(万元)", "expense", MONEY),
    ("利润总额(万元)", "profit", MONEY),
)
COMPARED = (
    ("服务活动数", "activities"),
    ("参与企业数", "participants"),
    ("服务企业数", "served"),
    ("营业收入", "revenue"),
)
EMPTY = "该统计期暂无审核通过的调度数据。"
NOTE = "只统计已审核通过的月度调度数据。"


def filters_caption(f):
    """统计期：2025年1-2月；市州：全省；机构类型：全部"""
    return "；".join(f"{label}：{value}" for label, value in filters_named(f))


class _Book:
    """A printable workbook with the formats every sheet shares."""

    def __init__(self, out):
        self.book = xlsx_workbook(out)
        self.title = self.book.add_format({"bold": True, "font_size": 13})
        self.header = self.book.add_format({"bold": True, "align": "center", "valign": "vcenter", "text_wrap": True})
        self.muted = self.book.add_format({"font_color": "#666666"})
        self.formats = {kind: self.book.add_format({"num_format": code}) for kind, code in NUMBER_FORMATS.items()}

    def sheet(self, name, title, widths):
        """A sheet whose first row is ``title`` merged across the columns of ``widths``."""
        sheet = self.book.add_worksheet(name)
        for column, width in enumerate(widths):
            sheet.set_column(column, column, width)
        xlsxwriter_merge(sheet, 0, 0, max(len(widths) - 1, 1), title, self.title)
        return sheet

    def cell(self, sheet, row, column, value, kind=TEXT):
        xlsxwriter_cell(sheet, row, column, value, self.formats.get(kind))

    def headers(self, sheet, row, headers):
        for column, header in enumerate(headers):
            xlsxwriter_cell(sheet, row, column, header, self.header)

    def table(self, name, title, columns, rows, empty=EMPTY):
        """One breakdown: title row, header row (both repeated on every printed page), one row per
        ``stats.Row`` (``empty`` when there are none, as the page says)."""
        sheet = self.sheet(name, title, [18 if kind == TEXT else 16 for _, _, kind in columns])
        self.headers(sheet, 1, [header for header, _, _ in columns])
        sheet.repeat_rows(0, 1)
        sheet.freeze_panes(2, 1)
        for number, row in enumerate(rows, start=2):
            for column, (_, attribute, kind) in enumerate(columns):
                self.cell(sheet, number, column, getattr(row, attribute), kind)
        if not rows:
            xlsxwriter_cell(sheet, 2, 0, empty, self.muted)
        return sheet

    def close(self):
        self.book.close()


def _percent(pct):
    """The page's +62.5% as a number Excel shows the same way (0.625 in the +0.0% format)."""
    return None if pct is None else round(pct / 100, 4)  # -53.8 / 100 is -0.5379999... in binary


def _summary_sheet(book, d, caption):
    """汇总: the totals the page shows as tiles, then 环比与同比 as its table."""
    sheet = book.sheet("汇总", f"调度大数据 汇总（{caption}）", [14, 16, 16, 16, 16, 16, 16, 16])
    sheet.repeat_rows(0)
    xlsxwriter_cell(sheet, 1, 0, NOTE, book.muted)
    if d.empty:
        xlsxwriter_cell(sheet, 3, 0, EMPTY, book.muted)
        return
    book.headers(sheet, 3, [label for label, _, _ in TOTAL_TILES])
    for column, (_, attribute, kind) in enumerate(TOTAL_TILES):
        book.cell(sheet, 4, column, getattr(d.totals, attribute), kind)
    xlsxwriter_cell(sheet, 6, 0, "环比与同比", book.title)
    book.headers(sheet, 7, ["比较", "本期", "对比期", *(label for label, _ in COMPARED)])
    for number, c in enumerate((d.mom, d.yoy), start=8):
        for column, value in enumerate((c.label, c.period, c.base_period)):
            book.cell(sheet, number, column, value)
        if c.pending:
            xlsxwriter_merge(sheet, number, 3, 3 + len(COMPARED) - 1, f"{c.pending}，暂不比较（截止后数据才完整）")
            continue
        for column, (_, measure) in enumerate(COMPARED, start=3):
            pct = c.pct(measure)
            if pct is None:
                book.cell(sheet, number, column, "—")
            else:
                book.cell(sheet, number, column, _percent(pct), PERCENT)
    xlsxwriter_cell(
        sheet,
        11,
        0,
        "环比：截止月份与上月相比；同比：统计期与上年同期相比。只比较已截止报送的月份；对比期无数据时显示“—”。",
        book.muted,
    )


def _top_sheet(book, name, title, rows, first):
    """排名居前的机构 by ``first`` (served or activities), the other measure second, as the page."""
    measures = [("服务企业数(家次)", "served"), ("服务活动数(场次)", "activities")]
    if first == "activities":
        measures.reverse()
    sheet = book.sheet(name, title, [8, 36, 12, 16, 16])
    book.headers(sheet, 1, ["名次", "机构名称", "市州", *(header for header, _ in measures)])
    sheet.repeat_rows(0, 1)
    sheet.freeze_panes(2, 0)
    for number, row in enumerate(rows, start=2):
        book.cell(sheet, number, 0, number - 1, COUNT)
        book.cell(sheet, number, 1, row.label)
        book.cell(sheet, number, 2, row.extra.get("city", ""))
        for column, (_, measure) in enumerate(measures, start=3):
            book.cell(sheet, number, column, getattr(row, measure), COUNT)
    if not rows:
        xlsxwriter_cell(sheet, 2, 0, "暂无数据。", book.muted)


def dashboard_write(out, d):
    """The admin 调度大数据 ``d`` (a stats.Dashboard) as a workbook written into ``out``: 汇总 (totals,
    环比/同比), 各月趋势, 各市州情况, 各服务类别情况 and the two rankings, one sheet each."""
    caption = filters_caption(d.filters)
    book = _Book(out)
    _summary_sheet(book, d, caption)
    if not d.empty:  # the page shows no table then either
        book.table("各月趋势", f"调度大数据 各月趋势（{caption}）", MONTH_COLUMNS, d.months)
        book.table("各市州情况", f"调度大数据 各市州情况（{caption}）", CITY_COLUMNS, d.cities)
        book.table(
            "各服务类别情况",
            f"调度大数据 各服务类别情况（{caption}）",
            CATEGORY_COLUMNS,
            d.categories,
            "暂无服务类别数据。",
        )
        for name, rows, first in (
            ("按服务企业数排名", d.top_served, "served"),
            ("按服务活动数排名", d.top_activities, "activities"),
        ):
            title = f"排名居前的机构 {name[:-2]}（前 {len(rows)} 名；{caption}）"
            _top_sheet(book, name, title, rows, first)
    book.close()


def dashboard_name(f):
    """调度大数据_2025年1-2月_全省_全部_2026-03-01.xlsx"""
    parts = [value for _, value in filters_named(f)]
    return f"调度大数据_{'_'.join(parts)}_{format_date(local_today())}.xlsx"


def dashboard_download(d):
    """The .xlsx download of the admin 调度大数据 ``d``, built now from the page's own figures."""
    out = xlsx_file(lambda out: dashboard_write(out, d))
    return send_file(out, mimetype=XLSX, as_attachment=True, download_name=dashboard_name(d.filters))


# ---- the portal's 调度大数据 ------------------------------------------------------------------------------

PUBLIC_MONTH_COLUMNS = MONTH_COLUMNS[:-1]  # the public page shows no money per month or 市州
PUBLIC_CITY_COLUMNS = CITY_COLUMNS[:-1]
# the page's tiles (PublicSummary.stats); 营业收入 last, shown only with enough institutions
PUBLIC_TILES = (
    ("报送机构数(家)", "institutions", COUNT),
    ("服务活动数(场次)", "activities", COUNT),
    ("参与企业数(家)", "participants", COUNT),
    ("服务企业数(家次)", "served", COUNT),
    ("营业收入(万元)", "revenue", MONEY),
)


def public_write(out, summary):
    """The portal's 调度大数据 ``summary`` (a stats.PublicSummary): its tiles and its three tables;
    营业收入 only where the page shows it (``revenue_public``)."""
    caption = f"统计期：{summary.period or f'{summary.year}年'}；全省"
    book = _Book(out)
    sheet = book.sheet("汇总", f"调度大数据 汇总（{caption}）", [14, 14, 14, 14, 16])
    sheet.repeat_rows(0)
    xlsxwriter_cell(sheet, 1, 0, "已审核通过的月度调度数据的汇总指标。", book.muted)
    if not summary.stats:
        xlsxwriter_cell(sheet, 3, 0, f"暂无{summary.year}年的调度数据。", book.muted)
    else:
        tiles = PUBLIC_TILES if summary.revenue_public else PUBLIC_TILES[:-1]
        book.headers(sheet, 3, [label for label, _, _ in tiles])
        for column, (_, attribute, kind) in enumerate(tiles):
            book.cell(sheet, 4, column, getattr(summary.totals, attribute), kind)
        if not summary.revenue_public:
            xlsxwriter_cell(
                sheet, 6, 0, "报送机构少于 3 家时不公布营业收入合计，以免反映单个机构的经营数据。", book.muted
            )
        book.table("各月趋势", f"调度大数据 各月趋势（{caption}）", PUBLIC_MONTH_COLUMNS, summary.months)
        book.table("各市州情况", f"调度大数据 各市州情况（{caption}）", PUBLIC_CITY_COLUMNS, summary.cities)
        book.table(
            "各服务类别情况",
            f"调度大数据 各服务类别情况（{caption}）",
            CATEGORY_COLUMNS,
            summary.categories,
            "暂无服务类别数据。",
        )
    book.close()


def public_download(summary):
    """The .xlsx download of the portal's 调度大数据 (aggregates only)."""
    out = xlsx_file(lambda out: public_write(out, summary))
    period = summary.period or f"{summary.year}年"
    name = f"调度大数据_{period}_全省_{format_date(local_today())}.xlsx"
    return send_file(out, mimetype=XLSX, as_attachment=True, download_name=name)
