"""Rules of the filing engine: drafts, steps, attachments, submission, review, scoping."""

from collections import namedtuple
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import datetime, time, timedelta, timezone
from functools import cache, lru_cache

import sqlalchemy as sa
from flask import current_app, url_for
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload, with_expression
from sqlalchemy.orm.attributes import set_committed_value

from app.audit import AuditLog, audit
from app.errors import NotFound
from app.extensions import db
from app.filings import workflow
from app.filings.attachments import AttachmentError, attachment_remove_file, attachment_store, is_disk_full
from app.filings.models import Attachment, Filing, ReviewEvent, Round
from app.forms import is_mobile
from app.inbox import notify
from app.sms import send_sms
from app.utils import CHINA, format_datetime, local_today, paginate, utcnow


class FilingError(ValueError):
    """The filing cannot do what was asked; the message is for the user.

    ``link`` (url, label) points at what the user needs next, e.g. the existing filing.
    """

    def __init__(self, message, link=None):
        super().__init__(message)
        self.link = link

    def flash_message(self):
        """The message for flash(), with the link when there is one (escaped Markup)."""
        if not self.link:
            return str(self)
        return Markup('{} <a href="{}">{}</a>').format(str(self), *self.link)


# ---- rounds ---------------------------------------------------------------------------------


def round_current(kind, today=None):
    """The open round of a kind (the latest opened if several overlap), or None."""
    return db.session.scalar(_current_round_select(), {"kind": kind, "today": today or local_today()})


@cache
def _current_round_select():
    today = sa.bindparam("today", type_=sa.Date)
    return (
        sa.select(Round)
        .where(Round.kind == sa.bindparam("kind"), Round.opens_on <= today, Round.closes_on >= today)
        .order_by(Round.opens_on.desc(), Round.id.desc())
        .limit(1)
    )


@cache
def _rounds_of_select():
    return sa.select(Round.id, Round.title).where(Round.kind == sa.bindparam("kind")).order_by(Round.opens_on.desc())


def rounds_of(kind):
    """Every round of ``kind``, newest first, as (id, title) rows: the review queue's 批次 filter
    (a statement built once: every queue page asks it)."""
    return db.session.execute(_rounds_of_select(), {"kind": kind}).all()


def round_lock(round):
    """Take ``round``'s row lock for the rest of the transaction: decisions over a whole round
    (评选结果, 公示, 发布) take turns, and each reads what the one before it committed.
    (SQLite: BEGIN IMMEDIATE already holds the database's write lock.)"""
    db.session.execute(sa.select(Round.id).where(Round.id == round.id).with_for_update())
    db.session.expire_all()


def round_next(kind, today=None):
    """The next round of a kind that has not opened yet, for the 'why unavailable' text."""
    today = today or local_today()
    return db.session.scalar(
        sa.select(Round).where(Round.kind == kind, Round.opens_on > today).order_by(Round.opens_on).limit(1)
    )


# ---- access ---------------------------------------------------------------------------------


def owned_filing_or_404(wizard, filing_id, user):
    """The filing of this module owned by ``user``; anything else is a 404 (never a hint)."""
    filing = owned_filing_or_none(wizard, filing_id, user)
    if filing is None:
        raise NotFound
    return filing


def _parents_of(model, select):
    """Every page of one filing shows its round and its institution, and its step tabs how many
    files it has: read them with it."""
    files = sa.select(sa.func.count(Attachment.id)).where(Attachment.filing_id == Filing.id).scalar_subquery()
    return select.options(
        joinedload(model.round), joinedload(model.institution), with_expression(model.attachments_counted, files)
    )


@cache
def _owned_select(model):
    """The owner's filing of this model by id, with its parents: a statement with bound parameters,
    built once per process (every page of an owner's filing asks it with other values, and a
    statement built afresh costs about as much again as running a built one: its construction and
    its cache key)."""
    return _parents_of(model, sa.select(model)).where(
        model.id == sa.bindparam("filing_id"), model.owner_id == sa.bindparam("owner_id")
    )


def owned_filing_or_none(wizard, filing_id, user):
    return db.session.scalar(_owned_select(wizard.model), {"filing_id": filing_id, "owner_id": user.id})


# What a statement reads of a reviewer (``review_scope`` and the waiting count): plain values, so a
# statement built for them can be kept per process and shared (SQL expressions are immutable);
# modules key their own kept statements by it too (报送情况).
Reviewer = namedtuple("Reviewer", "role city_code")


def reviewer_of(user):
    return Reviewer(user.role, user.city_code)


def review_scope(select, model, user):
    """Narrow a select to what a reviewer may see: a city admin its own 市州, a province admin all."""
    if user.role == "province_admin":
        return select
    if user.role == "city_admin":
        return select.where(model.city_code == user.city_code, model.status != workflow.DRAFT)
    return select.where(sa.false())


@cache
def _reviewer_select(model, role):
    """A reviewer's filing by id within the role's scope (``review_scope``, the 市州 a bound
    parameter), never a draft: built once per model and role."""
    reviewer = Reviewer(role, sa.bindparam("city_code"))
    select = _parents_of(model, sa.select(model)).where(model.id == sa.bindparam("filing_id"))
    return review_scope(select, model, reviewer).where(model.status != workflow.DRAFT)


