"""Excel export of a review queue (导出Excel), as a background job: one row per filing, every field,
each row flushed to disk as it is written.

The queue's 导出Excel posts its filters; the view starts a ``filings.export`` job (``EXPORT_JOB``,
listed by ``create_app`` with the core's jobs) carrying the filing kind, those filters and the
requester, and answers 303 to the job's page at once. The job rebuilds the queue's select with the
requester's scope as it stands when it runs (nothing the browser sent names a row) and writes the
workbook the download used to be: the module's own columns when its wizard declares
``export_write`` (调度数据审核: the 调度数据导出 columns), else every field of the kind. The job and
its file are the requester's alone (``JobKind.private``).
"""

from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.filings import services
from app.filings.models import Round
from app.jobs import JobKind, Outcome, job_admin
from app.modules import wiring
from app.reference.services import region_name
from app.spreadsheets import xlsx_workbook, xlsxwriter_row
from app.utils import format_date, format_datetime, local_today

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
QUEUE_EXPORT = "filings.export"


def export_params(wizard, filters, criteria, back):
    """The job's parameters: which kind, the queue's filters, the module's own criteria, the way back."""
    return {"kind": wizard.kind, "filters": filters, "criteria": criteria, "back": back}


def export_title(wizard, filters):
    """核心服务机构申报导出（全部状态，长沙市，关键词“甲”）: the job's title names the filters chosen."""
    parts = []
    round = db.session.get(Round, filters["round_id"]) if filters.get("round_id") else None
    if round is not None:
        parts.append(round.title)
    if filters.get("city_code"):
        parts.append(region_name(filters["city_code"]))
    parts.append(wizard.status_label(filters["status"]) if filters.get("status") else "全部状态")
    if filters.get("late") is not None:
        parts.append("逾期报送" if filters["late"] else "按时报送")
    if filters.get("keyword"):
        parts.append(f"关键词“{filters['keyword'][:20]}”")
    return f"{wizard.title}导出（{'，'.join(parts)}）"


def export_name(wizard):
    return f"{wizard.title}_{format_date(local_today())}.xlsx"


def _wizard(kind):
    for module in wiring().modules:
        for wizard in module.wizards:
            if wizard.kind == kind:
                return wizard
    raise LookupError(f"没有这种填报：{kind}")


def export_job(*, job, progress, path):
    """导出Excel of a review queue: the queue's rows under its filters, in the requester's scope."""
    wizard = _wizard(job.params["kind"])
    user = job_admin(job)
    filters = job.params["filters"]
    with open(path, "wb") as out:
        if wizard.export_write is not None:  # the module's own columns, the same rows
            name = wizard.export_write(
                wizard, out, user=user, filters=filters, criteria=job.params.get("criteria") or {}, progress=progress
            )
        else:
            export_filings(out, wizard=wizard, user=user, filters=filters, progress=progress)
            name = export_name(wizard)
    return Outcome("导出完成，请下载。", download_name=name, mimetype=XLSX)


EXPORT_JOB = JobKind(QUEUE_EXPORT, "审核列表导出", export_job, private=True)


def export_filings(out, *, wizard, user, filters, progress=None):
    """Write the .xlsx of the review queue as filtered and ordered (``filters`` as for
    ``services.review_filings``: round_id, city_code, status, keyword, type_id, late, sort,
    descending) into ``out``: exactly its rows, every page. No filters: every filing in the
    reviewer's scope; ``sort=None``: by 市州, then as filed."""
    model = wizard.model
    filters = dict(filters)
    by_region = filters.get("sort") is None
    filters["sort"] = filters.get("sort") or "submitted"
    select = services.queue_select(wizard=wizard, user=user, **filters).options(
        selectinload(model.institution), selectinload(model.round), selectinload(model.attachments)
    )
    if by_region:
        select = select.order_by(None).order_by(model.city_code, model.id)
    late = set(
        db.session.scalars(
            services.queue_select(wizard=wizard, user=user, columns=[model.id], **{**filters, "late": True}).order_by(
                None
            )
        )
    )
    total = None
    if progress is not None:
        counted = services.queue_select(wizard=wizard, user=user, columns=[sa.func.count(model.id)], **filters)
        total = db.session.scalar(counted.order_by(None))
        progress(0, total, f"共 {total} 条记录，正在导出", force=True)
    workbook = xlsx_workbook(out, constant_memory=True)
    sheet = workbook.add_worksheet(wizard.title[:30])
    headers = ["序号", "批次", "机构名称", "机构代码", "所在市州", "所在区县", "联系人", "联系方式"]
    # Field labels can depend on the round (e.g. 2022年服务企业数), so they come from the first row.
    sample_labels = None
    rows = []
    for index, filing in enumerate(db.session.scalars(select), start=1):
        sections = wizard.hooks.detail_sections(wizard, filing)
        labels = [f"{label}({unit})" if unit else label for _, items in sections for label, _, unit, _ in items]
        if sample_labels is None:
            sample_labels = labels
        values = [_cell(getattr(filing, key, None), shown) for _, items in sections for _, shown, _, key in items]
        institution = filing.institution
        rows.append(
            [
                index,
                filing.round.title,
                institution.name if institution else "",
                institution.uscc if institution else "",
                region_name(filing.city_code),
                region_name(institution.county_code) if institution else "",
                institution.contact if institution else "",
                institution.phone if institution else "",
                *values,
                len(filing.attachments),
                wizard.status_label(filing.status),
                format_datetime(filing.submitted_at),
                "逾期报送" if filing.id in late else "按时报送",
            ]
        )
        if progress is not None:
            progress(index, total, f"已导出 {index} / {total} 条记录")
    xlsxwriter_row(sheet, 0, headers + (sample_labels or []) + ["附件数", "审核状态", "提交时间", "报送情况"])
    for number, row in enumerate(rows, start=1):
        xlsxwriter_row(sheet, number, row)  # text as text: a 联系人 of "=HYPERLINK(...)" is not a formula
    workbook.close()


def _cell(raw, shown):
    """Numbers stay numbers in Excel (money keeps two decimals); everything else as shown."""
    if isinstance(raw, bool):
        return shown
    if isinstance(raw, Decimal):
        return float(raw)
    if isinstance(raw, (int, float)) and not isinstance(shown, str):
        return raw  # a choice's id (e.g. 服务类别) is exported as its label, shown
    return "" if shown == "—" else str(shown)
