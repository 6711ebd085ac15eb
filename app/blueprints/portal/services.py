"""Portal rules: which notices are public, the home page, directories, search, entry buttons."""
from dataclasses import dataclass, field

import sqlalchemy as sa

from app.blueprints.portal.models import NOTICE_CATEGORIES, Notice
from app.extensions import db
from app.utils import Page, paginate, utcnow

HOME_NOTICES = 7

# 入口 buttons: kind -> (label, endpoint it leads to). Later modules point their kind at their
# own workspace page (申报 -> applications, 调度 -> reports, 评选 -> awards, 投诉 -> complaints).
ENTRY_TARGETS = {
    "apply": ("申报入口", "account.home"),
    "report": ("调度管理入口", "account.home"),
    "award": ("优秀评选入口", "account.home"),
    "complaint": ("企业投诉入口", "portal.contact"),
}


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


def notice_get(*, notice_id):
    """A published notice, or None (unpublished and future notices do not exist for visitors)."""
    return db.session.scalar(sa.select(Notice).where(Notice.id == notice_id, _published()))


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


def notice_paragraphs(body):
    """The body as paragraphs: one per non-empty line (the template escapes each)."""
    return [line.strip() for line in (body or "").splitlines() if line.strip()]


# ---- directories (filled by later modules) -------------------------------------------------

@dataclass(frozen=True)
class Directory:
    """A public list page: its title, what it shows, and what it says while it is empty."""

    key: str
    title: str
    intro: str
    empty: str


DIRECTORIES = {
    "institutions": Directory(
        "institutions", "核心服务机构",
        "经省级认定的湖南省中小微企业核心服务机构名单（认定有效期三年）。",
        "暂无已认定的核心服务机构名单。核心服务机构经申报、市州初审、省级认定后在此公布。",
    ),
    "excellent_institutions": Directory(
        "excellent_institutions", "优秀服务机构",
        "年度优秀评选中获评的优秀服务机构。",
        "暂无已公布的优秀服务机构。优秀服务机构经年度优秀评选申报、市州初审、省级评审后在此公布。",
    ),
    "excellent_products": Directory(
        "excellent_products", "优秀服务产品",
        "年度优秀评选中获评的优秀服务产品。",
        "暂无已公布的优秀服务产品。优秀服务产品经年度优秀评选申报、市州初审、省级评审后在此公布。",
    ),
    "excellent_experts": Directory(
        "excellent_experts", "优秀服务专家",
        "年度优秀评选中获评的优秀服务专家。",
        "暂无已公布的优秀服务专家。优秀服务专家经年度优秀评选申报、市州初审、省级评审后在此公布。",
    ),
}


def directory_page(*, key, page=1, per_page=20):
    """One page of a public directory. Nothing is recognised or awarded yet, so it is empty;
    the applications and awards modules replace this with their published lists."""
    return DIRECTORIES[key], Page([], 1, per_page, 0)


@dataclass
class BigData:
    """调度大数据: totals of approved monthly reports (none until the reports module lands)."""

    period: str | None = None
    stats: list = field(default_factory=list)  # [(label, value, unit)]


def big_data_summary():
    """Summary figures of approved monthly reports; empty until the reports module exists."""
    return BigData()


def home_page():
    """What the 首页 shows: the headline, the two news columns and what is published so far."""
    base = _newest_first(sa.select(Notice).where(_published()))
    headline = db.session.scalar(base.where(Notice.pinned.is_(True)).limit(1))
    notices = db.session.scalars(base.where(Notice.category == "通知公告").limit(HOME_NOTICES)).all()
    news = db.session.scalars(base.where(Notice.category == "工作动态").limit(HOME_NOTICES)).all()
    directories = {key: directory_page(key=key, per_page=1)[1].total for key in DIRECTORIES}
    return {
        "headline": headline,
        "notices": notices,
        "news": news,
        "published": {
            "institutions": directories["institutions"],
            "excellent": sum(directories[key] for key in DIRECTORIES if key.startswith("excellent_")),
            "big_data": bool(big_data_summary().stats),
        },
    }


# ---- search --------------------------------------------------------------------------------

def like_pattern(text):
    """A LIKE pattern for a substring, with the user's % _ and \\ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _search_notices(pattern, limit):
    criteria = sa.and_(
        _published(),
        sa.or_(Notice.title.ilike(pattern, escape="\\"), Notice.body.ilike(pattern, escape="\\")),
    )
    total = db.session.scalar(sa.select(sa.func.count(Notice.id)).where(criteria))
    items = db.session.scalars(_newest_first(sa.select(Notice).where(criteria)).limit(limit)).all()
    return total, items


@dataclass(frozen=True)
class SearchSource:
    key: str
    label: str  # the group heading, e.g. 通知公告
    scope: str  # what is searched, for the page's explanation
    search: object  # callable(pattern, limit) -> (total, items)
    template: str  # the partial that lists one group's items


# Only what is public is searched. The recognition and awards modules add institutions, products
# and experts (register_search_source) once they publish them; until then the page says so.
SEARCH_SOURCES = [
    SearchSource("notices", "通知公告", "已发布的通知公告和工作动态（标题和正文）", _search_notices,
                 "portal/_partials/_search_notices.html"),
]
LATER_SOURCES = {"institutions": "核心服务机构", "products": "优秀服务产品", "experts": "服务专家"}


def register_search_source(source):
    SEARCH_SOURCES.append(source)


@dataclass
class SearchGroup:
    source: SearchSource
    total: int
    items: list


def search_public(*, q, limit=50):
    """Search every public source for ``q`` (a Chinese or Latin substring); [] for an empty q."""
    q = (q or "").strip()[:50]
    if not q:
        return []
    pattern = like_pattern(q)
    groups = []
    for source in SEARCH_SOURCES:
        total, items = source.search(pattern, limit)
        groups.append(SearchGroup(source, total, items))
    return groups


def search_scope():
    """(what is searched, what is not searchable yet) for the page's explanation."""
    keys = {source.key for source in SEARCH_SOURCES}
    return [source.scope for source in SEARCH_SOURCES], [label for key, label in LATER_SOURCES.items() if key not in keys]


# ---- entry buttons ----------------------------------------------------------------------------

def entry_url(*, kind, authenticated):
    """Where an entry button leads: its public page, the workspace page when logged in, else the
    登录 page coming back to this entry afterwards. None for an unknown kind."""
    from flask import url_for

    from app.access import PUBLIC, policy_of

    if kind not in ENTRY_TARGETS:
        return None
    endpoint = ENTRY_TARGETS[kind][1]
    if authenticated or policy_of(endpoint) == PUBLIC:
        return url_for(endpoint)
    return url_for("auth.login", next=url_for("portal.entry", kind=kind))


# ---- regions -------------------------------------------------------------------------------

def county_options(*, city_code):
    """(code, label) of the 区县 of ``city_code``; for an empty or unknown 市州, every 区县 labelled
    with its 市州 (as the forms do without JavaScript)."""
    from app.forms import county_choices
    from app.reference.services import cities

    city_list = cities()
    known = {city.code for city in city_list}
    return county_choices(city_code if city_code in known else None, city_list)
