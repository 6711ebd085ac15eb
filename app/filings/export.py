"""Excel export of filings: one row per filing, every field, each row flushed to disk as it is written."""

from decimal import Decimal

from flask import send_file
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.filings import services
from app.reference.services import region_name
from app.spreadsheets import xlsx_file, xlsx_workbook, xlsxwriter_row
from app.utils import format_date, format_datetime, local_today

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_filings(wizard, user, **filters):
    """The .xlsx of the review queue as filtered and ordered (``filters`` as for
    ``services.review_filings``: round_id, city_code, status, keyword, type_id, late, sort,
    descending): exactly its rows, every page. No filters: every filing in the reviewer's scope;
    ``sort=None``: by 市州, then as filed."""
    out = xlsx_file(lambda out: _write_filings(out, wizard, user, filters))
    name = f"{wizard.title}_{format_date(local_today())}.xlsx"
    return send_file(out, mimetype=XLSX, as_attachment=True, download_name=name)  # RFC 5987 name


def _write_filings(out, wizard, user, filters):
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
