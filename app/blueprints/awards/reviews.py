"""The scoring side of 优秀评选: a 评审专家's tasks and scores (blind until its own are in), the
ranking per kind, 入选 / 未入选 and reminders. Same conventions as services.py."""

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.audit import audit
from app.blueprints.auth.models import User
from app.blueprints.awards import scoring
from app.blueprints.awards.models import AwardPublication, AwardResult, ReviewAssignment, Score
from app.blueprints.awards.services import (
    PROVINCE_STAGE,
    REVIEWABLE,
    AwardError,
    assignments_by_filing,
    conflict_reason,
    criteria_of,
    judging_closed,
    known_employers,
    publication_of,
    stage_select,
    task_waiting,
)
from app.blueprints.awards.wizard import wizard_of
from app.errors import NotFound
from app.extensions import db
from app.filings import services as filings
from app.filings.models import Filing
from app.forms import is_mobile
from app.inbox import notify
from app.reference.services import region_name
from app.sms import send_sms
from app.utils import utcnow

# ---- the reviewer's side ---------------------------------------------------------------------------


def _is_reviewer(user):
    return user.role == "expert" and user.expert is not None and user.expert.is_reviewer


def reviewer_tasks(*, user):
    """A 评审专家's assignments it may open, as (assignment, its total or None, whether it can be
    scored now); None for an expert who is not a 评审专家. Unscored first, then newest first. A task
    with a conflict of interest is not listed (conflict_reason); one whose nomination is no longer
    judged (公示 opened, published, sent back) shows as 评审已结束."""
    if not _is_reviewer(user):
        return None
    assignments = db.session.scalars(
        sa.select(ReviewAssignment)
        .join(Filing, Filing.id == ReviewAssignment.filing_id)
        .where(ReviewAssignment.reviewer_id == user.id, Filing.status.in_(REVIEWABLE))
        .options(
            selectinload(ReviewAssignment.filing).selectinload(Filing.round),
            selectinload(ReviewAssignment.filing).selectinload(Filing.institution),
            selectinload(ReviewAssignment.scores),
        )
        .order_by(ReviewAssignment.submitted_at.is_not(None), ReviewAssignment.id.desc())
    ).all()
    criteria = {}
    rows = []
    employers = known_employers([user.id]).get(user.id, {})  # one query, not one per task
    closed = set(
        db.session.scalars(
            sa.select(AwardPublication.round_id).where(
                AwardPublication.round_id.in_({a.filing.round_id for a in assignments})
            )
        )
        if assignments
        else ()
    )
    for assignment in assignments:
        filing = assignment.filing
        if conflict_reason(filing, user, employers):
            continue
        key = (filing.round_id, filing.kind)
        if key not in criteria:
            criteria[key] = criteria_of(filing.round, filing.kind)
        scoreable = (
            assignment.submitted_at is None and filing.status in PROVINCE_STAGE and filing.round_id not in closed
        )
        rows.append((assignment, task_total(assignment, criteria[key]), scoreable))
    return rows


def task_or_404(*, assignment_id, user):
    """The reviewer's own assignment on a nomination it may see; anything else is a 404."""
    assignment = db.session.get(ReviewAssignment, assignment_id)
    if (
        assignment is None
        or not _is_reviewer(user)
        or assignment.reviewer_id != user.id
        or assignment.filing.status not in REVIEWABLE
        or conflict_reason(assignment.filing, user)
    ):
        raise NotFound
    return assignment


def task_attachment_or_404(*, assignment, attachment_id):
    return filings.filing_attachment_or_404(assignment.filing, attachment_id)


def task_criteria(assignment):
    return criteria_of(assignment.filing.round, assignment.filing.kind)


def task_total(assignment, criteria):
    """The reviewer's own total once submitted, else None."""
    if assignment.submitted_at is None:
        return None
    return scoring.to_decimal(scoring.card_total(card_of(assignment), criteria))


def card_scores(assignment):
    return {s.criterion_id: s for s in assignment.scores}