def visible_filing_or_404(wizard, filing_id, user):
    """The filing for its owner or a reviewer in scope (drafts stay private to the owner)."""
    if user.role in ("city_admin", "province_admin"):
        values = {"filing_id": filing_id, "city_code": user.city_code}
        filing = db.session.scalar(_reviewer_select(wizard.model, user.role), values)
    else:
        filing = owned_filing_or_none(wizard, filing_id, user)
    if filing is None:
        raise NotFound
    return filing


# ---- drafts and steps -------------------------------------------------------------------------


def _duplicate(wizard, existing):
    """The refusal of a second filing, saying what the first one really is: a draft not yet
    submitted (继续填写), a returned one (修改), or one submitted already (the module's message)."""
    if existing.status == workflow.DRAFT:
        return FilingError(
            f"本期已有一份尚未提交的{wizard.title}草稿，不能重复新建，请继续填写该草稿。",
            link=(wizard.step_url(existing, wizard.first_incomplete(existing)), "继续填写草稿"),
        )
    if existing.status == workflow.RETURNED:
        return FilingError(
            f"本期的{wizard.title}已被退回，不能重复新建，请修改后重新提交。",
            link=(wizard.step_url(existing, wizard.steps[0].slug), "修改退回的填报"),
        )
    return FilingError(
        wizard.duplicate_message, link=(url_for(wizard.endpoints.show, filing_id=existing.id), "查看已有的填报记录")
    )


def filing_create(*, wizard, user, round_id=None):
    """Create a draft in the open round (or the chosen one of the hooks' ``creatable_rounds``).
    Commits; raises FilingError with the reason otherwise (a duplicate links to the existing one)."""
    rounds = wizard.hooks.creatable_rounds(wizard, user)
    if round_id:
        current = next((r for r in rounds if r.id == round_id), None)
    else:
        current = rounds[0] if rounds else None
    if current is None:
        raise FilingError(wizard.hooks.closed_message(wizard, user=user))
    institution = user.institution
    if wizard.needs_institution and institution is None:
        raise FilingError("只有服务机构帐户可以填报。")
    key = wizard.hooks.unique_key(wizard, user=user, round=current)
    existing = db.session.scalar(sa.select(wizard.model).where(Filing.unique_key == key)) if key else None
    if existing:
        raise _duplicate(wizard, existing)
    filing = wizard.model(
        owner_id=user.id,
        institution_id=institution.id if institution else None,
        round_id=current.id,
        city_code=(institution.city_code if institution else user.city_code),
        status=workflow.DRAFT,
        steps_done=[],
        unique_key=key,
    )
    wizard.hooks.prefill(wizard, filing, user=user)
    db.session.add(filing)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise FilingError(wizard.duplicate_message)
    audit(f"{wizard.kind}.create", summary=f"新建{wizard.title}草稿", target=filing)
    db.session.commit()
    return filing


class NotEditable(FilingError):
    """The owner may not change the filing's steps or attachments now. ``withdrawable``: it waits
    for review untouched, so 编辑 means 撤回 first."""

    def __init__(self, message, withdrawable=False):
        super().__init__(message)
        self.withdrawable = withdrawable


def filing_check_editable(wizard, filing):
    """Raise NotEditable unless the owner may change the filing now: it is a draft or returned,
    and the module does not lock it (e.g. past its deadline)."""
    if filing.status in (*workflow.EDITABLE, workflow.SUBMITTED):
        locked = wizard.hooks.locked_message(wizard, filing) if wizard is not None else None
        if locked:
            raise NotEditable(locked)
    if filing.status in workflow.EDITABLE:
        return
    title = wizard.title if wizard is not None else "填报"
    if filing.status == workflow.SUBMITTED:
        raise NotEditable(f"该{title}已提交，如需修改请先撤回。", withdrawable=True)
    label = wizard.status_label(filing.status) if wizard is not None else workflow.STATUS_LABELS[filing.status]
    raise NotEditable(f"该{title}当前状态为“{label}”，不能修改。")


def filing_lock(wizard, filing):
    """Why the owner may not change the filing now (status, or the module's lock), or None."""
    try:
        filing_check_editable(wizard, filing)
    except NotEditable as refused:
        return str(refused)
    return None


class EditConflict(FilingError):
    """The draft was saved elsewhere (another tab, a colleague) after this form was opened, with
    other values: ``changes`` lists (label, the saved value, the value in this form)."""

    def __init__(self, changes, version):
        super().__init__("该记录在您打开此页面后已被保存过（可能在另一个窗口或由同事修改），以下项目与您填写的不同。")
        self.changes = changes
        self.version = version


def _apply(step, filing, form):
    """Put the form's values into the draft: model attributes here, the rest by the step's save."""
    model = type(filing)
    for name in step.field_names(form):
        if hasattr(model, name):
            setattr(filing, name, form[name].data)
    if step.save:
        step.save(form, filing)


def _differences(step, filing, form):
    """(label, saved, yours) for each field this form would change in what is stored now.

    The save is tried inside a savepoint and rolled back, so "would change" is exactly what the
    step's own save makes of the input (a blank count stored as 0 is no change)."""
    saved = step.make_form(filing)
    before = {name: saved[name] for name in step.field_names(saved)}
    nested = db.session.begin_nested()
    try:
        _apply(step, filing, form)
        db.session.flush()
        after = step.make_form(filing)
        changes = [
            (field.label.text, _shown(field), _shown(after[name]))
            for name, field in before.items()
            if name in after._fields
            and not (_blank(field.data) and _blank(after[name].data))
            and field.data != after[name].data
        ]
    finally:
        nested.rollback()
    return changes


