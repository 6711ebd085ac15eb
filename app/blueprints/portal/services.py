"""Portal rules: which notices are public, the 首页, the public lists, 搜索, the entry buttons.

Other modules contribute to the portal in their ``Module`` declaration (app/modules.py), read
here for the current app through ``wiring()``:

- ``directory_sources`` fill 优秀服务机构 / 优秀服务产品 / 优秀服务专家;
- ``big_data`` fills 调度大数据 (and its figures on the 首页);
- ``home_blocks`` add or replace a short block on the 首页;
- ``search_sources`` make more published things searchable;
- ``institution_sections`` add e.g. awards to a 核心服务机构 detail page;
- ``entries`` point an entry button at a module's page.

Until a module contributes, its page and block say honestly that nothing is published yet.
"""

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import url_for

from app.access import LOGIN, PUBLIC, policy_of
from app.blueprints.portal.directory import home_institutions, institution_count, institution_search
from app.blueprints.portal.markup import markdown_html
from app.blueprints.portal.matching import contains, like_pattern
from app.blueprints.portal.models import NOTICE_CATEGORIES, Notice
from app.extensions import db
from app.forms import county_choices
from app.modules import Entry, wiring
from app.reference.services import cities
from app.utils import paginate, paginate_list, utcnow

HOME_NOTICES = 7


# ---- notices ---------------------------------------------------------------------------------


def _published():
    """Notices a visitor may see: published, and not scheduled for later."""
    return sa.and_(Notice.is_published.is_(True), Notice.published_at <= utcnow())


def _newest_first(select):
    return select.order_by(Notice.published_at.desc(), Notice.id.desc())


def notice_list(*, category=None, page=1, per_page=20):
    """Published notices, newest first; ``category`` narrows to 通知公告 or 工作动态."""
    select = sa.select(Notice).where(_published())
    if category in NOTICE_CATEGORIES:
        select = select.where(Notice.category == category)
    return paginate(_newest_first(select), page=page, per_page=per_page)


def notice_neighbours(*, notice):
    """(上一篇, 下一篇) in the list's order (newest first) within the notice's category."""
    same = sa.and_(_published(), Notice.category == notice.category)
    newer = sa.or_(
        Notice.published_at > notice.published_at,
        sa.and_(Notice.published_at == notice.published_at, Notice.id > notice.id),
    )
    older = sa.or_(
        Notice.published_at < notice.published_at,
        sa.and_(Notice.published_at == notice.published_at, Notice.id < notice.id),
    )
    previous = db.session.scalar(
        sa.select(Notice).where(same, newer).order_by(Notice.published_at.asc(), Notice.id.asc()).limit(1)
    )
    following = db.session.scalar(_newest_first(sa.select(Notice).where(same, older)).limit(1))
    return previous, following


def notice_page(*, notice):
    """What the notice page shows besides the notice: sanitised body, neighbours, attachments."""
    previous, following = notice_neighbours(notice=notice)
    return {
        "notice": notice,
        "body_html": markdown_html(notice.body),
        "previous": previous,
        "following": following,
        "attachments": list(notice.attachments),
    }


# ---- public lists filled by other modules ----------------------------------------------------


@dataclass(frozen=True)
class Directory:
    """A public list page: its title, what it shows, and what it says while it is empty."""

    key: str
    title: str
    intro: str
    empty: str
    unit: str = "项"  # counts on the 首页: 家 / 项 / 名