def scoring_closed(filing):
    """Whether scoring of ``filing`` is over: it left the province stage or its round's judging closed."""
    return filing.status not in PROVINCE_STAGE or judging_closed(filing.round)


def scores_submit(*, assignment, data, user):
    """Record a reviewer's final scores (``data``: {criterion id: (score, comment)}). Commits."""
    filing = assignment.filing
    if assignment.submitted_at is not None:
        raise AwardError("您已提交过评分，不能再修改。")
    if scoring_closed(filing):
        raise AwardError("本项评审已结束，不能再评分。")
    criteria = criteria_of(filing.round, filing.kind)
    if not criteria or set(data) != {c.id for c in criteria}:
        raise AwardError("评分标准已更新，请刷新页面后重新评分。")
    for criterion in criteria:
        score, comment = data[criterion.id]
        if score is None or not 0 <= score <= criterion.max_score:
            raise AwardError(f"“{criterion.name}”的得分应在 0-{criterion.max_score} 之间。")
        assignment.scores.append(Score(criterion_id=criterion.id, score=score, comment=(comment or "").strip() or None))
    assignment.submitted_at = utcnow()
    total = scoring.to_decimal(scoring.card_total({c.id: data[c.id][0] for c in criteria}, criteria))
    audit(
        "award.score",
        summary=f"提交评分：{wizard_of(filing).short_title} {filing.display_name}，总分 {total}",
        target=filing,
        after={"total": str(total)},
        actor=user,
    )
    try:
        db.session.commit()
    except IntegrityError:
        # The same form submitted twice at once: the first submission stands.
        db.session.rollback()
        raise AwardError("您已提交过评分，不能再修改。")


def card_of(assignment):
    return {s.criterion_id: s.score for s in assignment.scores}


def peer_scores(*, assignment):
    """Other reviewers' submitted scores, only once this reviewer has submitted its own; else None.
    Reviewers are shown as 专家1, 专家2 … (in assignment order), never by name."""
    if assignment.submitted_at is None:
        return None
    criteria = task_criteria(assignment)
    others = db.session.scalars(
        sa.select(ReviewAssignment)
        .where(
            ReviewAssignment.filing_id == assignment.filing_id,
            ReviewAssignment.id != assignment.id,
            ReviewAssignment.submitted_at.is_not(None),
        )
        .options(selectinload(ReviewAssignment.scores))
        .order_by(ReviewAssignment.id)
    ).all()
    return [
        {
            "label": f"专家{index}",
            "total": scoring.to_decimal(scoring.card_total(card_of(other), criteria)),
            "scores": {s.criterion_id: s for s in other.scores},
        }
        for index, other in enumerate(others, start=1)
    ]


# ---- ranking, 入选 / 未入选, reminders ---------------------------------------------------------------


@dataclass
class RankRow:
    nomination: object
    name: str
    region: str
    assigned: int
    summary: scoring.Summary
    result: object  # AwardResult or None
    rank: int | None = None
    waiting: tuple = ()  # names of the assigned reviewers whose scores are not in (task_waiting)
    reviewers: list = field(default_factory=list)  # [ReviewerTotal], in assignment order


def nomination_region(filing):
    if filing.institution is not None:
        return filing.institution.region_label
    return region_name(filing.city_code)