def _blank(value):
    return value is None or value == "" or value == []


def _shown(field):
    value = field.data
    if _blank(value):
        return "（空）"
    choices = dict((str(k), v) for k, v, *_ in (field.iter_choices() if hasattr(field, "iter_choices") else []))
    if isinstance(value, (list, tuple)):
        return "、".join(choices.get(str(v), str(v)) for v in value)
    return choices.get(str(value), str(value))


@cache
def _bump_version_update():
    return (
        sa.update(Filing)
        .where(Filing.id == sa.bindparam("filing_id"), Filing.version == sa.bindparam("current"))
        .values(version=Filing.version + 1, updated_at=sa.bindparam("now"))
        .execution_options(synchronize_session=False)
    )


def _bump_version(filing, current, now):
    values = {"filing_id": filing.id, "current": current, "now": now}
    return db.session.execute(_bump_version_update(), values).rowcount == 1


def filing_save_step(*, filing, step, form, wizard=None, expected_version=None, complete=True):
    """Save one step's fields into the draft and mark the step done. Commits.

    ``complete`` False (保存草稿 with required fields still empty): what was typed is saved, but
    the step is not done, or no longer done, so the steps after it wait and 提交 refuses.

    Fields that are model attributes are set here; the step's ``save`` stores the others.
    ``expected_version`` is the version the form was rendered from: when the draft was saved
    since with other values, EditConflict (nothing saved); with the same values (a double click,
    a retry) the save is already done. The version moves by compare-and-set, so of two saves
    racing from one version only one lands.

    Returns when the draft was saved (this time, or by the earlier save it repeats): the view
    says so without reloading the filing its commit expired."""
    filing_check_editable(wizard, filing)
    current = filing.version
    if expected_version is not None and expected_version != current:
        changes = _differences(step, filing, form)
        if changes:
            raise EditConflict(changes, current)
        if (step.slug in (filing.steps_done or [])) == complete:
            return filing.updated_at  # the same values are stored already: this save was done before
    now = utcnow()
    while not _bump_version(filing, current, now):
        # A save from the same version landed first (it held the row lock until it committed).
        db.session.rollback()
        db.session.refresh(filing)
        if expected_version is None:  # no version in the form: the later save wins, once
            current = filing.version
            continue
        changes = _differences(step, filing, form)
        if changes:
            raise EditConflict(changes, filing.version)
        return filing.updated_at
    _apply(step, filing, form)
    done = [slug for slug in filing.steps_done or [] if slug != step.slug]
    filing.steps_done = done + [step.slug] if complete else done
    db.session.commit()
    return now


def filing_missing(*, wizard, filing):
    """What stops submission: incomplete steps and missing attachments, as messages."""
    problems = []
    for step in wizard.steps:
        if step.slug not in (filing.steps_done or []) or step.missing_fields(filing):
            problems.append(f"“{step.title}”尚未填写完整。")
    if attachment_count(filing, fresh=True) < wizard.min_attachments:
        problems.append(f"请至少上传 {wizard.min_attachments} 个附件（{wizard.attachment_title}）。")
    problems.extend(wizard.hooks.extra_checks(wizard, filing))
    return problems


# ---- transitions ------------------------------------------------------------------------------


class StaleState(FilingError):
    """The filing moved on (another reviewer, the owner, another tab): the message says to what."""


class AlreadyDone(StaleState):
    """The same person already made this transition (a double click, a retry): nothing was
    applied twice; the view shows the same result as the first time."""


_TRANSITION_COLUMNS = ("status", "version", "updated_at", "submitted_at", "decided_at")  # what a transition sets


@cache
def _transition_update(stamp):
    """A transition's compare-and-set, built once per kind of time stamp it sets (``stamp``)."""
    now = sa.bindparam("now")
    values = {"status": sa.bindparam("target"), "version": Filing.version + 1, "updated_at": now}
    if stamp:
        values[stamp] = now
    return (
        sa.update(Filing)
        .where(Filing.id == sa.bindparam("filing_id"), Filing.status == sa.bindparam("before"))
        .values(**values)
        .returning(*(getattr(Filing, name) for name in _TRANSITION_COLUMNS))
        .execution_options(synchronize_session=False)
    )


