"""Rules of 优秀评选 beyond the engine: 评选年度, 评审专家, 评分标准 and assignments (conflicts of
interest are in conflicts.py, scoring and the ranking in reviews.py, 公示 and 发布 in publication.py).

Every function that changes something is keyword-only, audits, and owns its commit; a request that
cannot be carried out raises ``AwardError`` with a message for the user.
"""

from dataclasses import dataclass

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.orm import selectinload

from app.audit import audit
from app.blueprints.admin.services import HomeCount
from app.blueprints.auth.models import Expert, User
from app.blueprints.awards import scoring
from app.blueprints.awards.conflicts import (  # noqa: F401 (the views and reviews.py reach them through services)
    conflict_reason,
    employer_history,
    employer_verify,
    expert_profile_changed,
    known_employers,
    verified_employers,
)
from app.blueprints.awards.models import (  # noqa: F401 (REVIEWABLE: reviews.py imports it from here)
    PROVINCE_STAGE,
    REVIEWABLE,
    AwardPublication,
    ReviewAssignment,
    ScoringCriterion,
)
from app.blueprints.awards.wizard import BY_KIND, BY_SLUG, WIZARDS, wizard_of
from app.errors import NotFound
from app.extensions import db
from app.filings import services as filings
from app.filings import workflow
from app.filings.models import Filing, Round
from app.forms import is_mobile
from app.inbox import notify
from app.sms import send_sms
from app.utils import paginate


class AwardError(ValueError):
    """A request cannot be carried out; the message is for the user."""


def wizard_or_404(slug):
    wizard = BY_SLUG.get(slug)
    if wizard is None:
        raise NotFound
    return wizard


# ---- 评选年度 ----------------------------------------------------------------------------------


def award_rounds():
    return db.session.scalars(
        sa.select(Round).where(Round.kind == "award").order_by(Round.year.desc(), Round.opens_on.desc())
    ).all()


def award_round(round_id=None):
    """The chosen 评选年度, else the open one, else the latest; None when there is none. 404 for a bad id."""
    if round_id:
        chosen = db.session.get(Round, round_id)
        if chosen is None or chosen.kind != "award":
            raise NotFound
        return chosen
    return filings.round_current("award") or next(iter(award_rounds()), None)


def publication_of(round):
    return (
        db.session.scalar(sa.select(AwardPublication).where(AwardPublication.round_id == round.id)) if round else None
    )


def judging_closed(round):
    """Scores and assignments stop once 公示 is opened."""
    return publication_of(round) is not None


def judging_open():
    """SQL: the filing (``Filing``, joined by the caller) is being judged: 资格审查通过 and its
    round's 公示 not opened, so its reviewers can still score it (judging_closed)."""
    return sa.and_(Filing.status.in_(PROVINCE_STAGE), ~sa.exists().where(AwardPublication.round_id == Filing.round_id))


def task_waiting():
    """SQL: the one definition of a review task still to be scored (尚未评分的评审任务), used by
    管理首页, 评审排名, the reminders and the check before 入选 / 未入选: assigned, its scores not
    submitted (scores are only stored on 提交评分, so a reviewer half way through a form has none),
    and no conflict of interest flagged on it (conflicts.assignments_recheck: the reviewer can no
    longer open it; the province admin withdraws it). Join ``Filing`` and add judging_open() for
    tasks that can still be scored."""
    return sa.and_(ReviewAssignment.submitted_at.is_(None), ReviewAssignment.conflict.is_(None))


# ---- 评审专家 ----------------------------------------------------------------------------------


def reviewer_list(*, q=None, only_reviewers=False, page=1):
    select = (
        sa.select(Expert)
        .join(User, User.id == Expert.user_id)
        .options(selectinload(Expert.user), selectinload(Expert.category))
    )
    if q:
        select = select.where(
            sa.or_(Expert.name.icontains(q, autoescape=True), Expert.employer.icontains(q, autoescape=True))
        )
    if only_reviewers:
        select = select.where(Expert.is_reviewer.is_(True))
    return paginate(select.order_by(Expert.is_reviewer.desc(), Expert.id), page=page, per_page=20)