DIRECTORIES = {
    "institutions": Directory(
        "institutions",
        "核心服务机构",
        "经省级认定、在认定有效期内的湖南省中小微企业核心服务机构（认定有效期三年）。",
        "暂无已认定的核心服务机构名单。核心服务机构经申报、市州初审、省级认定后在此公布。",
        "家",
    ),
    "excellent_institutions": Directory(
        "excellent_institutions",
        "优秀服务机构",
        "年度优秀评选中获评的优秀服务机构。",
        "暂无已公布的优秀服务机构。优秀服务机构经年度优秀评选申报、市州初审、省级评审后在此公布。",
        "家",
    ),
    "excellent_products": Directory(
        "excellent_products",
        "优秀服务产品",
        "年度优秀评选中获评的优秀服务产品。",
        "暂无已公布的优秀服务产品。优秀服务产品经年度优秀评选申报、市州初审、省级评审后在此公布。",
        "项",
    ),
    "excellent_experts": Directory(
        "excellent_experts",
        "优秀服务专家",
        "年度优秀评选中获评的优秀服务专家。",
        "暂无已公布的优秀服务专家。优秀服务专家经年度优秀评选申报、市州初审、省级评审后在此公布。",
        "名",
    ),
}
EXCELLENT = ("excellent_institutions", "excellent_products", "excellent_experts")


@dataclass(frozen=True)
class DirectorySource:
    """How a module fills a public list: ``page(page=, per_page=, args=)`` returns a Pagination whose
    items ``template`` (a partial, given ``page``) lists; ``args`` are the request's query args."""

    page: object
    template: str


def directory_page(*, key, page=1, per_page=20, args=None):
    """(Directory, Page, partial template or None) of one public list; empty until a module fills it."""
    source = wiring().directory_sources.get(key)
    if source is None:
        return DIRECTORIES[key], paginate_list([], per_page=per_page), None
    return DIRECTORIES[key], source.page(page=page, per_page=per_page, args=args or {}), source.template


def directory_total(key):
    if key == "institutions":
        return institution_count()
    if key not in wiring().directory_sources:
        return 0
    return directory_page(key=key, per_page=1)[1].total


# ---- 调度大数据 and the 首页 blocks (filled by other modules) ------------------------------------


@dataclass
class BigData:
    """调度大数据 while no module provides it: no figures, so the page says so honestly.

    A provider returns an object with the same attributes: ``stats`` [(label, value, unit)],
    ``period``, ``year``, ``years`` (with data) and ``template`` (a partial showing the rest).
    """

    year: int | None = None
    years: list = field(default_factory=list)
    period: str | None = None
    stats: list = field(default_factory=list)
    template: str | None = None


def big_data_summary(year=None, headline=False):
    """The 调度大数据 summary for ``year`` (default: the provider's choice); empty without a provider
    (the reports module provides it: approved monthly reports). ``headline``: only what the 首页
    shows of it (``stats`` and ``period``)."""
    provider = wiring().big_data
    if provider is None:
        return BigData()
    return provider(year=year, headline=headline)


@dataclass
class HomeBlock:
    """A short block on the 首页: figures, a line of text and/or links, or its empty message."""

    title: str
    href: str
    empty: str
    figures: list = field(default_factory=list)  # [(label, value, unit)]
    text: str = ""
    items: list = field(default_factory=list)  # [(label, href)]

    @property
    def has_content(self):
        return bool(self.figures or self.text or self.items)


def _institutions_block():
    total, names, terms = home_institutions()
    return HomeBlock(
        "核心服务机构",
        url_for("portal.list_institutions"),
        DIRECTORIES["institutions"].empty,
        figures=[("已认定核心服务机构" + (f"（{terms}）" if terms else ""), total, "家")] if total else [],
        items=[(name, url_for("portal.show_institution", institution_id=id_)) for id_, name in names],
    )


def _excellent_block():
    total = sum(directory_total(key) for key in DIRECTORIES if key.startswith("excellent_"))
    return HomeBlock(
        "优秀评选",
        url_for("portal.list_excellent_institutions"),
        "暂无已公布的优秀评选结果。",
        figures=[("已公布的优秀服务机构、产品和专家", total, "个")] if total else [],
    )