def filing_transition(*, wizard, filing, action, actor, comment=None, pinned=None, commit=True, dry_run=False):
    """Make one transition of the status machine, record it, tell the owner. Commits unless
    ``commit`` is False (a module making many transitions in one transaction commits itself).

    The status changes by compare-and-set (``UPDATE … WHERE id = :id AND status = :from``), so of
    two requests racing only one applies; the other gets ``AlreadyDone`` when it was the same
    person making the same transition, else a FilingError naming the record's current state.

    ``dry_run``: check every rule and raise as above, but change nothing (a confirmation page asks
    first whether the action would be allowed)."""
    transition = workflow.find(wizard.levels, action)
    if filing.status not in transition.sources:
        _refuse_stale(wizard, filing, transition, actor)
    if not workflow.may_act(transition.level, filing, actor, wizard.levels):
        raise FilingError("当前状态下不能执行该操作，请刷新页面查看最新状态。")
    if transition.level == "owner":
        locked = wizard.hooks.locked_message(wizard, filing)
        if locked:
            raise FilingError(locked)
    comment = (comment or "").strip() or None
    if transition.needs_comment and not comment:
        raise FilingError("请填写审核意见。")
    if action == "submit":
        problems = filing_missing(wizard=wizard, filing=filing)
        if problems:
            raise FilingError(" ".join(problems))
    if dry_run:
        return transition
    before = filing.status
    # when it happened: submitted_at for a submit, decided_at for a reviewer's decision
    stamp = "submitted_at" if action == "submit" else ("decided_at" if transition.level != "owner" else None)
    values = {"filing_id": filing.id, "before": before, "target": transition.target, "now": utcnow()}
    # the new state comes back with the UPDATE (RETURNING: SQLite 3.35+, PostgreSQL), not by a
    # second read
    stored = db.session.execute(_transition_update(stamp), values).one_or_none()
    if stored is None:
        # Another request changed it between our read and this write (it held the row lock
        # until it committed): tell the truth about what it did.
        db.session.refresh(filing)
        _refuse_stale(wizard, filing, transition, actor)
    for name, value in zip(_TRANSITION_COLUMNS, stored):
        set_committed_value(filing, name, value)
    db.session.add(
        ReviewEvent(
            filing=filing,
            actor_id=actor.id,
            action=action,
            from_status=before,
            to_status=transition.target,
            comment=comment,
            pinned=list(pinned or []) or None,
            submitted_values=submitted_values(wizard, filing) if action == "submit" else None,
        )
    )
    audit(
        f"{wizard.kind}.{action}",
        summary=f"{wizard.title}{wizard.action_label(transition)}",
        target=filing,
        before={"status": before},
        after={"status": transition.target, "comment": comment},
        actor=actor,
    )
    wizard.hooks.on_transition(wizard, filing, transition, actor)
    if transition.level != "owner":
        _tell_owner(wizard, filing, transition, comment)
    if commit:
        db.session.commit()
    return transition


def review_actions(*, wizard, filing, user):
    """The decisions ``user`` may make on the generic review page: the reviewer transitions the
    filing's state allows at this user's level, less those the module makes itself
    (``wizard.hidden_actions``, e.g. 入选 by publication)."""
    return [
        t
        for t in workflow.available(filing, user, wizard.levels)
        if t.level != "owner" and t.name not in wizard.hidden_actions
    ]


def filing_review(*, wizard, filing, action, actor, comment=None, pinned=None):
    """A decision made on the generic review page: a reviewer transition that the module does not
    keep for itself, then as ``filing_transition`` (AlreadyDone for a repeat)."""
    transition = workflow.find(wizard.levels, action)
    if transition.level == "owner" or transition.name in wizard.hidden_actions:
        raise FilingError("当前状态下不能执行该操作，请刷新页面查看最新状态。")
    return filing_transition(wizard=wizard, filing=filing, action=action, actor=actor, comment=comment, pinned=pinned)


def submitted_values(wizard, filing, sections=None):
    """{key: [label, value as shown with its unit]} of every field 查看 shows (the module's own
    lines included, e.g. one per 服务类别): what the filing said at this submission."""
    values = {}
    for _title, rows in sections if sections is not None else wizard.hooks.detail_sections(wizard, filing):
        for label, value, unit, key in rows:
            shown = "" if value is None else str(value)
            values[key] = [str(label), f"{shown} {unit}".strip() if unit and shown not in ("", "—") else shown]
    return values


@dataclass
class Revision:
    """What the latest 退回 asked for and what has changed since: the reviewer of a resubmission
    and the owner editing a returned filing see the same list (``filing_revision``).

    ``pinned``: [(key, "section：label", step slug or None)] the last 退回 pointed at; ``changes``:
    [(label, before, now)]; ``pending``: "now" is the owner's draft, not submitted again yet."""

    comment: str | None = None
    pinned: list = dc_field(default_factory=list)
    changes: list = dc_field(default_factory=list)
    pending: bool = False
    pinned_keys: set = dc_field(default_factory=set)
    changed_keys: set = dc_field(default_factory=set)

    def __bool__(self):
        return bool(self.comment or self.pinned or self.changes)


def _compare(before, now):
    """[(key, label, before, now)] of each value that differs between two submitted_values."""
    changes = []
    for key, (label, value) in now.items():
        old = before.get(key, [label, ""])[1]
        if old != value:
            changes.append((key, label, old or "—", value or "—"))
    for key, (label, value) in before.items():
        if key not in now:
            changes.append((key, label, value or "—", "—"))
    return changes