def ranking(*, round, wizard, viewer, sort="mean", descending=True):
    """The kind's province-stage (and, once published, decided) nominations with their statistics,
    each reviewer's total as ``viewer`` may see it (reviewer_label), sorted as asked. The 评审排名
    page and its Excel export both read this."""
    nominations = db.session.scalars(stage_select(round, wizard, REVIEWABLE)).all()
    criteria = criteria_of(round, wizard.kind)
    grouped = assignments_by_filing([n.id for n in nominations])  # with their scores and reviewers
    results = (
        {
            r.filing_id: r
            for r in db.session.scalars(
                sa.select(AwardResult).where(AwardResult.filing_id.in_([n.id for n in nominations]))
            )
        }
        if nominations
        else {}
    )
    rows = []
    for n in nominations:
        assignments = grouped[n.id]
        submitted = [a for a in assignments if a.submitted_at is not None]
        rows.append(
            RankRow(
                n,
                n.display_name,
                nomination_region(n),
                len(assignments),
                scoring.summarize([card_of(a) for a in submitted], criteria),
                results.get(n.id),
                waiting=tuple(_reviewer_name(a) for a in assignments if a.submitted_at is None and a.conflict is None),
                reviewers=[
                    ReviewerTotal(
                        reviewer_label(a, index, viewer),
                        task_total(a, criteria),
                        "利益冲突" if a.conflict is not None and a.submitted_at is None else None,
                    )
                    for index, a in enumerate(assignments, start=1)
                ],
            )
        )
    scoring.rank(rows)
    return scoring.sort_rows(rows, sort, descending)


@dataclass
class ReviewerTotal:
    label: str  # the reviewer's name, or 专家N where the viewer may not know who scored (reviewer_label)
    total: object  # Decimal, two places; None until submitted
    note: str | None = None  # why there is no total besides not yet scored (利益冲突)


def reviewer_label(assignment, index, viewer):
    """How ``viewer`` sees who gave a score: the province admin, who assigns the panel and sees it on
    each nomination's 评审专家 page, by name; anyone else 专家1, 专家2 … in assignment order, as a
    reviewer sees its peers (peer_scores). The ranking page and its export both ask here."""
    if viewer is not None and viewer.role == "province_admin":
        return _reviewer_name(assignment)
    return f"专家{index}"


class ScoresMissing(AwardError):
    """入选 / 未入选 asked for nominations whose assigned reviewers have not all scored.
    ``missing``: [(nomination, [reviewer names])]; a province admin may decide anyway with a reason."""

    def __init__(self, message, missing):
        super().__init__(message)
        self.missing = missing


def results_save(*, round, wizard, decisions, actor, override_reason=None):
    """Record 入选 (True) / 未入选 (False) for province-stage nominations; None leaves one open. Commits.
    Saves of one round take turns on its row lock (two admins at once: the later one wins, whole).

    A decision (new or changed) needs every assigned reviewer's scores (task_waiting); else
    ScoresMissing, unless the province admin gives ``override_reason`` (e.g. an expert cannot be
    reached): the 操作日志 then records the reason and who had not scored. A decision left as it was
    is not asked again."""
    filings.round_lock(round)
    publication = publication_of(round)
    if publication is not None and publication.published_at is not None:
        raise AwardError("评选结果已发布，不能再修改。")
    nominations = {n.id: n for n in db.session.scalars(stage_select(round, wizard))}
    current = {
        r.filing_id: r
        for r in db.session.scalars(sa.select(AwardResult).where(AwardResult.filing_id.in_(list(nominations))))
    }
    deciding = [
        fid
        for fid, selected in decisions.items()
        if selected is not None and fid in nominations and (fid not in current or current[fid].selected != selected)
    ]
    waiting = waiting_reviewers(deciding)
    override_reason = (override_reason or "").strip() or None
    if waiting and override_reason is None:
        missing = [(nominations[fid], names) for fid, names in waiting.items()]
        names = "、".join(f"“{n.display_name}”" for n, _ in missing[:5])
        more = f"等 {len(missing)} 项" if len(missing) > 5 else ""
        raise ScoresMissing(
            f"{names}{more}还有评审专家未提交评分，全部评分提交后才能确定入选或未入选。"
            "如确需先行确定（例如评审专家无法联系），请填写理由后确定（记入操作日志）。",
            missing,
        )
    if waiting and actor.role != "province_admin":
        raise AwardError("只有省级管理员可以在评分未全部提交时确定评选结果。")
    changed = 0
    for filing_id, selected in decisions.items():
        if filing_id not in nominations:
            continue
        result = current.get(filing_id)
        if selected is None:
            if result is not None:
                db.session.delete(result)
                changed += 1
            continue
        if result is None:
            db.session.add(AwardResult(filing_id=filing_id, selected=selected, decided_by_id=actor.id))
            changed += 1
        elif result.selected != selected:
            result.selected, result.decided_by_id, result.decided_at = selected, actor.id, utcnow()
            changed += 1
    if waiting:
        listed = "；".join(
            f"“{nominations[fid].display_name}”{'入选' if decisions[fid] else '未入选'}（未评分：{'、'.join(names)}）"
            for fid, names in waiting.items()
        )
        audit(
            "award.results_override",
            summary=f"{round.title} {wizard.short_title}未全部评分确定评选结果：{listed}"[:300],
            target=round,
            after={
                "reason": override_reason,
                "nominations": listed,
                "filing_ids": ",".join(str(fid) for fid in waiting),
            },
            actor=actor,
        )
    if changed:
        audit(
            "award.results_save",
            summary=f"{round.title} {wizard.short_title}评选结果：修改 {changed} 项",
            target=round,
            after={
                "selected": sum(1 for v in decisions.values() if v),
                "not_selected": sum(1 for v in decisions.values() if v is False),
            },
            actor=actor,
        )
    db.session.commit()
    return changed