def _big_data_block():
    summary = big_data_summary(headline=True)
    return HomeBlock(
        "调度大数据",
        url_for("portal.big_data"),
        "暂无调度数据。核心服务机构按月填报运营数据并经审核后在此展示。",
        figures=list(summary.stats)[:3],
        text=f"统计期：{summary.period}" if summary.stats and summary.period else "",
    )


# the portal's own 首页 blocks, in order; the awards module replaces "awards" with its own
HOME_BLOCKS = (("institutions", _institutions_block), ("awards", _excellent_block), ("big_data", _big_data_block))


def home_blocks():
    return [provider() for provider in wiring().home_blocks.values()]


def home_notices():
    """(the headline (置顶) or None, the latest 通知公告, the latest 工作动态), newest first, as rows
    of id, title and published_at (what the 首页 links show), in one statement: the three
    newest-first reads in a UNION ALL, each still served by its index."""
    parts = (
        ("headline", Notice.pinned.is_(True), 1),
        ("notices", Notice.category == "通知公告", HOME_NOTICES),
        ("news", Notice.category == "工作动态", HOME_NOTICES),
    )
    newest = [
        _newest_first(
            sa.select(sa.literal(part).label("part"), Notice.id, Notice.title, Notice.published_at).where(
                _published(), criterion
            )
        )
        .limit(limit)
        .subquery()
        for part, criterion, limit in parts
    ]
    found = {part: [] for part, _criterion, _limit in parts}
    for row in db.session.execute(sa.union_all(*(sa.select(part) for part in newest))):
        found[row.part].append(row)
    for rows in found.values():  # a UNION ALL promises no order of its own
        rows.sort(key=lambda row: (row.published_at, row.id), reverse=True)
    return (found["headline"] or [None])[0], found["notices"], found["news"]


def home_page():
    """What the 首页 shows: the headline (置顶), the two news columns and the module blocks."""
    headline, notices, news = home_notices()
    return {"headline": headline, "notices": notices, "news": news, "blocks": home_blocks()}


# ---- 核心服务机构 detail: sections from other modules ------------------------------------------


def institution_sections(institution):
    """The modules' sections on the public detail page of a recognised institution (e.g.
    获评优秀服务机构/产品): each provider(institution) returns (title, [text or (label, href)]) or None."""
    sections = []
    for provider in wiring().institution_sections:
        section = provider(institution)
        if section:
            sections.append(section)
    return sections


# ---- 搜索 -------------------------------------------------------------------------------------
#
# Substring matching with LIKE '%词%' (escaped), which is what Chinese needs: there are no spaces
# to split words on, and 融资 must find 融资担保. How it stays quick:
# - SQLite: an honest full scan. LIKE with a leading % cannot use a b-tree index; with 5,000
#   notices of ~1,000 characters and 2,000 institutions one search takes tens of milliseconds
#   (tests/portal/bench_search.py measures it; numbers in docs/search.md). Each group scans once
#   for the matching ids, then loads only the rows it shows.
# - PostgreSQL: pg_trgm GIN indexes (gin_trgm_ops) on the searched columns serve LIKE/ILIKE
#   '%...%' for terms of 3+ characters (created by the migration only where the extension is
#   available; the DDL is in docs/search.md). Shorter terms fall back to a scan, still correct.

SEARCH_GROUP_LIMIT = 10  # items per group on the combined page
SEARCH_KIND_LIMIT = 100  # items when one kind is shown alone


def _search_notices(pattern, limit):
    # One pass over the table: the matching (id, date) pairs, sorted here. (COUNT plus ORDER BY
    # published_at LIMIT would scan twice, the second time in index order with a lookup per row.)
    criteria = sa.and_(_published(), sa.or_(contains(Notice.title, pattern), contains(Notice.body, pattern)))
    found = sorted(db.session.execute(sa.select(Notice.published_at, Notice.id).where(criteria)).all(), reverse=True)
    shown = [row.id for row in found[:limit]]
    notices = {n.id: n for n in db.session.scalars(sa.select(Notice).where(Notice.id.in_(shown)))} if shown else {}
    return len(found), [notices[i] for i in shown]