def filing_revision(wizard, filing):
    """The last 退回's comment and pinned items, and each field changed (old -> new): against the
    previous submission for a filing submitted again, against the latest submission while the owner
    edits (returned or withdrawn to draft; ``pending``). Empty for a filing never returned nor
    resubmitted, or submitted before values were kept."""
    submissions = [e.submitted_values for e in filing.events if e.action == "submit" and e.submitted_values is not None]
    pending = filing.status in workflow.EDITABLE
    keys, comment = last_pins(filing)
    if pending and filing.status != workflow.RETURNED:
        keys, comment = set(), None  # withdrawn to draft: any 退回 was answered by a later submission
    sections = wizard.hooks.detail_sections(wizard, filing) if pending or keys else None
    changes = []
    if pending and submissions:
        changes = _compare(submissions[-1], submitted_values(wizard, filing, sections))
    elif not pending and len(submissions) >= 2:
        changes = _compare(submissions[-2], submissions[-1])
    pinned, names = [], {}
    if keys:
        where = {key: f"{title}：{label}" for title, rows in sections for label, _v, _u, key in rows}
        slugs = {}
        for step in wizard.steps:
            for name in step.field_names(step.make_form(filing)):
                slugs.setdefault(name, step.slug)
        names = {f"attachment:{a.id}": a.original_name for a in filing.attachments}
        for key in sorted(keys, key=lambda k: (k.startswith("attachment:"), list(where).index(k) if k in where else 0)):
            if key.startswith("attachment:"):
                pinned.append((key, f"附件：{names.get(key, '（已删除）')}", wizard.ATTACHMENTS))
            elif key in where:
                pinned.append((key, where[key], slugs.get(key)))
    changed = {key for key, *_ in changes}
    # a pinned attachment deleted since has been dealt with as much as a changed field
    changed |= {key for key in keys if key.startswith("attachment:") and key not in names} if keys else set()
    return Revision(
        comment=comment,
        pinned=pinned,
        changes=[(label, old, new) for _key, label, old, new in changes],
        pending=pending,
        pinned_keys=keys,
        changed_keys=changed,
    )


def last_pins(filing):
    """The fields and attachments the latest 退回 pointed at, and its comment (for the reviewer of
    the resubmission as much as for the owner)."""
    for event in reversed(filing.events):
        if event.to_status == workflow.RETURNED:
            return set(event.pinned or []), event.comment
    return set(), None


def _refuse_stale(wizard, filing, transition, actor):
    """The filing is no longer in a state ``transition`` starts from: AlreadyDone when its last
    event is this very transition by this actor, else the current state for the user."""
    last = db.session.scalar(
        sa.select(ReviewEvent).where(ReviewEvent.filing_id == filing.id).order_by(ReviewEvent.id.desc()).limit(1)
    )
    label = wizard.status_label(filing.status)
    if (
        last is not None
        and last.action == transition.name
        and last.actor_id == actor.id
        and last.to_status == filing.status
    ):
        raise AlreadyDone(
            f"该操作已完成（{format_datetime(last.created_at)} 已{wizard.action_label(transition)}），当前状态为“{label}”。"
        )
    who = ""
    if last is not None and last.actor is not None and last.actor_id != actor.id:
        who = f"已由{_actor_label(last.actor)}于 {format_datetime(last.created_at)} {wizard.action_label(workflow.find(wizard.levels, last.action))}，"
    raise StaleState(
        f"该{wizard.title}{who}当前状态为“{label}”，不能再{wizard.action_label(transition)}。请查看最新状态。"
    )


def _actor_label(user):
    return {"city_admin": "市级审核人员", "province_admin": "省级审核人员"}.get(user.role, "申报单位")


def _tell_owner(wizard, filing, transition, comment):
    label = wizard.status_label(transition.target)
    # which filing: the round it belongs to (e.g. 2026年11月调度, 2026年度优秀评选)
    which = f"（{filing.round.title}）" if filing.round is not None else ""
    title = f"您的{wizard.title}{which}审核结果：{label}"
    body = f"审核意见：{comment}" if comment else ""
    notify(filing.owner, title, body, link=url_for(wizard.endpoints.show, filing_id=filing.id))
    if is_mobile(filing.owner.phone):
        send_sms(filing.owner.phone, f"【湖南省中小企业服务中心】{title}。请登录系统查看详情。")


def filing_delete(*, wizard, filing, user):
    """Delete a draft with its attachments (files removed after the commit)."""
    if filing.status not in workflow.DELETABLE:
        raise FilingError("只有草稿可以删除。")
    stored = list(filing.attachments)
    audit(f"{wizard.kind}.delete", summary=f"删除{wizard.title}草稿", target=filing, actor=user)
    db.session.delete(filing)
    db.session.commit()
    for attachment in stored:
        attachment_remove_file(attachment)


# ---- attachments ------------------------------------------------------------------------------


@cache
def _attachment_count_select():
    return sa.select(sa.func.count(Attachment.id)).where(Attachment.filing_id == sa.bindparam("filing_id"))


def attachment_count(filing, *, fresh=False):
    """How many files the filing has: the length of its list when that is loaded, else the count
    read with the filing (``_parents_of``), else one count (loading every file's row to count
    them was a lazy load on each step page). ``fresh``: counted now, as the submit check does."""
    if "attachments" in filing.__dict__:
        return len(filing.attachments)
    counted = filing.__dict__.get("attachments_counted")
    if counted is not None and not fresh:
        return counted
    return db.session.scalar(_attachment_count_select(), {"filing_id": filing.id})


def _lock_filing(filing):
    """Take the filing's row lock for the rest of this transaction (SQLite: BEGIN IMMEDIATE
    already holds the database's write lock), and read its status afresh."""
    return db.session.execute(sa.select(Filing.status).where(Filing.id == filing.id).with_for_update()).scalar_one()


