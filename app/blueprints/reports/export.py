"""Excel export of monthly reports: one row per report, one column per field and per 服务类别
indicator. Streamed: reports are read in batches (keyset on id), rows come from a generator into a
constant-memory XlsxWriter workbook written by a job (调度数据导出, and 调度数据审核's 导出Excel), so a
province-wide year never sits in memory."""

from decimal import Decimal

import sqlalchemy as sa

from app.blueprints.auth.models import Institution
from app.blueprints.reports.models import MonthlyReport, ReportActivity, status_label
from app.extensions import db
from app.filings import services as engine
from app.filings import workflow
from app.inputs import db_int, year_int
from app.reference.models import DictItem, InstitutionType
from app.reference.services import cities, dict_items, region_name
from app.spreadsheets import xlsx_workbook, xlsxwriter_row
from app.utils import format_date, format_datetime, local_today

BATCH = 500
# (attribute, header) in the order of the form (manual 4(2)); units in brackets as on the page
FIELD_COLUMNS = (
    ("institution_type", "机构类型"),
    ("floor_area", "服务场所(平方米)"),
    ("service_assets", "服务资产(万元)"),
    ("site_type", "服务场所类型"),
    ("staff_count", "服务人员数(人)"),
    ("bachelor_count", "本科人数(人)"),
    ("intermediate_count", "中级职称人数(人)"),
    ("revenue", "营业收入(万元)"),
    ("service_expense", "服务支出(万元)"),
    ("profit", "利润总额(万元)"),
)
HEAD_COLUMNS = ("序号", "填报年度", "月份", "机构名称", "机构代码", "所在市州", "所在区县")
TAIL_COLUMNS = (
    "服务活动数合计(场次)",
    "参与企业数合计(家)",
    "服务企业数合计(家次)",
    "异常说明",
    "审核状态",
    "提交时间",
    "报送情况",
)


def export_criteria(values, *, user):
    """The criteria of 调度数据导出 from what its form posted (or a query string): year, months, 市州,
    审核状态 and 机构类型. What cannot be chosen falls back as the page offers it: months 1-12, the
    admin's own 市州 for a city admin, all statuses (never 草稿), all 机构类型."""
    status = values.get("status") or None
    type_id = values.get("institution_type_id", type=db_int)
    if user.role == "province_admin":
        city_code = values.get("city_code") or None
        city_code = city_code if city_code in {c.code for c in cities()} else None
    else:
        city_code = user.city_code
    return {
        **export_period(values),
        "city_code": city_code,
        "status": status if status in workflow.STATUS_LABELS and status != workflow.DRAFT else None,
        "institution_type_id": type_id if type_id in {t.id for t in dict_items("institution_type")} else None,
    }


def export_period(values):
    """The year and month range of 调度数据导出 from a form or a query: no year (every year), or one
    year and months within 1-12 (1-12 when not given)."""
    month_from = min(12, max(1, values.get("month_from", 1, type=db_int) or 1))
    month_to = min(12, max(1, values.get("month_to", 12, type=db_int) or 12))
    return {
        "year": values.get("year", type=year_int),
        "month_from": min(month_from, month_to),
        "month_to": max(month_from, month_to),
    }


def export_title(*, year=None, month_from=1, month_to=12, city_code=None, status=None, institution_type_id=None):
    """调度数据导出（2025年1-12月，长沙市，综合服务机构，已通过）: the job's title names every criterion chosen."""
    parts = [period_label(year, month_from, month_to)]
    if city_code:
        parts.append(region_name(city_code))
    if institution_type_id:
        item = db.session.get(DictItem, institution_type_id)
        parts.append(item.name if item else "")
    if status:
        parts.append(status_label(status))
    return f"调度数据导出（{'，'.join(p for p in parts if p)}）"


def reports_select(
    *,
    user,
    year=None,
    month_from=1,
    month_to=12,
    city_code=None,
    status=None,
    institution_type_id=None,
    ids=None,
    columns=None,
):
    """The reports an admin may export: not drafts, in scope, optionally one year and month range,
    one 市州 (for the province), one status, one 机构类型 (the report's own, as 调度大数据 counts it),
    and only those whose id ``ids`` (a select of report ids, e.g. a review queue's) yields."""
    select = (
        sa.select(*(columns or [MonthlyReport]))
        .select_from(MonthlyReport)
        .where(MonthlyReport.status != workflow.DRAFT)
    )
    select = engine.review_scope(select, MonthlyReport, user)
    if year:
        select = select.where(MonthlyReport.year == year, MonthlyReport.month.between(month_from, month_to))
    if city_code and user.role == "province_admin":
        select = select.where(MonthlyReport.city_code == city_code)
    if status in workflow.STATUS_LABELS and status != workflow.DRAFT:
        select = select.where(MonthlyReport.status == status)
    if institution_type_id:
        select = select.where(MonthlyReport.institution_type_id == institution_type_id)
    if ids is not None:
        select = select.where(MonthlyReport.id.in_(ids))
    return select