def reviewer_loads(user_ids, round=None):
    """{reviewer user id: (assigned, submitted)} in ``round`` (all rounds when None)."""
    if not user_ids:
        return {}
    select = (
        sa.select(
            ReviewAssignment.reviewer_id,
            sa.func.count(ReviewAssignment.id),
            sa.func.count(ReviewAssignment.submitted_at),
        )
        .where(ReviewAssignment.reviewer_id.in_(user_ids))
        .group_by(ReviewAssignment.reviewer_id)
    )
    if round is not None:
        select = select.join(Filing, Filing.id == ReviewAssignment.filing_id).where(Filing.round_id == round.id)
    return {user_id: (assigned, submitted) for user_id, assigned, submitted in db.session.execute(select)}


def reviewer_set(*, expert, on, actor):
    """Mark an expert account as 评审专家 or not; taking it away withdraws its unfinished tasks. Commits."""
    if expert.is_reviewer == on:
        return 0
    withdrawn = 0
    if not on:
        pending = db.session.scalars(
            sa.select(ReviewAssignment).where(
                ReviewAssignment.reviewer_id == expert.user_id, ReviewAssignment.submitted_at.is_(None)
            )
        ).all()
        for assignment in pending:
            db.session.delete(assignment)
        withdrawn = len(pending)
    expert.is_reviewer = on
    audit(
        "award.reviewer_set" if on else "award.reviewer_unset",
        summary=f"{'设为' if on else '取消'}评审专家：{expert.name}（{expert.employer}）"
        + (f"，撤销未完成评审任务 {withdrawn} 项" if withdrawn else ""),
        target=expert,
        before={"is_reviewer": not on},
        after={"is_reviewer": on},
        actor=actor,
    )
    db.session.commit()
    return withdrawn


def expert_or_404(expert_id):
    found = db.session.get(Expert, expert_id)
    if found is None:
        raise NotFound
    return found


def _active_reviewers():
    return db.session.scalars(
        sa.select(User)
        .join(Expert, Expert.user_id == User.id)
        .where(Expert.is_reviewer.is_(True), User.status == "active", User.role == "expert")
        .options(selectinload(User.expert))
        .order_by(User.id)
    ).all()


# ---- 评分标准 ----------------------------------------------------------------------------------


def criteria_of(round, kind):
    return db.session.scalars(
        sa.select(ScoringCriterion)
        .where(ScoringCriterion.round_id == round.id, ScoringCriterion.kind == kind)
        .order_by(ScoringCriterion.position, ScoringCriterion.id)
    ).all()


def criteria_rows(round, kind):
    """What the 评分标准 form shows: the saved lines, or the defaults before any are saved."""
    saved = criteria_of(round, kind)
    if saved:
        return [{"name": c.name, "max_score": c.max_score, "weight": c.weight} for c in saved]
    return [{"name": name, "max_score": top, "weight": weight} for name, top, weight in scoring.DEFAULT_CRITERIA]


def criteria_locked(round, kind):
    """Once a reviewer has submitted scores of this kind, the scale they used stays as it was."""
    return bool(
        db.session.scalar(
            sa.select(sa.func.count(ReviewAssignment.id))
            .join(Filing, Filing.id == ReviewAssignment.filing_id)
            .where(Filing.round_id == round.id, Filing.kind == kind, ReviewAssignment.submitted_at.is_not(None))
        )
    )


def _criteria_ensure(round, kind):
    """The kind's criteria, saving the defaults first if the admin never set any (caller commits)."""
    saved = criteria_of(round, kind)
    if saved:
        return saved
    for position, (name, top, weight) in enumerate(scoring.DEFAULT_CRITERIA):
        db.session.add(
            ScoringCriterion(round_id=round.id, kind=kind, name=name, max_score=top, weight=weight, position=position)
        )
    db.session.flush()
    return criteria_of(round, kind)