def filing_add_attachments(*, filing, files, user, wizard=None):
    """Store each uploaded file; returns (saved names, error messages). Commits per file.

    Each file is checked and attached under the filing's row lock: a file whose content is
    attached already (a double-clicked 上传, a retry, the same file chosen twice) is not stored
    again, and the per-filing limits (FILING_MAX_FILES, FILING_MAX_BYTES) hold however many
    uploads run at once."""
    if filing.status not in workflow.EDITABLE:
        raise FilingError("当前状态不能上传附件。")
    locked = filing_lock(wizard, filing)
    if locked:
        raise FilingError(locked)
    saved, errors = [], []
    files = [f for f in files if f and f.filename]
    if not files:
        raise FilingError("请先点击“选择...”选择要上传的文件。")
    config = current_app.config
    for file_storage in files:
        if _lock_filing(filing) not in workflow.EDITABLE:
            db.session.rollback()
            errors.append("当前状态不能上传附件。")
            break
        count, total = db.session.execute(
            sa.select(sa.func.count(Attachment.id), sa.func.coalesce(sa.func.sum(Attachment.size), 0)).where(
                Attachment.filing_id == filing.id
            )
        ).one()
        if count >= config["FILING_MAX_FILES"]:
            db.session.rollback()
            errors.append(
                f"每份填报最多上传 {config['FILING_MAX_FILES']} 个附件，“{file_storage.filename}”未上传。请删除不需要的附件或将多个文件压缩后上传。"
            )
            continue
        try:
            attachment = attachment_store(file_storage, user=user)
        except AttachmentError as error:
            db.session.rollback()
            errors.append(str(error))
            continue
        if total + attachment.size > config["FILING_MAX_BYTES"]:
            db.session.rollback()
            attachment_remove_file(attachment)
            errors.append(
                f"每份填报的附件合计不超过 {config['FILING_MAX_BYTES'] // (1024 * 1024)}MB，“{attachment.original_name}”未上传。"
            )
            continue
        same = db.session.scalar(
            sa.select(Attachment.original_name)
            .where(Attachment.filing_id == filing.id, Attachment.sha256 == attachment.sha256)
            .limit(1)
        )
        if same is not None:
            db.session.rollback()
            attachment_remove_file(attachment)
            if same == attachment.original_name:
                saved.append(same)  # already there: a repeated upload has the effect of one
            else:
                errors.append(f"“{attachment.original_name}”与已上传的“{same}”内容相同，未重复保存。")
            continue
        attachment.filing_id = filing.id
        try:
            db.session.commit()
        except Exception as error:
            # The row did not land: take the file away too, so nothing is orphaned.
            db.session.rollback()
            attachment_remove_file(attachment)
            if not is_disk_full(error):
                raise
            # the database's disk is full: this file and the rest are not saved; say which
            for rest in [attachment.original_name, *(f.filename for f in files[files.index(file_storage) + 1 :])]:
                errors.append(f"服务器存储空间不足，请联系管理员。“{rest}”未保存。")
            break
        saved.append(attachment.original_name)
    return saved, errors


def deleted_by(wizard, filing_id, user):
    """Whether ``user`` deleted this filing (a repeated 删除 then lands as the first did)."""
    return (
        db.session.scalar(
            sa.select(AuditLog.id)
            .where(
                AuditLog.action == f"{wizard.kind}.delete",
                AuditLog.target_id == str(filing_id),
                AuditLog.actor_id == user.id,
            )
            .limit(1)
        )
        is not None
    )


def filing_attachment_or_404(filing, attachment_id):
    attachment = filing_attachment_or_none(filing, attachment_id)
    if attachment is None:
        raise NotFound
    return attachment


def filing_attachment_or_none(filing, attachment_id):
    return db.session.scalar(
        sa.select(Attachment).where(Attachment.id == attachment_id, Attachment.filing_id == filing.id)
    )


def filing_delete_attachment(*, filing, attachment, user, wizard=None):
    if filing.status not in workflow.EDITABLE:
        raise FilingError("当前状态不能删除附件。")
    locked = filing_lock(wizard, filing)
    if locked:
        raise FilingError(locked)
    db.session.delete(attachment)
    db.session.commit()
    attachment_remove_file(attachment)


# ---- lists ------------------------------------------------------------------------------------


def owner_filings(*, wizard, user, year=None, status=None, page=1):
    """One page of the owner's filings of this kind, newest first. Each row's round is read from
    the join the year filter uses; its institution is the owner's own, which the signed-in user
    was loaded with (Filing.institution then needs no query)."""
    select = (
        sa.select(wizard.model)
        .join(Round, Round.id == wizard.model.round_id)
        .where(wizard.model.owner_id == user.id)
        .options(contains_eager(wizard.model.round), *wizard.hooks.list_options(wizard))
        .order_by(wizard.model.created_at.desc(), wizard.model.id.desc())
    )
    if year:
        select = select.where(Round.year == year)
    if status:
        select = select.where(wizard.model.status == status)
    return paginate(select, page=page, per_page=20)


def _institution_model():
    """The model behind Filing.institution: the engine reaches it through the relationship rather
    than importing a blueprint's models (imports point down: blueprints -> engine -> core)."""
    return sa.inspect(Filing).relationships["institution"].mapper.class_


QUEUE_SORTS = ("submitted", "name", "region", "status")  # the review queue's sortable columns
PAGE_SIZES = (20, 50, 100)


def _queue_order(model, sort, descending):
    institution = _institution_model()
    column = {
        "name": institution.name,
        "region": model.city_code,
        "status": model.status,
    }.get(sort, model.submitted_at)
    first = column.desc().nullslast() if descending else column.asc().nullsfirst()
    # the filing table's own id (not the module table's, which is equal): so (kind, status,
    # submitted_at) gives the newest-first queue in index order
    return (first, Filing.id.desc() if descending else Filing.id.asc())


