"""公示 and 发布 of a 评选年度's results, and what the portal shows of them."""

from dataclasses import dataclass
from functools import partial

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.orm import selectinload

from app.audit import AuditLog, audit
from app.blueprints.auth.models import Institution
from app.blueprints.awards.models import AwardPublication, AwardResult
from app.blueprints.awards.reviews import nomination_region
from app.blueprints.awards.services import PROVINCE_STAGE, AwardError, publication_of
from app.blueprints.awards.wizard import BY_KIND, wizard_of
from app.blueprints.portal.services import DIRECTORIES, DirectorySource, HomeBlock, SearchSource
from app.extensions import db
from app.filings import services as filings
from app.filings import workflow
from app.filings.models import Filing, ReviewEvent, Round
from app.forms import is_mobile
from app.inbox import notify
from app.sms import send_sms
from app.utils import local_today, paginate, utcnow

# ---- 公示 and 发布 -----------------------------------------------------------------------------------


def _undecided(round):
    """Province-stage nominations of every kind without 入选 / 未入选."""
    return db.session.scalar(
        sa.select(sa.func.count(Filing.id))
        .outerjoin(AwardResult, AwardResult.filing_id == Filing.id)
        .where(
            Filing.round_id == round.id,
            Filing.kind.in_(BY_KIND),
            Filing.status.in_(PROVINCE_STAGE),
            AwardResult.filing_id.is_(None),
        )
    )


def _selected_count(round):
    return db.session.scalar(
        sa.select(sa.func.count(Filing.id))
        .join(AwardResult, AwardResult.filing_id == Filing.id)
        .where(Filing.round_id == round.id, Filing.status.in_(PROVINCE_STAGE), AwardResult.selected.is_(True))
    )


def publicity_open(*, round, starts, ends, actor):
    """Open (or re-date) the 公示 of a 评选年度's results; every province-stage nomination needs a result. Commits."""
    filings.round_lock(round)
    publication = publication_of(round)
    if publication is not None and publication.published_at is not None:
        raise AwardError("评选结果已发布。")
    undecided = _undecided(round)
    if undecided:
        raise AwardError(f"还有 {undecided} 项申报未确定“入选”或“未入选”，请先在各类评审排名中确定。")
    if not _selected_count(round):
        raise AwardError("没有“入选”的申报，无法公示。")
    if publication is None:
        publication = AwardPublication(
            round_id=round.id, publicity_starts=starts, publicity_ends=ends, opened_by_id=actor.id
        )
        db.session.add(publication)
        action = "award.publicity_open"
    else:
        publication.publicity_starts, publication.publicity_ends = starts, ends
        action = "award.publicity_update"
    audit(
        action,
        summary=f"{round.title}评选结果公示：{starts:%Y-%m-%d} 至 {ends:%Y-%m-%d}",
        target=round,
        after={"starts": starts.isoformat(), "ends": ends.isoformat()},
        actor=actor,
    )
    db.session.commit()
    return publication