def criteria_save(*, round, wizard, rows, actor):
    """Replace a kind's 评分标准 (``rows``: dicts with name, max_score, weight). Commits."""
    if criteria_locked(round, wizard.kind):
        raise AwardError("已有评审专家提交了评分，评分标准不能再修改。")
    before = criteria_rows(round, wizard.kind)
    db.session.execute(
        sa.delete(ScoringCriterion).where(ScoringCriterion.round_id == round.id, ScoringCriterion.kind == wizard.kind)
    )
    for position, row in enumerate(rows):
        db.session.add(ScoringCriterion(round_id=round.id, kind=wizard.kind, position=position, **row))
    audit(
        "award.criteria_save",
        summary=f"{round.title} {wizard.short_title}评分标准",
        target=round,
        before={"criteria": "；".join(f"{r['name']} {r['max_score']}分 {r['weight']}%" for r in before)},
        after={"criteria": "；".join(f"{r['name']} {r['max_score']}分 {r['weight']}%" for r in rows)},
        actor=actor,
    )
    db.session.commit()


# ---- assignments --------------------------------------------------------------------------------


def stage_select(round, wizard, statuses=PROVINCE_STAGE):
    model = wizard.model
    return (
        sa.select(model)
        .where(model.round_id == round.id, model.status.in_(statuses))
        .options(selectinload(model.institution))
        .order_by(model.id)
    )


def assignments_by_filing(filing_ids):
    grouped = {filing_id: [] for filing_id in filing_ids}
    if filing_ids:
        for assignment in db.session.scalars(
            sa.select(ReviewAssignment)
            .where(ReviewAssignment.filing_id.in_(filing_ids))
            .options(
                selectinload(ReviewAssignment.reviewer).selectinload(User.expert), selectinload(ReviewAssignment.scores)
            )
            .order_by(ReviewAssignment.id)
        ):
            grouped[assignment.filing_id].append(assignment)
    return grouped


def assignment_overview(*, round, wizard):
    """[(nomination, its assignments)] for the kind's province-stage nominations."""
    nominations = db.session.scalars(stage_select(round, wizard)).all()
    grouped = assignments_by_filing([n.id for n in nominations])
    return [(n, grouped[n.id]) for n in nominations]


def nomination_or_404(filing_id):
    filing = db.session.get(Filing, filing_id)
    if filing is None or filing.kind not in BY_KIND:
        raise NotFound
    return filing


def candidate_reviewers(*, filing):
    """Every active 评审专家 with why it cannot be assigned (None when it can)."""
    assigned = {a.reviewer_id for a in assignments_by_filing([filing.id])[filing.id]}
    reviewers = _active_reviewers()
    employers = known_employers([r.id for r in reviewers])
    rows = []
    for reviewer in reviewers:
        reason = "已分配。" if reviewer.id in assigned else conflict_reason(filing, reviewer, employers[reviewer.id])
        rows.append((reviewer, reason))
    return rows


def _check_assignable(filing, reviewer):
    if filing.status not in PROVINCE_STAGE:
        raise AwardError("只有资格审查通过（待评审）的申报可以分配评审专家。")
    if judging_closed(filing.round):
        raise AwardError("本评选年度已进入公示，不能再分配评审专家。")
    if reviewer is None or reviewer.role != "expert" or reviewer.expert is None or not reviewer.expert.is_reviewer:
        raise AwardError("所选帐户不是评审专家。")
    if reviewer.status != "active":
        raise AwardError("该评审专家帐户已停用。")
    reason = conflict_reason(filing, reviewer)
    if reason:
        raise AwardError(f"不能分配{reviewer.expert.name}：{reason}")