def first_submission_late(wizard):
    """Whether a filing was first submitted after its round's deadline (逾期报送), as a SQL
    condition (never NULL): the first 提交 is the earliest submit event (a filing without events,
    e.g. imported, counts its submission time); late means on a China-time day after the round's
    ``closes_on``. A module that records lateness itself says so with ``Hooks.late_clause``."""
    model = wizard.model
    first_event = (
        sa.select(sa.func.min(ReviewEvent.created_at))
        .where(ReviewEvent.filing_id == model.id, ReviewEvent.action == "submit")
        .correlate(model)
        .scalar_subquery()
    )
    first = sa.func.coalesce(first_event, model.submitted_at)
    rounds = db.session.execute(sa.select(Round.id, Round.closes_on).where(Round.kind == wizard.round_kind)).all()
    if not rounds:
        return sa.false()
    # the first moment past the deadline, as stored (naive UTC): the next China-time midnight
    bound = sa.case({round_id: _day_after_utc(closes_on) for round_id, closes_on in rounds}, value=model.round_id)
    return sa.and_(first.is_not(None), bound.is_not(None), first >= bound)


def _day_after_utc(day):
    """The China-time midnight that ends ``day``, as the naive UTC the columns store."""
    midnight = datetime.combine(day + timedelta(days=1), time(), tzinfo=CHINA)
    return midnight.astimezone(timezone.utc).replace(tzinfo=None)


def late_clause(wizard):
    """逾期报送 as a SQL condition for this kind (the module's record, or derived from the round)."""
    clause = wizard.hooks.late_clause(wizard)
    return first_submission_late(wizard) if clause is None else clause


LATE_CHOICES = {"1": True, "0": False}  # the review queue's 报送情况 filter: 逾期报送 / 按时报送


def _queue_select(
    wizard,
    user,
    columns,
    *,
    round_id=None,
    city_code=None,
    status=None,
    keyword=None,
    type_id=None,
    late=None,
    sort="submitted",
    descending=True,
    narrow=False,
):
    """The queue's select of ``columns``. ``narrow``: for the filing ids of a page, from the filing
    table alone (and the institution for its filters and sort), unless the 逾期 filter needs the
    module's table."""
    model = wizard.model
    select = (
        sa.select(*columns)
        .outerjoin((Filing if narrow and late is None else model).institution)
        .where(_of_kind(model), model.status != workflow.DRAFT)
        .order_by(*_queue_order(model, sort, descending))
    )
    if late is not None:
        clause = late_clause(wizard)
        select = select.where(clause if late else sa.not_(clause))
    select = review_scope(select, model, user)
    if round_id:
        select = select.where(model.round_id == round_id)
    if city_code and user.role == "province_admin":
        select = select.where(model.city_code == city_code)
    if status:
        select = select.where(model.status == status)
    if keyword:
        select = select.where(institution_keyword(keyword))
    if type_id:  # 机构类型
        select = select.where(_institution_model().institution_type_id == type_id)
    return select


QUEUE_KEPT = 512  # review-queue statements kept per process (kinds × roles × 市州 × filters shown)


def _page_selects(wizard, user, **filters):
    """(keys, rows): the narrow select a page of the queue is chosen on, and the filings themselves."""
    model = wizard.model
    keys = _queue_select(wizard, user, [Filing.id], narrow=True, **filters)
    rows = _queue_select(wizard, user, [model], **filters).options(
        contains_eager(model.institution),  # from the join the keyword, type and name sort use
        joinedload(model.round),
        *wizard.hooks.list_options(wizard),
    )
    return keys, rows


@lru_cache(maxsize=QUEUE_KEPT)
def _kept_page_selects(wizard, reviewer, **filters):
    """``_page_selects`` for a ``Reviewer`` and filters of plain values, built once per process and
    shared instead of built and given a cache key afresh in every request. Not for the 逾期 filter
    (its clause may depend on the rounds' deadlines) nor a 关键字 (typed text); at most QUEUE_KEPT
    are kept, the least recently used dropped first."""
    return _page_selects(wizard, reviewer, **filters)


def review_filings(*, wizard, user, page=1, per_page=20, waiting=None, **filters):
    """The review queue in the reviewer's scope, filtered (round_id, city_code, status, keyword,
    type_id, late), sorted by one of QUEUE_SORTS (``sort``, ``descending``; default: newest submission first) and
    paged by one of PAGE_SIZES. ``waiting``: ``waiting_count`` when the caller has it; a queue
    showing just what waits for this reviewer then needs no count of its own."""
    if filters.get("late") is None and not filters.get("keyword"):
        keys, select = _kept_page_selects(wizard, reviewer_of(user), **filters)
    else:
        keys, select = _page_selects(wizard, user, **filters)
    total = waiting if waiting is not None and _shows_waiting(wizard, user, filters) else None
    per_page = per_page if per_page in PAGE_SIZES else PAGE_SIZES[0]
    return paginate(select, page=page, per_page=per_page, total=total, keys=keys)


def waiting_status(wizard, user):
    """The status that waits for this reviewer's decision: 已提交 for a 市州 admin and for kinds only
    the 市州 review, 市州审核通过 for the province otherwise."""
    if user.role == "city_admin" or wizard.levels == ("city",):
        return workflow.SUBMITTED
    return workflow.CITY_APPROVED


