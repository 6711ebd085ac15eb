"""评审排名 导出Excel: the ranking page's table as the admin sees it (same 评选年度, kind, sort and
direction; each reviewer's total, as reviews.reviewer_label lets this user see who gave it, then the
mean), on A4 landscape (app/spreadsheets.py). Text goes in as text, never a formula."""

from flask import send_file
from flask_login import current_user

from app.blueprints.awards import reviews
from app.spreadsheets import xlsx_file, xlsx_workbook, xlsxwriter_cell, xlsxwriter_merge, xlsxwriter_row
from app.utils import local_today

SORT_LABELS = {"mean": "加权平均分", "count": "评分数", "spread": "极差", "name": "名称"}


def result_label(row, wizard):
    """评选结果 as the page shows it: the published status, else the recorded 入选 / 未入选 / 未定."""
    if row.nomination.status != "city_approved":
        return wizard.status_label(row.nomination.status)
    if row.result is None:
        return "未定"
    return "入选" if row.result.selected else "未入选"


def ranking_sheet(*, round, wizard, rows, sort, descending):
    """(title, header, [row values]) of the export: the screen's columns, one pair of 评审专家 / 总分
    columns per reviewer (as many pairs as the nomination with the most reviewers), then the mean."""
    slots = max((len(row.reviewers) for row in rows), default=0)
    header = ["排名", "名称", "所在地区"]
    for index in range(1, slots + 1):
        header += [f"评审专家{index}", f"总分{index}"]
    header += ["加权平均分", "评分数", "已分配", "极差", "评选结果"]
    body = []
    for row in rows:
        values = [row.rank, row.name, row.region]
        for index in range(slots):
            if index < len(row.reviewers):
                reviewer = row.reviewers[index]
                label = (
                    reviewer.label if reviewer.total is not None else f"{reviewer.label}（{reviewer.note or '未评分'}）"
                )
                values += [label, float(reviewer.total) if reviewer.total is not None else None]
            else:
                values += [None, None]
        summary = row.summary
        values += [
            float(summary.mean_display) if summary.count else None,
            summary.count,
            row.assigned,
            float(summary.spread_display) if summary.count else None,
            result_label(row, wizard),
        ]
        body.append(values)
    order = "降序" if descending else "升序"
    title = f"{round.title} {wizard.short_title}评审排名（按{SORT_LABELS.get(sort, '加权平均分')}{order}；导出日期 {local_today():%Y-%m-%d}）"
    return title, header, body


def write_ranking(out, *, title, header, body, score_columns):
    workbook = xlsx_workbook(out)
    sheet = workbook.add_worksheet("评审排名")
    bold = workbook.add_format({"bold": True, "text_wrap": True, "valign": "vcenter", "border": 1})
    heading = workbook.add_format({"bold": True, "font_size": 14})
    cell = workbook.add_format({"border": 1, "valign": "vcenter"})
    score = workbook.add_format({"border": 1, "num_format": "0.00", "valign": "vcenter"})
    xlsxwriter_merge(sheet, 0, 0, len(header) - 1, title, heading)
    xlsxwriter_row(sheet, 1, header, bold)
    sheet.repeat_rows(0, 1)  # the title and the header on every printed page
    sheet.freeze_panes(2, 2)
    for number, values in enumerate(body, start=2):
        for column, value in enumerate(values):
            xlsxwriter_cell(sheet, number, column, value, score if column in score_columns else cell)
    sheet.set_column(0, 0, 6)
    sheet.set_column(1, 1, 30)
    sheet.set_column(2, 2, 16)
    sheet.set_column(3, len(header) - 1, 11)
    workbook.close()


def ranking_response(*, round, wizard, sort, descending):
    """The .xlsx download, built afresh from the database as of now."""
    rows = reviews.ranking(round=round, wizard=wizard, viewer=current_user, sort=sort, descending=descending)
    title, header, body = ranking_sheet(round=round, wizard=wizard, rows=rows, sort=sort, descending=descending)
    score_columns = {i for i, name in enumerate(header) if name.startswith("总分") or name in ("加权平均分", "极差")}
    out = xlsx_file(
        lambda stream: write_ranking(stream, title=title, header=header, body=body, score_columns=score_columns)
    )
    return send_file(
        out,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"{round.title}{wizard.short_title}评审排名.xlsx",
    )