def _tell_reviewer(reviewer, count):
    title = f"您有 {count} 项新的优秀评选评审任务"
    notify(reviewer, title, "请登录系统，在“我的评审任务”中查看申报材料并评分。", link=url_for("awards.list_reviews"))
    if is_mobile(reviewer.phone):
        send_sms(reviewer.phone, f"【湖南省中小企业服务中心】{title}，请登录系统评分。")


def assignment_add(*, filing, reviewer_id, actor):
    """Assign one 评审专家 by hand; refused with the reason (e.g. a conflict of interest). Commits."""
    reviewer = db.session.get(User, reviewer_id) if reviewer_id else None
    _check_assignable(filing, reviewer)
    if db.session.scalar(
        sa.select(ReviewAssignment.id).where(
            ReviewAssignment.filing_id == filing.id, ReviewAssignment.reviewer_id == reviewer.id
        )
    ):
        raise AwardError(f"{reviewer.expert.name}已分配评审该申报。")
    _criteria_ensure(filing.round, filing.kind)
    assignment = ReviewAssignment(
        filing_id=filing.id,
        reviewer_id=reviewer.id,
        assigned_by_id=actor.id,
        reviewer_employer=reviewer.expert.employer,
    )
    db.session.add(assignment)
    audit(
        "award.assign",
        summary=f"分配评审专家 {reviewer.expert.name}：{wizard_of(filing).short_title} {filing.display_name}",
        target=filing,
        after={"reviewer": reviewer.username},
        actor=actor,
    )
    _tell_reviewer(reviewer, 1)
    db.session.commit()
    return assignment


def assignment_remove(*, assignment, actor):
    """Withdraw an assignment whose scores are not in yet. Commits."""
    if assignment.submitted_at is not None:
        raise AwardError("该评审专家已提交评分，不能撤销分配。")
    filing = assignment.filing
    if judging_closed(filing.round):
        raise AwardError("本评选年度已进入公示，评审分配不能再修改。")
    audit(
        "award.unassign",
        summary=f"撤销评审分配 {assignment.reviewer.display_name}：{filing.display_name}",
        target=filing,
        before={"reviewer": assignment.reviewer.username},
        actor=actor,
    )
    db.session.delete(assignment)
    db.session.commit()


def assignment_overview_of(*, filing):
    return assignments_by_filing([filing.id])[filing.id]


def assignment_or_404(assignment_id):
    found = db.session.get(ReviewAssignment, assignment_id)
    if found is None:
        raise NotFound
    return found


@dataclass
class AutoResult:
    added: int
    short: list  # [(nomination, how many reviewers are missing, why)]


def assignments_auto(*, round, wizard, per_nomination, actor):
    """Give each province-stage nomination ``per_nomination`` reviewers, least-loaded first,
    never one with a conflict of interest. Commits; returns what was added and what fell short."""
    if judging_closed(round):
        raise AwardError("本评选年度已进入公示，不能再分配评审专家。")
    reviewers = _active_reviewers()
    if not reviewers:
        raise AwardError("还没有评审专家：请先在“评审专家”中把专家帐户设为评审专家。")
    overview = assignment_overview(round=round, wizard=wizard)
    if not overview:
        raise AwardError(f"没有资格审查通过（待评审）的{wizard.title}。")
    _criteria_ensure(round, wizard.kind)
    load = {user_id: assigned for user_id, (assigned, _) in reviewer_loads([r.id for r in reviewers], round).items()}
    employers = known_employers([r.id for r in reviewers])
    new_tasks, short = {}, []
    for nomination, assignments in overview:
        taken = {a.reviewer_id for a in assignments}
        needed = per_nomination - len(taken)
        if needed <= 0:
            continue
        eligible, conflicts = [], 0
        for reviewer in reviewers:
            if reviewer.id in taken:
                continue
            if conflict_reason(nomination, reviewer, employers[reviewer.id]):
                conflicts += 1
                continue
            eligible.append(reviewer)
        eligible.sort(key=lambda r: (load.get(r.id, 0), r.id))
        for reviewer in eligible[:needed]:
            db.session.add(
                ReviewAssignment(
                    filing_id=nomination.id,
                    reviewer_id=reviewer.id,
                    assigned_by_id=actor.id,
                    reviewer_employer=reviewer.expert.employer,
                )
            )
            load[reviewer.id] = load.get(reviewer.id, 0) + 1
            new_tasks[reviewer.id] = new_tasks.get(reviewer.id, 0) + 1
        if len(eligible) < needed:
            why = f"可分配的评审专家不足（{conflicts} 位因利益冲突回避）" if conflicts else "可分配的评审专家不足"
            short.append((nomination, needed - len(eligible), why))
    added = sum(new_tasks.values())
    by_id = {r.id: r for r in reviewers}
    for reviewer_id, count in new_tasks.items():
        _tell_reviewer(by_id[reviewer_id], count)
    audit(
        "award.assign_auto",
        summary=f"{round.title} {wizard.short_title}自动分配评审专家：每项 {per_nomination} 人，新增 {added} 项",
        target=round,
        after={"per_nomination": per_nomination, "added": added, "short": len(short)},
        actor=actor,
    )
    db.session.commit()
    return AutoResult(added, short)


