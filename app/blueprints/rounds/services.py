"""申报批次 / 调度期 / 评选年度: opened and edited by province admins."""

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.audit import audit, snapshot
from app.extensions import db
from app.filings.models import Round
from app.utils import paginate

FIELDS = ("kind", "title", "year", "month", "opens_on", "closes_on")


class RoundError(ValueError):
    pass


def round_list(*, kind=None, page=1):
    select = sa.select(Round).order_by(Round.opens_on.desc(), Round.id.desc())
    if kind:
        select = select.where(Round.kind == kind)
    return paginate(select, page=page, per_page=20)


def round_save(*, round=None, data, actor):
    """Create (round=None) or update a round. Commits; RoundError for a duplicate period."""
    if data.get("kind") != "report":
        data = {**data, "month": None}
    before = snapshot(round, FIELDS) if round else None
    if round is None:
        round = Round(created_by_id=actor.id)
        db.session.add(round)
    for name in FIELDS:
        setattr(round, name, data[name])
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise RoundError("同一类型、年度（月份）的批次已存在。")
    audit(
        "round.update" if before else "round.create",
        summary=f"{round.kind_label} {round.title}",
        target=round,
        before=before,
        after=snapshot(round, FIELDS),
        actor=actor,
    )
    db.session.commit()
    return round
