"""Reading and loading reference data."""

import json
from collections import namedtuple
from pathlib import Path
from types import SimpleNamespace

import sqlalchemy as sa
from flask import current_app

from app.cache import REFERENCE, token_memo, topic_tokens
from app.extensions import db
from app.reference.models import DICT_KINDS, DictItem, InstitutionType, Platform, Region, ServiceCategory, UnitNature

DIVISIONS = Path(__file__).with_name("hunan-divisions.json")

# 单位性质 and the expected first two characters of the 统一社会信用代码.
UNIT_NATURES = [("企业", "91"), ("事业单位", "12"), ("社会团体", "51"), ("个体工商户", "92"), ("民办非企业", "52")]
INSTITUTION_TYPES = ["综合服务机构", "专业服务机构"]
SERVICE_CATEGORIES = [
    "政策服务",
    "融资服务",
    "引才育才服务",
    "技术创新服务",
    "数字化转型服务",
    "市场开拓服务",
    "管理咨询服务",
    "创业服务",
    "法律服务",
    "财税服务",
    "知识产权服务",
    "检验检测认证服务",
    "工业设计服务",
    "品牌建设服务",
    "信息服务",
    "其他服务",
]
PROVINCE_PLATFORM = "湖南省中小企业公共服务平台"


def load_reference():
    """Load regions, dictionaries and platforms; existing rows are left as admins edited them."""
    data = json.loads(DIVISIONS.read_text(encoding="utf-8"))
    known = set(db.session.scalars(sa.select(Region.code)))
    for c_index, city in enumerate(data["cities"]):
        if city["code"] not in known:
            db.session.add(Region(code=city["code"], name=city["name"], level="city", sort_order=c_index))
        for k_index, county in enumerate(city["counties"]):
            if county["code"] not in known:
                db.session.add(
                    Region(
                        code=county["code"],
                        name=county["name"],
                        level="county",
                        parent_code=city["code"],
                        sort_order=k_index,
                    )
                )
    db.session.flush()
    created = 0
    for cls, entries in (
        (UnitNature, UNIT_NATURES),
        (InstitutionType, [(name, None) for name in INSTITUTION_TYPES]),
        (ServiceCategory, [(name, None) for name in SERVICE_CATEGORIES]),
    ):
        existing = set(db.session.scalars(sa.select(cls.name)))
        for index, (name, code) in enumerate(entries):
            if name not in existing:
                db.session.add(cls(name=name, code=code, sort_order=index))
                created += 1
    platforms = set(db.session.scalars(sa.select(Platform.name)))
    wanted = [(PROVINCE_PLATFORM, None)] + [
        (f"{city['name']}中小企业公共服务平台", city["code"]) for city in data["cities"]
    ]
    for index, (name, city_code) in enumerate(wanted):
        if name not in platforms:
            db.session.add(Platform(name=name, city_code=city_code, sort_order=index))
            created += 1
    db.session.commit()
    current_app.extensions.pop("reference_kept", None)
    return created


Place = namedtuple("Place", "code name level parent_code sort_order")


def _kept_per_reference_version(key, load):
    """``load()``, kept per process for as long as the reference data stays the same version (the
    REFERENCE cache topic: an edit of a region or a list entry renews it); without a token (no
    topic row) it is loaded afresh each time. Values must be plain data, never ORM objects, so no
    request shares another's session state. Once checked in a request, the value is taken from
    the request's own memo (a queue page asks for 市州 names forty times)."""
    memo = token_memo()
    if memo is not None and key in memo:
        return memo[key]
    tokens = topic_tokens((REFERENCE,))
    token = tokens[REFERENCE] if tokens else None
    kept = current_app.extensions.setdefault("reference_kept", {}).get(key)
    if kept is not None and token is not None and kept[0] == token:
        value = kept[1]
    else:
        value = load()
        if token is not None:
            current_app.extensions["reference_kept"][key] = (token, value)
    memo = token_memo()  # again: topic_tokens may have just read the tokens and opened the memo
    if memo is not None and token is not None:
        memo[key] = value
    return value


def _regions():
    """Every 市州 and 区县: names by code, the 市州 in order, the 区县 of each 市州 in order."""
    return _kept_per_reference_version("regions", _load_regions)


def _load_regions():
    rows = db.session.execute(
        sa.select(Region.code, Region.name, Region.level, Region.parent_code, Region.sort_order).order_by(
            Region.sort_order, Region.code
        )
    ).all()
    places = [Place(*row) for row in rows]
    children = {}
    for place in places:
        if place.parent_code:
            children.setdefault(place.parent_code, []).append(place)
    return SimpleNamespace(
        names={place.code: place.name for place in places},
        cities=tuple(place for place in places if place.level == "city"),
        counties={code: tuple(found) for code, found in children.items()},
    )


def region_name(code):
    return _regions().names.get(code, "") if code else ""


def cities():
    """The 市州 in their reference order (Place tuples: code, name, level, parent_code, sort_order)."""
    return _regions().cities


def counties(city_code):
    """The 区县 of a 市州 in order (Place tuples); none for an empty or unknown code."""
    return _regions().counties.get(city_code, ()) if city_code else ()


def county_belongs(county_code, city_code):
    return (
        db.session.scalar(
            sa.select(sa.func.count(Region.code)).where(Region.code == county_code, Region.parent_code == city_code)
        )
        == 1
    )


Item = namedtuple("Item", "id kind name code sort_order active")


def _load_dict_items():
    items = {}
    for row in db.session.execute(
        sa.select(
            DictItem.id, DictItem.kind, DictItem.name, DictItem.code, DictItem.sort_order, DictItem.active
        ).order_by(DictItem.sort_order, DictItem.id)
    ):
        items.setdefault(row.kind, []).append(Item(*row))
    return items


def dict_items(kind, *, include_id=None):
    """Active entries of a list (Item tuples: id, kind, name, code, sort_order, active), plus
    ``include_id`` (a retired entry an old record still uses). Every list is read once per version
    of the reference data, not on every form and filter that offers it."""
    if kind not in DICT_KINDS:
        raise KeyError(kind)
    entries = _kept_per_reference_version("dict_items", _load_dict_items).get(kind, [])
    return [item for item in entries if item.active or (include_id and item.id == include_id)]


def dict_items_all(kind):
    """Every entry of a list, retired ones too, in the list's order (Item tuples)."""
    if kind not in DICT_KINDS:
        raise KeyError(kind)
    return _kept_per_reference_version("dict_items", _load_dict_items).get(kind, [])


def dict_item(kind, item_id):
    """One entry of a list by id, retired or not (an Item tuple), or None: from the same per-version
    copy as ``dict_items``, so a page that names one entry reads nothing."""
    return next((item for item in dict_items_all(kind) if item.id == item_id), None) if item_id else None


def platforms(*, include_id=None):
    criteria = Platform.active.is_(True)
    if include_id:
        criteria = sa.or_(criteria, Platform.id == include_id)
    return db.session.scalars(sa.select(Platform).where(criteria).order_by(Platform.sort_order, Platform.id)).all()