def results_publish(*, round, actor, early_reason=None):
    """发布: 入选 nominations become approved and appear on the portal, the others 未入选;
    every owner is told. One transaction. Commits. Under the round's row lock: a second 发布 (a
    double click, another admin) waits, then finds it published; the same admin's repeat is done.

    Only once the 公示期 has ended; before that only with ``early_reason`` (why it cannot wait),
    which the 操作日志 keeps."""
    filings.round_lock(round)
    publication = publication_of(round)
    if publication is None:
        raise AwardError("请先公示评选结果，公示开始后才能发布。")
    if publication.published_at is not None:
        if publication.published_by_id == actor.id:
            return publication  # this admin's 发布 sent twice: published once
        raise AwardError("评选结果已发布。")
    if publication.publicity_starts > local_today():
        raise AwardError(f"公示将于 {publication.publicity_starts:%Y-%m-%d} 开始，公示开始后才能发布。")
    early_reason = (early_reason or "").strip() or None
    if publication.publicity_ends >= local_today() and early_reason is None:
        raise AwardError(
            f"公示期至 {publication.publicity_ends:%Y-%m-%d} 结束，公示期满后才能发布。"
            "如确需提前发布，请填写提前发布的理由（记入操作日志）。"
        )
    undecided = _undecided(round)
    if undecided:
        raise AwardError(f"还有 {undecided} 项申报未确定“入选”或“未入选”，请先在各类评审排名中确定。")
    nominations = db.session.scalars(
        sa.select(Filing)
        .join(AwardResult, AwardResult.filing_id == Filing.id)
        .where(Filing.round_id == round.id, Filing.kind.in_(BY_KIND), Filing.status.in_(PROVINCE_STAGE))
    ).all()
    results = {
        r.filing_id: r.selected
        for r in db.session.scalars(
            sa.select(AwardResult).where(AwardResult.filing_id.in_([n.id for n in nominations]))
        )
    }
    for nomination in nominations:
        wizard = wizard_of(nomination)
        selected = results[nomination.id]
        filings.filing_transition(
            wizard=wizard,
            filing=nomination,
            action="province_approve" if selected else "province_reject",
            actor=actor,
            comment=None if selected else f"经专家评审，未入选{round.title}（{wizard.short_title}）。",
            commit=False,
        )
    publication.published_at, publication.published_by_id = utcnow(), actor.id
    audit(
        "award.publish",
        summary=f"发布{round.title}评选结果：入选 {sum(results.values())} 项",
        target=round,
        after={
            "selected": sum(results.values()),
            "total": len(results),
            **({"early_reason": early_reason} if publication.publicity_ends >= local_today() else {}),
        },
        actor=actor,
    )
    db.session.commit()
    return publication


@dataclass
class Withdrawal:
    """What 撤销发布 did: how many nominations went back to 待评审, and whether this request found
    it done already (a double click or a retry: ``repeated``; ``by`` names who withdrew it)."""

    publication: AwardPublication
    count: int
    repeated: bool = False
    by: str = ""


def _last_withdrawal(round):
    return db.session.scalar(
        sa.select(AuditLog)
        .where(
            AuditLog.action == "award.unpublish", AuditLog.target_type == "Round", AuditLog.target_id == str(round.id)
        )
        .order_by(AuditLog.id.desc())
        .limit(1)
    )


def last_withdrawal(round):
    """The latest 撤销发布 of ``round`` (its AuditLog entry: who, when, ``after["reason"]``), or None."""
    return _last_withdrawal(round) if round is not None else None


def publication_token(publication):
    """What the 撤销发布 form carries of the publication it was shown (its 发布 time), so a repeat of
    the same request is told apart from an attempt on a publication that no longer stands."""
    return publication.published_at.isoformat() if publication and publication.published_at else ""


def published_counts(round):
    """[(wizard, 入选, 未入选)] per kind of ``round``'s published results: what 撤销发布 takes back."""
    counts = {
        (kind, status): count
        for kind, status, count in db.session.execute(
            sa.select(Filing.kind, Filing.status, sa.func.count(Filing.id))
            .join(AwardResult, AwardResult.filing_id == Filing.id)
            .where(
                Filing.round_id == round.id,
                Filing.kind.in_(BY_KIND),
                Filing.status.in_((workflow.APPROVED, workflow.REJECTED)),
            )
            .group_by(Filing.kind, Filing.status)
        )
    }
    return [
        (wizard, counts.get((kind, workflow.APPROVED), 0), counts.get((kind, workflow.REJECTED), 0))
        for kind, wizard in BY_KIND.items()
    ]


