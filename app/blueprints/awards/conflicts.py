"""Conflicts of interest in 优秀评选: who may not score a nomination, on every employer known for
the 评审专家; the employers recorded and verified; re-checking open assignments when they change.
Same conventions as services.py (keyword-only changers that audit; employer_verify commits, the
others run inside the caller's transaction)."""

import re

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.orm import selectinload

from app.audit import audit
from app.blueprints.auth.models import Expert, User
from app.blueprints.awards.models import (
    EMPLOYER_SOURCES,
    PROVINCE_STAGE,
    ExpertEmployer,
    ExpertNomination,
    ReviewAssignment,
)
from app.blueprints.awards.wizard import wizard_of
from app.extensions import db
from app.filings.models import Filing
from app.inbox import notify
from app.utils import utcnow

# ---- conflicts of interest -----------------------------------------------------------------------
#
# An expert types its own 工作单位, so a conflict is checked against every employer known for it:
# the one in its profile now, the ones it declared before changing it, the ones the province admin
# verified, and the one recorded on each of its assignments when it was assigned. Changing the field
# (and changing it back) therefore never clears a conflict; a change that creates one flags the
# expert's unscored assignments for the province admin (assignments_recheck).

_PARENS = str.maketrans({"（": "(", "）": ")"})

# what an employer is to the expert, in the order a conflict's reason names it
_EMPLOYER_KINDS = {
    "current": "的工作单位",
    "verified": EMPLOYER_SOURCES["verified"],
    "declared": EMPLOYER_SOURCES["declared"],
    "assigned": "在分配评审时填报的工作单位",
}
_PRIORITY = {kind: rank for rank, kind in enumerate(_EMPLOYER_KINDS)}


def _unit(name):
    """A unit's name compared loosely: no spaces, one kind of brackets, case-insensitive."""
    return re.sub(r"\s+", "", (name or "").translate(_PARENS)).lower()


def known_employers(user_ids):
    """{reviewer user id: {loose unit name: what it is to the expert}} for every employer known for
    the experts behind ``user_ids`` (see above). One query whatever the number of reviewers."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    kind = sa.String(10)
    current = sa.select(Expert.user_id, Expert.employer, sa.literal("current", kind)).where(Expert.user_id.in_(ids))
    recorded = (
        sa.select(Expert.user_id, ExpertEmployer.name, ExpertEmployer.source)
        .join(Expert, Expert.id == ExpertEmployer.expert_id)
        .where(Expert.user_id.in_(ids))
    )
    assigned = sa.select(
        ReviewAssignment.reviewer_id, ReviewAssignment.reviewer_employer, sa.literal("assigned", kind)
    ).where(ReviewAssignment.reviewer_id.in_(ids), ReviewAssignment.reviewer_employer.is_not(None))
    known = {user_id: {} for user_id in ids}
    rows = sorted(
        db.session.execute(sa.union_all(current, recorded, assigned)).all(), key=lambda row: _PRIORITY.get(row[2], 99)
    )
    for user_id, name, source in rows:
        loose = _unit(name)
        if loose:
            known[user_id].setdefault(loose, _EMPLOYER_KINDS.get(source, "的工作单位"))
    return known


def conflict_reason(filing, reviewer, employers=None):
    """Why ``reviewer`` (a User with an Expert profile) may not score ``filing``; None when it may.
    ``employers``: the reviewer's entry of known_employers(), when the caller has it (else one query)."""
    expert = reviewer.expert
    if filing.owner_id == reviewer.id:
        return "该申报由评审专家本人提交（自荐），须回避。"
    if employers is None:
        employers = known_employers([reviewer.id]).get(reviewer.id, {}) if expert is not None else {}
    if isinstance(filing, ExpertNomination):
        same_person = filing.nominee_id == reviewer.id or (
            expert is not None
            and filing.name == expert.name
            and (filing.phone == expert.phone or _unit(filing.employer) in employers)
        )
        if same_person:
            return "被推荐的专家即评审专家本人，须回避。"
    if filing.institution is not None:
        what = employers.get(_unit(filing.institution.name))
        if what:
            return f"申报单位“{filing.institution.name}”是评审专家{what}，须回避。"
    if isinstance(filing, ExpertNomination) and _unit(filing.employer):
        what = employers.get(_unit(filing.employer))
        if what == _EMPLOYER_KINDS["current"]:
            return f"被推荐专家的工作单位“{filing.employer}”与评审专家相同，须回避。"
        if what:
            return f"被推荐专家的工作单位“{filing.employer}”是评审专家{what}，须回避。"
    return None


# ---- employers recorded and verified ------------------------------------------------------------


def _employer_record(expert, name, source, actor):
    """Remember ``name`` as an employer of ``expert`` (once per source); the caller commits."""
    name = (name or "").strip()
    if not name:
        return None
    exists = db.session.scalar(
        sa.select(ExpertEmployer.id).where(
            ExpertEmployer.expert_id == expert.id, ExpertEmployer.source == source, ExpertEmployer.name == name
        )
    )
    if exists and source != "verified":
        return None
    row = ExpertEmployer(expert_id=expert.id, name=name, source=source, recorded_by_id=actor.id if actor else None)
    db.session.add(row)
    db.session.flush()
    return row


