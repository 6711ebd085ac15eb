"""Paging (app/utils.paginate over Flask-SQLAlchemy's db.paginate, paginate_list for lists): page
numbers out of range show the first or the last page, and a page costs two statements
(one when it is the first and is not full)."""

import gc

import sqlalchemy as sa
from sqlalchemy import event

from app import utils
from app.extensions import db
from app.reference.models import Region
from app.utils import _page_cut, paginate, paginate_list
from tests.helpers import page, text_of
from tests.portal.conftest import add_notice


def _regions():
    return sa.select(Region).order_by(Region.code)


def _statements(run):
    seen = []

    def note(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        result = run()
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    return result, seen


def test_pages_of_a_select(app_ctx):
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Region))
    codes = db.session.scalars(_regions().with_only_columns(Region.code)).all()
    last = -(-total // 20)
    assert total > 40
    second, statements = _statements(lambda: paginate(_regions(), page=2, per_page=20))
    assert len(statements) == 2  # the page and its count
    assert (second.page, second.pages, second.total, second.first) == (2, last, total, 21)
    assert [r.code for r in second.items] == codes[20:40]
    assert (second.has_prev, second.prev_num, second.has_next, second.next_num) == (True, 1, True, 3)
    for number in (0, -3):
        first = paginate(_regions(), page=number, per_page=20)
        assert (first.page, first.first, [r.code for r in first.items]) == (1, 1, codes[:20])
    beyond = paginate(_regions(), page=last + 5, per_page=20)
    assert (beyond.page, beyond.total, beyond.has_next) == (last, total, False)
    assert [r.code for r in beyond.items] == codes[(last - 1) * 20 :]
    empty = paginate(_regions().where(Region.code == "none"), page=3, per_page=20)
    assert (empty.page, empty.total, empty.items, empty.has_prev, empty.has_next) == (1, 0, [], False, False)
    nothing, statements = _statements(lambda: paginate(_regions().where(Region.code == "none"), page=1))
    assert len(statements) == 1  # an empty first page: nothing to count
    assert (nothing.page, nothing.pages, nothing.total, nothing.items, nothing.has_next) == (1, 0, 0, [], False)
    short, statements = _statements(lambda: paginate(_regions().where(Region.code.like("43%")), page=1, per_page=500))
    assert len(statements) == 1 and short.total == len(short.items) > 0  # a page that is not full is the last


def test_pages_of_a_list():
    rows = list(range(45))
    assert paginate_list(rows, page=2, per_page=20).items == rows[20:40]
    last = paginate_list(rows, page=9, per_page=20)
    assert (last.page, last.pages, last.total, last.items, last.first) == (3, 3, 45, rows[40:], 41)
    first = paginate_list(rows, page=0, per_page=20)
    assert (first.page, first.items, first.has_prev) == (1, rows[:20], False)
    nothing = paginate_list([], page=4)
    assert (nothing.page, nothing.total, nothing.items, nothing.has_next) == (1, 0, [], False)


def test_the_pager_on_a_page_past_the_last(client, app_ctx):
    for number in range(22):
        add_notice(f"通知{number:02d}", days_ago=number + 1)  # newest first: 通知00 leads
    text = text_of(page(client.get("/notices?page=99")))
    assert "当前显示第 2 页 共 22 条记录" in text and "通知21" in text and "通知00" not in text
    text = text_of(page(client.get("/notices?page=0")))
    assert "当前显示第 1 页 共 22 条记录" in text and "通知00" in text and "通知21" not in text


def test_pages_chosen_on_their_keys(app_ctx):
    """``keys=``: the page is chosen on the key column alone and then read whole; the same pages,
    totals and out-of-range behaviour as the plain select, with the whole select's statement
    carrying the chosen keys (``IN``) rather than LIMIT and OFFSET."""
    ordered = sa.select(Region).order_by(Region.sort_order.desc(), Region.code.desc())
    keys = sa.select(Region.code).order_by(Region.sort_order.desc(), Region.code.desc())
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Region))
    last = -(-total // 20)
    for number in (1, 2, last, last + 3, 0):
        plain = paginate(ordered, page=number, per_page=20)
        keyed, statements = _statements(lambda n=number: paginate(ordered, page=n, per_page=20, keys=keys))
        assert [r.code for r in keyed.items] == [r.code for r in plain.items], number
        assert (keyed.page, keyed.total, keyed.pages) == (plain.page, plain.total, plain.pages)
        whole = next(s for s in statements if "region.name" in s)
        assert " IN (SELECT region.code" in whole and "LIMIT" not in whole.split(" IN (SELECT")[0]
    narrowed = keys.where(Region.level == "city")
    cities = paginate(ordered.where(Region.level == "city"), page=1, per_page=5, keys=narrowed)
    assert cities.total == db.session.scalar(sa.select(sa.func.count()).where(Region.level == "city"))
    assert len(cities.items) == 5 and {r.level for r in cities.items} == {"city"}


def test_one_kept_select_paged_again_and_again(app_ctx):
    """A select kept per process (the review queue's, 报送情况's) is cut to each page by bound values:
    every page, size and kind of paging reads its own rows from the same select, and the cut
    statement is built once for it (its SQLAlchemy cache key with it), not once per request."""
    kept = _regions()
    keys = _regions().with_only_columns(Region.code)
    codes = db.session.scalars(keys).all()
    for number, size in ((1, 20), (2, 20), (3, 7), (1, 20), (2, 5)):
        whole = paginate(kept, page=number, per_page=size)
        rows = paginate(kept, page=number, per_page=size, rows=True)
        keyed = paginate(kept, page=number, per_page=size, keys=keys)
        expected = codes[(number - 1) * size : number * size]
        assert [r.code for r in whole.items] == expected, (number, size)
        assert [row[0].code for row in rows.items] == expected, (number, size)
        assert [r.code for r in keyed.items] == expected, (number, size)
        assert whole.total == rows.total == keyed.total == len(codes)
    assert _page_cut(kept) is _page_cut(kept)  # built once while the select lives
    gone, gone_keys = _regions(), _regions().with_only_columns(Region.code)
    paginate(gone, page=2, per_page=20, keys=gone_keys)  # kept: the page and the count of its keys
    held = len(utils._cut)
    del gone, gone_keys
    gc.collect()
    assert len(utils._cut) == held - 2  # what was kept for a select goes with it: nothing accrues