def _shows_waiting(wizard, user, filters):
    """Whether the queue's ``filters`` select exactly what ``waiting_select`` counts: the waiting
    status and no other filter given (the order aside; a 市州 admin's 市州 filter is ignored, its
    queue being its 市州 already). A filter added to the queue later counts as narrowing."""
    ignored = ("status", "sort", "descending") + (("city_code",) if user.role == "city_admin" else ())
    return (
        user.role in ("city_admin", "province_admin")
        and filters.get("status") == waiting_status(wizard, user)
        and all(value is None for name, value in filters.items() if name not in ignored)
    )


def queue_select(*, wizard, user, columns=None, **filters):
    """The review queue's select (every row, in its order) for a page, its neighbours or the export."""
    return _queue_select(wizard, user, columns or [wizard.model], **filters)


def late_ids(*, wizard, ids):
    """Which of ``ids`` were 逾期报送 (the queue's mark): one query."""
    if not ids:
        return set()
    model = wizard.model
    kept = _late_select(wizard)
    if kept is not None:
        return set(db.session.scalars(kept, {"ids": list(ids)}))
    return set(db.session.scalars(sa.select(model.id).where(model.id.in_(list(ids)), late_clause(wizard))))


@cache
def _late_select(wizard):
    """``late_ids``'s statement for a kind whose module records lateness itself (a fixed condition),
    the ids a parameter: built once; None where the engine derives lateness from the rounds."""
    clause = wizard.hooks.late_clause(wizard)
    if clause is None:
        return None
    model = wizard.model
    return sa.select(model.id).where(model.id.in_(sa.bindparam("ids", expanding=True)), clause)


def queue_neighbours(*, wizard, user, filing_id, **filters):
    """(previous id, next id) of ``filing_id`` in the review queue with ``filters``, in its order:
    上一条 / 下一条 inside a review. One query of ids; (None, None) when it is not in that queue."""
    ids = list(db.session.scalars(_queue_select(wizard, user, [wizard.model.id], **filters).limit(5000)))
    if filing_id not in ids:
        return None, None
    at = ids.index(filing_id)
    return (ids[at - 1] if at > 0 else None), (ids[at + 1] if at + 1 < len(ids) else None)


def approval_for(*, wizard, filing, user):
    """The 通过 transition ``user`` may make on ``filing`` from the review queue now, or None."""
    return next(
        (
            t
            for t in review_actions(wizard=wizard, filing=filing, user=user)
            if t.target in (workflow.CITY_APPROVED, workflow.APPROVED)
        ),
        None,
    )


def filings_approve(*, wizard, ids, actor, comment=None):
    """通过所选: each chosen filing the actor may approve now is approved by its own transition
    (compare-and-set, audited, its owner told), one after another. Returns (approved filings,
    [(filing or id, why not)]): a filing outside the actor's scope, already decided, or kept for
    the module (优秀评选's 入选) is left as it is, with the reason."""
    approved, skipped = [], []
    for filing_id in dict.fromkeys(ids):  # each once, in the order chosen
        try:
            filing = visible_filing_or_404(wizard, filing_id, actor)
        except NotFound:
            skipped.append((filing_id, "不在您的审核范围内"))
            continue
        approve = approval_for(wizard=wizard, filing=filing, user=actor)
        if approve is None:
            skipped.append((filing, f"当前状态为“{wizard.status_label(filing.status)}”，不能通过"))
            continue
        try:
            filing_review(wizard=wizard, filing=filing, action=approve.name, actor=actor, comment=comment)
        except AlreadyDone:
            pass
        except FilingError as error:
            db.session.rollback()
            skipped.append((filing, str(error)))
            continue
        approved.append(filing)
    return approved, skipped


def institution_keyword(keyword):
    """An institution whose name contains ``keyword`` (typed % and _ are literal) or whose
    统一社会信用代码 is it."""
    institution = _institution_model()
    return sa.or_(institution.name.icontains(keyword, autoescape=True), institution.uscc == keyword.upper())


def _of_kind(model):
    """SQL: the filing row is of ``model``'s kind (its polymorphic identity), so a query can be
    answered from the filing table and its (kind, status, city_code) index alone."""
    return Filing.kind == sa.inspect(model).polymorphic_identity


def waiting_select(*, wizard, user):
    """SQL: how many filings wait for this reviewer's decision, a count SELECT (answered from the
    filing table: its (kind, status, city_code) index answers without reading the module's table)."""
    return _waiting_select(wizard, reviewer_of(user))


@lru_cache(maxsize=QUEUE_KEPT)
def _waiting_select(wizard, reviewer):
    """``waiting_select`` for a ``Reviewer``, built once per process (every queue page and the
    管理首页 ask it; the 市州 a literal, as the 管理首页 reads it inside a statement of its own)."""
    if reviewer.role == "city_admin":
        waiting = sa.and_(Filing.status == waiting_status(wizard, reviewer), Filing.city_code == reviewer.city_code)
    elif reviewer.role == "province_admin":
        waiting = Filing.status == waiting_status(wizard, reviewer)
    else:
        waiting = sa.false()
    return sa.select(sa.func.count(Filing.id)).where(_of_kind(wizard.model), waiting)


def waiting_count(*, wizard, user):
    """How many filings wait for this reviewer's decision."""
    if user.role not in ("city_admin", "province_admin"):
        return 0
    return db.session.scalar(waiting_select(wizard=wizard, user=user))
