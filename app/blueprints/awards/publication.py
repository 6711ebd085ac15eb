"""公示 and 发布 of a 评选年度's results, and what the portal shows of them."""

from dataclasses import dataclass
from functools import partial

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.audit import audit
from app.blueprints.auth.models import Institution
from app.blueprints.awards.models import AwardPublication, AwardResult
from app.blueprints.awards.reviews import nomination_region
from app.blueprints.awards.services import PROVINCE_STAGE, AwardError, publication_of
from app.blueprints.awards.wizard import BY_KIND, wizard_of
from app.blueprints.portal.services import DIRECTORIES, DirectorySource, HomeBlock, SearchSource
from app.extensions import db
from app.filings import services as filings
from app.filings import workflow
from app.filings.models import Filing, Round
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


# ---- what the portal shows ---------------------------------------------------------------------------

PORTAL_KINDS = {
    "excellent_institutions": "institution_nomination",
    "excellent_products": "product_nomination",
    "excellent_experts": "expert_nomination",
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


def _winners_select(kind):
    model = BY_KIND[kind].model
    return (
        sa.select(model)
        .join(Round, Round.id == model.round_id)
        # the published rounds' ids as constants (a few), so the filing's round index is used rather
        # than a scan of every approved filing of every kind (72,000 approved monthly reports)
        .where(model.round_id.in_(_published_round_ids()), model.status == workflow.APPROVED)
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


def published_count(key):
    if not _published_round_ids():
        return 0  # nothing published yet (and no count query over the approved filings)
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(_winners_select(PORTAL_KINDS[key]).order_by(None).subquery())
    )


def home_block():
    """The 首页 block 优秀评选: published counts, and the 公示 while it runs."""
    from flask import url_for

    block = HomeBlock(
        "优秀评选",
        url_for("portal.list_excellent_institutions"),
        "年度优秀服务机构、优秀服务产品、优秀服务专家评审结果公布后在此展示。目前暂无已公布的评选结果。",
    )
    for key in ("excellent_institutions", "excellent_products", "excellent_experts"):
        total = published_count(key)
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
            (f"{DIRECTORIES[key].title}公示名单（{len(lists[key])}）", url_for(f"portal.list_{key}"))
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