def _reviewer_name(assignment):
    reviewer = assignment.reviewer
    return reviewer.expert.name if reviewer.expert is not None else reviewer.display_name


def waiting_reviewers(filing_ids):
    """{filing id: [names of its assigned reviewers who have not submitted their scores]} for those
    of ``filing_ids`` that have any (task_waiting; a flagged conflict of interest does not count),
    in the order of ``filing_ids``."""
    if not filing_ids:
        return {}
    found = {}
    for assignment in db.session.scalars(
        sa.select(ReviewAssignment)
        .where(ReviewAssignment.filing_id.in_(filing_ids), task_waiting())
        .options(selectinload(ReviewAssignment.reviewer).selectinload(User.expert))
        .order_by(ReviewAssignment.id)
    ):
        found.setdefault(assignment.filing_id, []).append(_reviewer_name(assignment))
    return {fid: found[fid] for fid in filing_ids if fid in found}


def reminders_send(*, round, wizard, actor):
    """站内消息 and SMS to every reviewer with unscored nominations of this kind. Commits; returns how many."""
    if judging_closed(round):
        raise AwardError("本评选年度已进入公示，评审已结束。")
    pending = db.session.scalars(
        sa.select(ReviewAssignment)
        .join(Filing, Filing.id == ReviewAssignment.filing_id)
        .where(
            Filing.round_id == round.id,
            Filing.kind == wizard.kind,
            Filing.status.in_(PROVINCE_STAGE),
            task_waiting(),  # not a task flagged for a conflict of interest: its reviewer cannot open it
        )
        .options(selectinload(ReviewAssignment.reviewer))
    ).all()
    by_reviewer = {}
    for assignment in pending:
        by_reviewer.setdefault(assignment.reviewer_id, []).append(assignment)
    now = utcnow()
    for assignments in by_reviewer.values():
        reviewer = assignments[0].reviewer
        title = f"评审提醒：您还有 {len(assignments)} 项{wizard.short_title}评审尚未评分"
        notify(reviewer, title, f"请尽快登录系统完成{round.title}的评分。", link=url_for("awards.list_reviews"))
        if is_mobile(reviewer.phone):
            send_sms(reviewer.phone, f"【湖南省中小企业服务中心】{title}，请尽快登录系统评分。")
        for assignment in assignments:
            assignment.reminded_at = now
    audit(
        "award.remind",
        summary=f"{round.title} {wizard.short_title}评分提醒：{len(by_reviewer)} 位评审专家",
        target=round,
        after={"reviewers": len(by_reviewer), "pending": len(pending)},
        actor=actor,
    )
    db.session.commit()
    return len(by_reviewer)