def categories_in(ids_select):
    """(id, name) of every 服务类别 the selected reports carry, in the dictionary's order."""
    ids = sa.select(ReportActivity.category_id).where(ReportActivity.report_id.in_(ids_select))
    return db.session.execute(
        sa.select(DictItem.id, DictItem.name)
        .where(DictItem.id.in_(ids.distinct()))
        .order_by(DictItem.sort_order, DictItem.id)
    ).all()


def headers(categories):
    indicator = []
    for _, name in categories:
        indicator += [f"{name}活动数(场次)", f"{name}参与企业数(家)", f"{name}服务企业数(家次)"]
    return [*HEAD_COLUMNS, *(header for _, header in FIELD_COLUMNS), *indicator, *TAIL_COLUMNS]


def _cell(value):
    if isinstance(value, Decimal):
        return float(value)
    if value is None:
        return ""
    return value


def rows(select, categories):
    """One list per report, read BATCH reports at a time as plain rows (a generator).

    Reading Core rows instead of ORM objects keeps a province-wide year quick; the activities of
    a batch come in one query."""
    fields = [getattr(MonthlyReport, name) for name, _ in FIELD_COLUMNS if name != "institution_type"]
    plain = (
        select.with_only_columns(
            MonthlyReport.id,
            MonthlyReport.year,
            MonthlyReport.month,
            MonthlyReport.city_code,
            MonthlyReport.status,
            MonthlyReport.first_submitted_at,
            MonthlyReport.submitted_at,
            MonthlyReport.late,
            MonthlyReport.anomaly_note,
            MonthlyReport.activities_total,
            MonthlyReport.participants_total,
            MonthlyReport.served_total,
            Institution.name,
            Institution.uscc,
            Institution.county_code,
            InstitutionType.name,
            *fields,
        )
        .outerjoin(Institution, Institution.id == MonthlyReport.institution_id)
        .outerjoin(InstitutionType, InstitutionType.id == MonthlyReport.institution_type_id)
    )
    index = 0
    last_id = 0
    while True:
        batch = db.session.execute(
            plain.where(MonthlyReport.id > last_id).order_by(MonthlyReport.id).limit(BATCH)
        ).all()
        if not batch:
            return
        activities = {}
        for report_id, category_id, *figures in db.session.execute(
            sa.select(
                ReportActivity.report_id,
                ReportActivity.category_id,
                ReportActivity.activities,
                ReportActivity.participants,
                ReportActivity.served,
            ).where(ReportActivity.report_id.in_([row[0] for row in batch]))
        ):
            activities[(report_id, category_id)] = figures
        for (
            report_id,
            year,
            month,
            city_code,
            status,
            first_submitted_at,
            submitted_at,
            late,
            anomaly_note,
            activities_total,
            participants_total,
            served_total,
            name,
            uscc,
            county_code,
            type_name,
            *values,
        ) in batch:
            index += 1
            indicators = []
            for category_id, _ in categories:
                indicators += activities.get((report_id, category_id), ["", "", ""])
            yield [
                index,
                year,
                month,
                name or "",
                uscc or "",
                region_name(city_code),
                region_name(county_code),
                type_name or "",
                *(_cell(v) for v in values),
                *(_cell(v) for v in indicators),
                activities_total,
                participants_total,
                served_total,
                anomaly_note or "",
                status_label(status),
                format_datetime(first_submitted_at or submitted_at),
                ("逾期报送" if late else "按时报送") if first_submitted_at else "",
            ]
            last_id = report_id


def period_label(year, month_from, month_to):
    if year:
        return f"{year}年{month_from}月" if month_from == month_to else f"{year}年{month_from}-{month_to}月"
    return "全部"


def export_name(*, year=None, month_from=1, month_to=12, **_criteria):
    """核心服务机构调度数据_2024年1-12月_2024-07-08.xlsx"""
    return f"核心服务机构调度数据_{period_label(year, month_from, month_to)}_{format_date(local_today())}.xlsx"


def export_write(out, *, progress=None, **criteria):
    """Write the .xlsx of the chosen reports into ``out``; ``progress(done, total)`` is told as rows go."""
    select = reports_select(**criteria)
    categories = categories_in(reports_select(**criteria, columns=[MonthlyReport.id]))
    total = None
    if progress is not None:
        total = db.session.scalar(reports_select(**criteria, columns=[sa.func.count(MonthlyReport.id)]).order_by(None))
        progress(0, total, f"共 {total} 份报表，正在导出")
    # constant_memory: each row is flushed to disk as it is written.
    workbook = xlsx_workbook(out, constant_memory=True)
    sheet = workbook.add_worksheet("核心服务机构调度数据")
    xlsxwriter_row(sheet, 0, headers(categories))
    for number, row in enumerate(rows(select, categories), start=1):
        xlsxwriter_row(sheet, number, row)  # text as text, never a formula
        if progress is not None:
            progress(number, total, f"已导出 {number} / {total} 份报表")
    workbook.close()