def _search_institutions(pattern, limit):
    return institution_search(pattern, limit)


@dataclass(frozen=True)
class SearchSource:
    key: str
    label: str  # the group heading, e.g. 通知公告
    scope: str  # what is searched, for the page's explanation
    search: object  # callable(pattern, limit) -> (total, items); pattern is a LIKE pattern for contains()
    template: str  # the partial that lists one group's ``items``
    unit: str = "条"  # 共 N 条 / 家 / 名


# Only what is public is searched. The awards module adds products and experts once it publishes
# them (its search_sources); until then the page says they are not searchable yet.
SEARCH_SOURCES = (
    SearchSource(
        "notices",
        "通知公告",
        "已发布的通知公告和工作动态（标题和正文）",
        _search_notices,
        "portal/_partials/_search_notices.html",
    ),
    SearchSource(
        "institutions",
        "核心服务机构",
        "认定有效期内的核心服务机构（名称、简介、服务类别、所在市州）",
        _search_institutions,
        "portal/_partials/_search_institutions.html",
        "家",
    ),
)
LATER_SOURCES = {"products": "优秀服务产品", "experts": "优秀服务专家"}


@dataclass
class SearchGroup:
    source: SearchSource
    total: int
    items: list


def search_public(*, q, kind=None):
    """Search every public source for ``q`` (a Chinese or Latin substring), grouped by kind with
    counts; ``kind`` shows one group with more items. [] for an empty q."""
    q = (q or "").strip()[:50]
    if not q:
        return []
    pattern = like_pattern(q)
    every = wiring().search_sources
    sources = [s for s in every if s.key == kind] or every
    limit = SEARCH_KIND_LIMIT if len(sources) == 1 and kind else SEARCH_GROUP_LIMIT
    groups = []
    for source in sources:
        total, items = source.search(pattern, limit)
        groups.append(SearchGroup(source, total, list(items)))
    return groups


def search_scope():
    """(what is searched, what is not searchable yet) for the page's explanation."""
    every = wiring().search_sources
    keys = {source.key for source in every}
    return [source.scope for source in every], [label for key, label in LATER_SOURCES.items() if key not in keys]


# ---- entry buttons ----------------------------------------------------------------------------

# 入口 buttons: kind -> (label, endpoints to try in order); later modules put theirs first. The
# first endpoint that exists and the user may open wins: a logged-in institution goes to its
# 申报管理, an admin to the 审核 list; a visitor goes to a public page if one is listed, else to
# 登录 and back here afterwards.
ENTRIES = (
    Entry("apply", ("applications.list_applications", "applications.review_applications", "account.home"), "申报入口"),
    Entry("report", ("account.home",), "调度管理入口"),
    Entry("award", ("account.home",), "优秀评选入口"),
    Entry("complaint", ("complaints.new_complaint", "portal.contact"), "企业投诉入口"),
)


def entry_url(*, kind, user):
    """Where an entry button leads for ``user``, or None for an unknown kind."""
    entries = wiring().entries
    if kind not in entries:
        return None
    authenticated = user is not None and user.is_authenticated
    for endpoint in entries[kind][1]:
        policy = policy_of(endpoint)
        if policy == PUBLIC or (authenticated and policy is not None and (policy == LOGIN or user.role in policy)):
            return url_for(endpoint)
    if authenticated:
        return url_for("account.home")
    return url_for("auth.login", next=url_for("portal.entry", kind=kind))


# ---- regions -------------------------------------------------------------------------------


def county_options(*, city_code):
    """(code, label) of the 区县 of ``city_code``; for an empty or unknown 市州, every 区县 labelled
    with its 市州 (as the forms do without JavaScript)."""
    city_list = cities()
    known = {city.code for city in city_list}
    return county_choices(city_code if city_code in known else None, city_list)
