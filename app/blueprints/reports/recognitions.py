"""核心服务机构认定 by the province admin: search institutions, recognise them for a term
directly (e.g. the 2023-2026 list), revoke. Recognitions from 核心服务机构申报 are made by the
applications module; what is "current" is decided in one place, applications.services."""

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.audit import audit
from app.blueprints.applications.models import RECOGNITION_YEARS, Recognition
from app.blueprints.applications.services import recognition_in_force
from app.blueprints.auth.models import Institution
from app.blueprints.reports.errors import ReportError
from app.extensions import db
from app.filings.services import institution_keyword
from app.utils import local_today, paginate, utcnow

# DESIGN.md, "Reference data": the list in force when the system started is 2023-2026.
REFERENCE_TERM = (2023, 2026)


def default_term(today=None):
    """The term 直接认定 offers (and seed-demo gives): the current list's. That is the term of the
    recognition in force in ``today``'s year (China time) that started last; with none in force,
    the reference list while it lasts, then a term of RECOGNITION_YEARS from this year."""
    year = (today or local_today()).year
    row = db.session.execute(
        sa.select(Recognition.term_start, Recognition.term_end)
        .where(recognition_in_force(year))
        .order_by(Recognition.term_start.desc(), Recognition.term_end.desc())
        .limit(1)
    ).first()
    if row is not None:
        return row.term_start, row.term_end
    if REFERENCE_TERM[0] <= year <= REFERENCE_TERM[1]:
        return REFERENCE_TERM
    return year, year + RECOGNITION_YEARS


def recognitions(*, year=None, keyword=None, include_revoked=False, page=1):
    select = (
        sa.select(Recognition)
        .join(Institution, Institution.id == Recognition.institution_id)
        .options(selectinload(Recognition.institution))
        .order_by(Recognition.revoked_at.is_not(None), Institution.city_code, Institution.name, Recognition.id)
    )
    if year:
        select = select.where(Recognition.term_start <= year, Recognition.term_end >= year)
    if not include_revoked:
        select = select.where(Recognition.revoked_at.is_(None))
    if keyword:
        select = select.where(_institution_match(keyword))
    return paginate(select, page=page, per_page=20)


def _institution_match(keyword):
    return institution_keyword(keyword)


def recognition_candidates(*, keyword, year, limit=30):
    """Institutions matching ``keyword`` with whether they are recognised in ``year`` already."""
    if not keyword:
        return []
    in_force = sa.exists().where(Recognition.institution_id == Institution.id, recognition_in_force(year))
    rows = db.session.execute(
        sa.select(Institution, in_force.label("recognised"))
        .where(_institution_match(keyword))
        .order_by(Institution.name)
        .limit(limit)
    ).all()
    return [(institution, recognised) for institution, recognised in rows]


def recognition_set(*, institution_ids, term_start, term_end, note, actor):
    """直接认定: a recognition for each chosen institution not already recognised for the term's
    years. Commits; returns (added names, skipped names)."""
    if term_end < term_start:
        raise ReportError("截止年度不能早于起始年度。")
    institutions = db.session.scalars(sa.select(Institution).where(Institution.id.in_(institution_ids or [0]))).all()
    if not institutions:
        raise ReportError("请先勾选要认定的服务机构。")
    added, skipped = [], []
    for institution in institutions:
        overlapping = db.session.scalar(
            sa.select(Recognition.id)
            .where(
                Recognition.institution_id == institution.id,
                Recognition.revoked_at.is_(None),
                Recognition.term_start <= term_end,
                Recognition.term_end >= term_start,
            )
            .limit(1)
        )
        if overlapping:
            skipped.append(institution.name)
            continue
        recognition = Recognition(
            institution_id=institution.id,
            term_start=term_start,
            term_end=term_end,
            effective_on=local_today(),  # from today: earlier months' 应报 stay as they were
            created_by_id=actor.id,
        )
        db.session.add(recognition)
        db.session.flush()
        audit(
            "recognition.set",
            summary=f"直接认定核心服务机构 {institution.name}（{term_start}-{term_end}）",
            target=recognition,
            after={
                "term": f"{term_start}-{term_end}",
                "effective_on": recognition.effective_on.isoformat(),
                "note": note,
            },
            actor=actor,
        )
        added.append(institution.name)
    db.session.commit()
    return added, skipped


def recognition_revoke(*, recognition_id, actor):
    recognition = db.session.get(Recognition, recognition_id)
    if recognition is None or recognition.revoked_at is not None:
        raise ReportError("该认定不存在或已撤销。")
    recognition.revoked_at = utcnow()
    audit(
        "recognition.revoke",
        summary=f"撤销核心服务机构认定 {recognition.institution.name}（{recognition.term_label}）",
        target=recognition,
        before={"revoked": False},
        after={"revoked": True},
        actor=actor,
    )
    db.session.commit()
    return recognition