def results_unpublish(*, round, reason, actor, seen=None):
    """撤销发布: the round goes back to where it was before 发布 (公示 opened, 入选 / 未入选 kept and
    editable): its nominations return from 入选 / 未入选 to 待评审 and leave the portal, each with a
    review event and an audit line, and every owner who was told of the result is told it is
    withdrawn (站内消息 and SMS, sent after the commit). Commits.

    Under the round's row lock, and the publication and each nomination change by compare-and-set,
    so a second 撤销 (a double click, another admin) applies nothing twice: finding the publication
    withdrawn already with ``seen`` (the 发布 time the form showed) it returns ``repeated``."""
    reason = (reason or "").strip()
    if not reason:
        raise AwardError("请填写撤销发布的理由。")
    filings.round_lock(round)
    publication = publication_of(round)
    if publication is None:
        raise AwardError("本评选年度的评选结果尚未公示，无需撤销发布。")
    if publication.published_at is None:
        last = _last_withdrawal(round)
        if seen and last is not None and (last.after or {}).get("published_at") == seen:
            return Withdrawal(publication, (last.after or {}).get("count", 0), repeated=True, by=last.actor_name)
        raise AwardError("评选结果尚未发布（或已撤销发布），无需撤销。")
    if seen and seen != publication_token(publication):
        raise AwardError("评选结果在您打开本页后已重新发布，请核对后再撤销。")
    published_at = publication.published_at
    nominations = db.session.scalars(
        sa.select(Filing)
        .join(AwardResult, AwardResult.filing_id == Filing.id)
        .where(
            Filing.round_id == round.id,
            Filing.kind.in_(BY_KIND),
            Filing.status.in_((workflow.APPROVED, workflow.REJECTED)),
        )
        .options(selectinload(Filing.owner))
        .order_by(Filing.id)
    ).all()
    withdrawn = db.session.execute(
        sa.update(AwardPublication)
        .where(AwardPublication.id == publication.id, AwardPublication.published_at.is_not(None))
        .values(published_at=None, published_by_id=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if withdrawn != 1:  # cannot happen under the round lock; never half-withdraw if it does
        db.session.rollback()
        raise AwardError("评选结果的状态已变化，请刷新页面后重试。")
    now = utcnow()
    before = {n.id: n.status for n in nominations}
    changed = db.session.execute(
        sa.update(Filing)
        .where(Filing.id.in_(list(before)), Filing.status.in_((workflow.APPROVED, workflow.REJECTED)))
        .values(status=PROVINCE_STAGE[0], version=Filing.version + 1, updated_at=now, decided_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != len(before):
        db.session.rollback()
        raise AwardError("部分申报的状态已变化，请刷新页面后重试。")
    selected = sum(1 for status in before.values() if status == workflow.APPROVED)
    for nomination in nominations:
        wizard = wizard_of(nomination)
        db.session.add(
            ReviewEvent(
                filing_id=nomination.id,
                actor_id=actor.id,
                action="unpublish",
                from_status=before[nomination.id],
                to_status=PROVINCE_STAGE[0],
                comment=reason,
            )
        )
        audit(
            "award.unpublish_nomination",
            summary=f"撤销发布{wizard.title}的评选结果（{wizard.status_label(before[nomination.id])}）",
            target=nomination,
            before={"status": before[nomination.id]},
            after={"status": PROVINCE_STAGE[0], "reason": reason},
            actor=actor,
        )
        _tell_withdrawn(wizard, nomination, round, reason)
    audit(
        "award.unpublish",
        summary=f"撤销发布{round.title}评选结果：入选 {selected} 项，共 {len(nominations)} 项退回待评审",
        target=round,
        before={"published_at": published_at.isoformat()},
        after={"published_at": published_at.isoformat(), "reason": reason, "count": len(nominations)},
        actor=actor,
    )
    db.session.commit()
    db.session.refresh(publication)
    return Withdrawal(publication, len(nominations))


def _tell_withdrawn(wizard, nomination, round, reason):
    """The owner was told the result on 发布 (filings._tell_owner): tell it the result is withdrawn."""
    title = f"您的{wizard.title}（{round.title}）评选结果已撤销发布"
    notify(
        nomination.owner,
        title,
        f"撤销理由：{reason}。评选结果更正后将重新发布，届时另行通知。",
        link=url_for(wizard.endpoints.show, filing_id=nomination.id),
    )
    if is_mobile(nomination.owner.phone):
        send_sms(nomination.owner.phone, f"【湖南省中小企业服务中心】{title}，更正后将重新发布。请登录系统查看详情。")


# ---- what the portal shows ---------------------------------------------------------------------------

PORTAL_KINDS = {
    "excellent_institutions": "institution_nomination",
    "excellent_products": "product_nomination",
    "excellent_experts": "expert_nomination",
}
# each list's page on the portal (endpoint names written out, so a search for one finds it)
PORTAL_LISTS = {
    "excellent_institutions": "portal.list_excellent_institutions",
    "excellent_products": "portal.list_excellent_products",
    "excellent_experts": "portal.list_excellent_experts",
}


@dataclass
class Winner:
    """One published (or, during 公示, selected) nomination as the portal shows it."""

    year: int
    name: str
    region: str
    intro: str
    detail: str  # 申报机构 · 服务类别 · 收费方式 of a product; 工作单位 · 职称 of an expert


def _winner(filing):
    if filing.kind == "product_nomination":
        parts = [
            filing.institution.name if filing.institution else "",
            filing.category.name if filing.category else "",
            filing.charge_mode,
        ]
        intro = filing.intro
    elif filing.kind == "expert_nomination":
        parts, intro = [filing.employer, filing.title], filing.bio
    else:
        parts, intro = [], filing.intro
    return Winner(
        filing.round.year,
        filing.display_name,
        nomination_region(filing),
        intro or "",
        " · ".join(p for p in parts if p),
    )


def _loading(model):
    options = [selectinload(model.institution), selectinload(model.round)]
    if hasattr(model, "category"):
        options.append(selectinload(model.category))
    return options


def _published_round_ids():
    return list(
        db.session.scalars(sa.select(AwardPublication.round_id).where(AwardPublication.published_at.is_not(None)))
    )


def _winners_select(kind, round_ids=None):
    """Published winners of ``kind`` (``round_ids``: the published rounds, when the caller has them)."""
    model = BY_KIND[kind].model
    if round_ids is None:
        round_ids = _published_round_ids()
    return (
        sa.select(model)
        .join(Round, Round.id == model.round_id)
        # the published rounds' ids as constants (a few), so the filing's round index is used rather
        # than a scan of every approved filing of every kind (72,000 approved monthly reports)
        .where(model.round_id.in_(round_ids), model.status == workflow.APPROVED)
        .options(*_loading(model))
        .order_by(Round.year.desc(), model.id)
    )


def winners_page(*, key, page=1, per_page=20, args=None):
    """The portal list ``key`` (excellent_institutions …): a page of published winners, newest year
    first, with ``publicity`` the 公示 running today, (AwardPublication, [Winner]), or None.

    While nothing of the kind is published yet but a 公示 runs, the page lists the 公示 entries
    (``items_are_publicity``), so the portal's list page has something to show."""
    result = paginate(_winners_select(PORTAL_KINDS[key]), page=page, per_page=per_page)
    result.items = [_winner(f) for f in result.items]
    result.publicity, result.items_are_publicity = None, False
    running = publicity_now()
    if running is not None:
        publication, lists = running
        result.publicity = (publication, lists[key])
        if not result.total and lists[key]:
            result.items, result.total, result.items_are_publicity = lists[key], len(lists[key]), True
    return result


def publicity_now(today=None):
    """The 公示 running today: (publication, {portal key: [Winner]}), or None."""
    today = today or local_today()
    publication = db.session.scalar(
        sa.select(AwardPublication)
        .where(
            AwardPublication.published_at.is_(None),
            AwardPublication.publicity_starts <= today,
            AwardPublication.publicity_ends >= today,
        )
        .order_by(AwardPublication.publicity_starts.desc())
        .limit(1)
    )
    if publication is None:
        return None
    lists = {}
    for key, kind in PORTAL_KINDS.items():
        model = BY_KIND[kind].model
        selected = db.session.scalars(
            sa.select(model)
            .join(AwardResult, AwardResult.filing_id == model.id)
            .where(
                model.round_id == publication.round_id, model.status.in_(PROVINCE_STAGE), AwardResult.selected.is_(True)
            )
            .options(*_loading(model))
            .order_by(model.id)
        ).all()
        lists[key] = [_winner(f) for f in selected]
    return publication, lists


def published_count(key, round_ids=None):
    """How many published winners the portal list ``key`` shows (``round_ids`` as _winners_select)."""
    if round_ids is None:
        round_ids = _published_round_ids()
    if not round_ids:
        return 0  # nothing published yet (and no count query over the approved filings)
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(_winners_select(PORTAL_KINDS[key], round_ids).order_by(None).subquery())
    )


def home_block():
    """The 首页 block 优秀评选: published counts, and the 公示 while it runs."""
    block = HomeBlock(
        "优秀评选",
        url_for("portal.list_excellent_institutions"),
        "年度优秀服务机构、优秀服务产品、优秀服务专家评审结果公布后在此展示。目前暂无已公布的评选结果。",
    )
    published = _published_round_ids()  # read once for the three counts
    for key in ("excellent_institutions", "excellent_products", "excellent_experts"):
        total = published_count(key, published)
        if total:
            block.figures.append((DIRECTORIES[key].title, total, DIRECTORIES[key].unit))
    running = publicity_now()
    if running is not None:
        publication, lists = running
        block.text = (
            f"{publication.round.title}结果公示中，公示期 {publication.publicity_starts:%Y-%m-%d} 至 "
            f"{publication.publicity_ends:%Y-%m-%d}。"
        )
        block.items = [
            (f"{DIRECTORIES[key].title}公示名单（{len(lists[key])}）", url_for(PORTAL_LISTS[key]))
            for key in PORTAL_KINDS
            if lists[key]
        ]
    return block


def search_winners(kind, pattern, limit):
    """搜索 source: published winners of a kind whose name or introduction matches -> (total, [Winner])."""
    model = BY_KIND[kind].model
    select = _winners_select(kind)
    if kind == "institution_nomination":
        select = select.join(Institution, Institution.id == model.institution_id)
        columns = (Institution.name, model.intro)
    elif kind == "product_nomination":
        columns = (model.product_name, model.intro)
    else:
        columns = (model.name, model.bio, model.employer)
    select = select.where(sa.or_(*(column.ilike(pattern, escape="\\") for column in columns)))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(select.order_by(None).subquery()))
    return total, [_winner(f) for f in db.session.scalars(select.limit(limit))] if total else []


# What the awards module gives the portal (declared in app/blueprints/awards/__init__.py): its
# 优秀服务机构 / 优秀服务产品 / 优秀服务专家 lists, its 首页 block and its 搜索 sources.
DIRECTORY_SOURCES = tuple(
    (key, DirectorySource(partial(winners_page, key=key), "awards/_partials/_winners.html")) for key in PORTAL_KINDS
)
SEARCH_SOURCES = tuple(
    SearchSource(key, label, scope, partial(search_winners, kind), "awards/_partials/_search_winners.html", unit)
    for key, kind, label, scope, unit in (
        (
            "excellent_institutions",
            "institution_nomination",
            "优秀服务机构",
            "已公布的优秀服务机构（名称、简介）",
            "家",
        ),
        ("products", "product_nomination", "优秀服务产品", "已公布的优秀服务产品（名称、介绍）", "项"),
        ("experts", "expert_nomination", "优秀服务专家", "已公布的优秀服务专家（姓名、工作单位、简介）", "名"),
    )
)