# ---- 评审管理 overview ----------------------------------------------------------------------------


def round_progress(round):
    """Per kind: counts for the 评审管理 page."""
    rows = []
    for wizard in WIZARDS:
        model = wizard.model
        counts = dict(
            db.session.execute(
                sa.select(model.status, sa.func.count(model.id))
                .where(model.round_id == round.id)
                .group_by(model.status)
            ).all()
        )
        assigned, submitted = db.session.execute(
            sa.select(sa.func.count(ReviewAssignment.id), sa.func.count(ReviewAssignment.submitted_at))
            .join(Filing, Filing.id == ReviewAssignment.filing_id)
            .where(Filing.round_id == round.id, Filing.kind == wizard.kind)
        ).one()
        rows.append({"wizard": wizard, "counts": counts, "assigned": assigned, "submitted": submitted})
    return rows


# ---- monthly report totals beside the typed figures -------------------------------------------------

# ---- 管理首页 counts --------------------------------------------------------------------------------


def home_counts(user):
    """管理首页 tiles: a city admin's 资格审查 queue per kind; the province admin's judging backlog."""
    if user.role == "city_admin":
        return [
            HomeCount(
                f"待资格审查的{w.title}",
                sa.select(sa.func.count(Filing.id)).where(
                    Filing.kind == w.kind, Filing.status == workflow.SUBMITTED, Filing.city_code == user.city_code
                ),
                url_for(w.endpoints.queue),
                "项",
            )
            for w in WIZARDS
        ]
    if user.role != "province_admin":
        return []
    unassigned = sa.select(sa.func.count(Filing.id)).where(
        Filing.kind.in_(BY_KIND),
        Filing.status.in_(PROVINCE_STAGE),
        ~sa.exists().where(ReviewAssignment.filing_id == Filing.id),
    )
    open_tasks = (
        sa.select(sa.func.count(ReviewAssignment.id))
        .join(Filing, Filing.id == ReviewAssignment.filing_id)
        .where(Filing.kind.in_(BY_KIND), ReviewAssignment.submitted_at.is_(None), judging_open())
    )
    return [
        HomeCount("待分配评审专家的优秀评选申报", unassigned, url_for("awards.show_judging"), "项"),
        # the tasks reviewers can still score ...
        HomeCount("尚未评分的评审任务", open_tasks.where(task_waiting()), url_for("awards.show_judging"), "项"),
        # ... and the flagged conflicts (never scoreable; they wait for the province admin to withdraw them)
        HomeCount(
            "存在利益冲突待撤销的评审分配",
            open_tasks.where(ReviewAssignment.conflict.is_not(None)),
            url_for("awards.show_judging"),
            "项",
            only_if_any=True,
        ),
    ]