def verified_employers(expert_ids):
    """{expert id: its current (latest) admin-verified employer} for the experts that have one."""
    if not expert_ids:
        return {}
    rows = db.session.execute(
        sa.select(ExpertEmployer.expert_id, ExpertEmployer.name)
        .where(ExpertEmployer.expert_id.in_(expert_ids), ExpertEmployer.source == "verified")
        .order_by(ExpertEmployer.recorded_at, ExpertEmployer.id)
    ).all()
    return dict(rows)


def employer_history(expert):
    """What the 核实工作单位 page lists: the recorded employers (newest first) and the distinct
    employers recorded on the expert's assignments."""
    recorded = db.session.scalars(
        sa.select(ExpertEmployer)
        .where(ExpertEmployer.expert_id == expert.id)
        .options(selectinload(ExpertEmployer.recorded_by))
        .order_by(ExpertEmployer.recorded_at.desc(), ExpertEmployer.id.desc())
    ).all()
    assigned = db.session.scalars(
        sa.select(ReviewAssignment.reviewer_employer)
        .where(ReviewAssignment.reviewer_id == expert.user_id, ReviewAssignment.reviewer_employer.is_not(None))
        .distinct()
        .order_by(ReviewAssignment.reviewer_employer)
    ).all()
    return recorded, assigned


def _province_admins():
    return db.session.scalars(
        sa.select(User).where(User.role == "province_admin", User.status == "active").order_by(User.id)
    ).all()


def assignments_recheck(*, expert, actor, cause):
    """Re-check the expert's unscored assignments on nominations still being judged, after ``cause``
    (e.g. "专家修改工作单位"). A now-conflicting one is flagged, not withdrawn: the expert can no longer
    open or score it (conflict_reason refuses it), the audit trail records it, and every province
    admin gets a 站内消息 to withdraw it and assign someone else, so the panel is never changed
    behind the centre's back. The caller commits; returns the newly flagged assignments."""
    reviewer = expert.user
    pending = db.session.scalars(
        sa.select(ReviewAssignment)
        .join(Filing, Filing.id == ReviewAssignment.filing_id)
        .where(
            ReviewAssignment.reviewer_id == reviewer.id,
            ReviewAssignment.submitted_at.is_(None),
            ReviewAssignment.conflict.is_(None),
            Filing.status.in_(PROVINCE_STAGE),
        )
        .options(selectinload(ReviewAssignment.filing).selectinload(Filing.institution))
        .order_by(ReviewAssignment.id)
    ).all()
    if not pending:
        return []
    employers = known_employers([reviewer.id])[reviewer.id]
    flagged = []
    for assignment in pending:
        reason = conflict_reason(assignment.filing, reviewer, employers)
        if reason:
            assignment.conflict, assignment.conflict_at = reason[:300], utcnow()
            flagged.append(assignment)
    if not flagged:
        return []
    names = "、".join(f"{wizard_of(a.filing).short_title}“{a.filing.display_name}”" for a in flagged)
    audit(
        "award.assignment_conflict",
        summary=f"{cause}后评审分配出现利益冲突：{expert.name}（{expert.employer}）评审 {names}",
        target=expert,
        after={"assignments": [a.id for a in flagged], "employer": expert.employer},
        actor=actor,
    )
    body = (
        f"{cause}后，评审专家{expert.name}（现工作单位：{expert.employer}）与以下尚未评分的评审任务存在利益冲突：{names}。"
        "该专家已不能查看和评分这些申报，请撤销这些评审分配并另行分配评审专家。"
    )
    link = url_for("awards.edit_assignments", filing_id=flagged[0].filing_id)
    for admin in _province_admins():
        notify(admin, f"评审分配出现利益冲突：{expert.name}", body, link=link)
    return flagged


def expert_profile_changed(*, user, before, after):
    """account.profile_update's hook: when an expert changes its 工作单位, keep the old one as a
    known employer and re-check its open assignments (in the profile's transaction)."""
    if user.role != "expert" or user.expert is None or "employer" not in before:
        return
    _employer_record(user.expert, before["employer"], "declared", user)
    assignments_recheck(expert=user.expert, actor=user, cause="专家修改工作单位")


def employer_verify(*, expert, name, actor):
    """The province admin records the expert's verified 工作单位 (earlier verified ones still count)
    and re-checks its open assignments. Commits; returns the newly flagged assignments, or None when
    the name is the current verified one already."""
    name = name.strip()
    before = verified_employers([expert.id]).get(expert.id)
    if before == name:
        return None
    _employer_record(expert, name, "verified", actor)
    audit(
        "award.employer_verify",
        summary=f"核实专家工作单位：{expert.name}：{name}（本人填报：{expert.employer}）",
        target=expert,
        before={"verified_employer": before},
        after={"verified_employer": name},
        actor=actor,
    )
    flagged = assignments_recheck(expert=expert, actor=actor, cause="核实专家工作单位")
    db.session.commit()
    return flagged
