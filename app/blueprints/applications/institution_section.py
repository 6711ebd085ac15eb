"""The applications module's sections of the admins' 机构详情 page: the institution's 核心服务机构认定
and its 核心服务机构申报 filings."""

import sqlalchemy as sa
from flask import has_request_context, request

from app.blueprints.applications.models import Recognition
from app.blueprints.applications.wizard import wizard
from app.extensions import db
from app.filings.overview import institution_filings
from app.modules import AdminSection
from app.utils import local_today


def institution_recognitions(institution_id):
    """Every recognition of the institution, latest term first: one query, read once per request
    (the reports module's grid asks for them too)."""
    kept = getattr(request, "_institution_recognitions", None) if has_request_context() else None
    if kept is not None and kept[0] == institution_id:
        return kept[1]
    rows = db.session.scalars(
        sa.select(Recognition)
        .where(Recognition.institution_id == institution_id)
        .order_by(Recognition.term_start.desc(), Recognition.effective_on.desc(), Recognition.id.desc())
    ).all()
    if has_request_context():
        request._institution_recognitions = (institution_id, rows)
    return rows


def recognition_state(recognition, today):
    """有效 / 已撤销 / 已到期 / 未开始 as of ``today``."""
    if recognition.revoked_at is not None:
        return "已撤销"
    if recognition.term_end < today.year:
        return "已到期"
    if recognition.term_start > today.year or recognition.effective_on > today:
        return "未开始"
    return "有效"


def sections(institution, *, viewer, args):
    """核心服务机构认定 (terms, 生效日期, state) and 核心服务机构申报 (status and links)."""
    today = local_today()
    recognitions = institution_recognitions(institution.id)
    rows = institution_filings(wizards=[wizard], institution_id=institution.id, viewer=viewer)
    return [
        AdminSection(
            "recognitions",
            "核心服务机构认定",
            "applications/_partials/_institution_recognitions.html",
            {"recognitions": [(r, recognition_state(r, today)) for r in recognitions]},
        ),
        AdminSection(
            "applications",
            "核心服务机构申报",
            "filings/_partials/_institution_filings.html",
            {"rows": rows, "round_header": "申报批次", "empty": "该机构没有核心服务机构申报记录。"},
        ),
    ]
