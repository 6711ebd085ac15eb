"""工作总结上报模板 (manual 4(3)): a .docx with the institution, the period and the figures entered,
and headed sections to write in."""

from io import BytesIO

from app.blueprints.reports.forms import category_field_names
from app.documents import official_document, right_aligned, table_text
from app.reference.services import dict_items
from app.spreadsheets import xml_text

BASIC = (
    ("floor_area", "服务场所", "平方米"),
    ("service_assets", "服务资产", "万元"),
    ("site_type", "服务场所类型", ""),
    ("staff_count", "服务人员数", "人"),
    ("bachelor_count", "本科人数", "人"),
    ("intermediate_count", "中级职称人数", "人"),
    ("revenue", "营业收入", "万元"),
    ("service_expense", "服务支出", "万元"),
    ("profit", "利润总额", "万元"),
)
SECTIONS = (
    (
        "一、本月主要工作及成效",
        "围绕政策宣传、融资对接、人才培训、技术创新、数字化转型、市场开拓等，概述本月开展的主要服务工作和取得的成效。",
    ),
    ("二、典型服务案例", "选取 1-3 个“一对一”精准服务企业的典型案例，说明服务对象、服务内容和服务成效。"),
    ("三、存在的问题和建议", "本月工作中遇到的主要困难、问题，以及对政府部门的意见建议。"),
    ("四、下月工作计划", "下月拟开展的主要服务活动及预期目标。"),
)


def _usable(form, name):
    field = form[name] if form is not None and name in form else None
    return field is not None and not field.process_errors


def summary_values(report, form=None):
    """The figures for the template: what the page holds now (``form``, when it was posted and a
    value parses), otherwise what is saved. Returns (basic [(label, value, unit)], categories
    [(name, activities, participants, served)], institution type name)."""

    def value(name, stored):
        return form[name].data if _usable(form, name) else stored

    basic = [(label, value(name, getattr(report, name)), unit) for name, label, unit in BASIC]
    type_id = value("institution_type_id", report.institution_type_id)
    type_name = next(
        (item.name for item in dict_items("institution_type", include_id=type_id) if item.id == type_id), ""
    )
    categories = []
    for row in report.activities:
        names = category_field_names(row.category_id)
        stored = (row.activities, row.participants, row.served)
        categories.append((row.category_name, *(value(n, s) for n, s in zip(names, stored))))
    return basic, categories, type_name


def _text(value, unit=""):
    if value is None or value == "":
        return "____"
    if hasattr(value, "quantize"):
        value = f"{value:,.2f}"
    return f"{value} {unit}".strip()


def work_summary_docx(report, form=None):
    basic, categories, type_name = summary_values(report, form)
    institution = report.institution
    document = official_document()
    # python-docx refuses text with control characters: what users typed goes through xml_text
    document.add_heading(xml_text(f"{institution.name}{report.year}年{report.month}月工作总结"), level=1)
    document.add_paragraph(xml_text(f"机构名称：{institution.name}"))
    document.add_paragraph(xml_text(f"机构代码：{institution.uscc}"))
    document.add_paragraph(f"填报年度：{report.year}年    月份：{report.month}月")
    document.add_paragraph(xml_text(f"机构类型：{type_name or '____'}    所在地区：{institution.region_label}"))

    document.add_heading("本月基础数据", level=2)
    table = document.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value, unit in basic:
        cells = table.add_row().cells
        cells[0].text = f"{label}({unit})" if unit else label
        cells[1].text = xml_text(_text(value))
    table_text(table)
    document.add_heading("本月服务活动情况", level=2)
    table = document.add_table(rows=1, cols=4)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ("服务类别", "服务活动数(场次)", "参与企业数(家)", "服务企业数(家次)")):
        cell.text = text
    totals = [0, 0, 0]
    for name, activities, participants, served in categories:
        cells = table.add_row().cells
        cells[0].text = xml_text(name)
        for index, figure in enumerate((activities, participants, served)):
            cells[index + 1].text = str(figure or 0)
            totals[index] += figure or 0
    cells = table.add_row().cells
    cells[0].text = "合计"
    for index, figure in enumerate(totals):
        cells[index + 1].text = str(figure)
    table_text(table)

    for title, hint in SECTIONS:
        document.add_heading(title, level=2)
        document.add_paragraph(f"（{hint}）")
        document.add_paragraph("")
    for line in ("填报单位（盖章）：", "日期：      年    月    日"):
        right_aligned(document, line)
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()
