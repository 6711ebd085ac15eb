"""The review queue at scale (issue 14): 通过所选 (each an ordinary audited transition), sortable
columns and page sizes."""

import sqlalchemy as sa

from app.audit import AuditLog
from app.blueprints.reports.models import MonthlyReport
from app.extensions import db
from app.filings.models import ReviewEvent
from tests.helpers import login, page, text_of
from tests.reports.conftest import make_report, people  # noqa: F401  (the fixture)


def submitted(people, *owners):  # noqa: F811 (fixture name)
    ids = []
    for owner in owners:
        ids.append(make_report(owner.id, people.round_id, status="submitted"))
    db.session.commit()
    return [getattr(i, "id", i) for i in ids]


def test_approve_selected_approves_each_with_its_own_event(client, app, app_ctx, people):  # noqa: F811
    mine, theirs = submitted(people, people.institution, people.other)
    login(client, people.city.username)
    soup = page(client.get("/reports/review"))
    boxes = [box["value"] for box in soup.select("input[name=ids]")]
    assert boxes == [str(mine)]  # only what this 市州 admin may approve is offered
    response = client.post(
        "/reports/review/approve", data={"ids": [str(mine), str(theirs), "99999999999999999999"], "comment": "同意"}
    )
    assert response.status_code == 303
    soup = page(client.get(response.headers["Location"]))
    text = text_of(soup)
    assert "已通过 1 项核心服务机构调度数据" in text and "不在您的审核范围内" in text
    db.session.expire_all()
    assert db.session.get(MonthlyReport, mine).status == "approved"
    assert db.session.get(MonthlyReport, theirs).status == "submitted"
    events = db.session.scalars(sa.select(ReviewEvent).where(ReviewEvent.filing_id == mine)).all()
    assert [(e.action, e.comment) for e in events] == [("approve", "同意")]
    assert db.session.scalar(sa.select(sa.func.count(AuditLog.id)).where(AuditLog.action == "report.approve")) == 1
    # the same batch again (a double click): nothing applied twice, and it says why
    client.post("/reports/review/approve", data={"ids": [str(mine)]})
    assert db.session.scalar(sa.select(sa.func.count(ReviewEvent.id)).where(ReviewEvent.filing_id == mine)) == 1


def test_nothing_chosen_says_so(client, app_ctx, people):  # noqa: F811
    login(client, people.city.username)
    response = client.post("/reports/review/approve", data={}, follow_redirects=True)
    assert "请先勾选要通过的记录" in text_of(page(response))


def test_sortable_columns_and_page_sizes(client, app_ctx, people):  # noqa: F811
    submitted(people, people.institution, people.other)
    login(client, people.province.username)
    by_name = page(client.get("/reports/review?status=submitted&sort=name&dir=asc"))
    names = [row.select("td")[2].get_text(strip=True) for row in by_name.select("table.list tbody tr")]
    assert names == sorted(names) and len(names) == 2
    reverse = page(client.get("/reports/review?status=submitted&sort=name&dir=desc"))
    assert [row.select("td")[2].get_text(strip=True) for row in reverse.select("table.list tbody tr")] == names[::-1]
    header = by_name.select_one("th a.sorted")
    assert header is not None and header["aria-sort"] == "ascending"
    sizes = [o["value"] for o in by_name.select("select[name=per_page] option")]
    assert sizes == ["20", "50", "100"]
    assert (
        page(client.get("/reports/review?per_page=7")).select_one("select[name=per_page] option[selected]")["value"]
        == "20"
    )


def test_the_status_filter_offers_only_what_the_kind_reaches(client, app_ctx, people):  # noqa: F811
    login(client, people.province.username)
    reports = [o["value"] for o in page(client.get("/reports/review")).select("select[name=status] option")]
    assert reports == ["", "submitted", "approved", "returned"]  # one level: no 市级初审通过, no 不予认定
    applications = [o["value"] for o in page(client.get("/applications/review")).select("select[name=status] option")]
    assert "city_approved" in applications and "rejected" in applications


def test_previous_and_next_inside_a_review_follow_the_queue(client, app_ctx, people):  # noqa: F811
    first, second = submitted(people, people.institution, people.other)
    login(client, people.province.username)
    queue = page(client.get("/reports/review?status=submitted&sort=name&dir=asc"))
    links = [a["href"] for a in queue.select("td.ops a") if a.get_text(strip=True) == "审核"]
    assert len(links) == 2 and all("back=" in href for href in links)
    one = page(client.get(links[0]))
    assert one.select_one("a[rel=next]") is not None and one.select_one("a[rel=prev]") is None
    two = page(client.get(one.select_one("a[rel=next]")["href"]))
    assert two.select_one("a[rel=prev]") is not None and two.select_one("a[rel=next]") is None
    # a decision goes on to the next one of the same queue
    form = one.select_one("#decision form")
    data = {"action": "approve", "back": form.select_one("input[name=back]")["value"]}
    response = client.post(form["action"], data=data)
    assert response.status_code == 303 and "back=" in response.headers["Location"]
    assert links[1].split("?")[0] in response.headers["Location"]
    # without a queue to follow there is nothing to step through
    plain = page(client.get(links[1].split("?")[0]))
    assert plain.select_one("a[rel=next]") is None and plain.select_one("a[rel=prev]") is None


def test_the_queue_filters_by_institution_type(client, app_ctx, people):  # noqa: F811
    import sqlalchemy as sa

    from app.blueprints.auth.models import Institution
    from app.reference.models import InstitutionType

    mine, theirs = submitted(people, people.institution, people.other)
    types = dict(db.session.execute(sa.select(InstitutionType.name, InstitutionType.id)).all())
    for report_id, name in ((mine, "综合服务机构"), (theirs, "专业服务机构")):
        institution = db.session.get(MonthlyReport, report_id).institution
        db.session.execute(
            sa.update(Institution).where(Institution.id == institution.id).values(institution_type_id=types[name])
        )
    db.session.commit()
    login(client, people.province.username)
    soup = page(client.get(f"/reports/review?status=submitted&type_id={types['专业服务机构']}"))
    names = [row.select("td")[2].get_text(strip=True) for row in soup.select("table.list tbody tr")]
    assert names == ["株洲调度测试机构"]
    offered = [o.get_text(strip=True) for o in soup.select("select[name=type_id] option")]
    assert offered[0] == "全部" and "专业服务机构" in offered


def test_the_queue_as_it_opens_takes_its_total_from_the_waiting_count(client, app, app_ctx, people):  # noqa: F811
    """The queue as it opens shows what waits for this reviewer, which ``waiting_count`` has just
    counted: its pager says the same number without a count of its own. A filter counts afresh."""
    from sqlalchemy import event

    from tests.factories import make_institution

    owners = [people.institution] + [make_institution(city_code="430100", county_code="430102") for _ in range(21)]
    submitted(people, *owners)
    submitted(people, people.other)  # 株洲市: not this 市州 admin's
    login(client, people.city.username)
    seen = []

    def note(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        opened = text_of(page(client.get("/reports/review")))
        opened_counts = [s for s in seen if s.lstrip().upper().startswith("SELECT COUNT(*)")]
        seen.clear()
        filtered = text_of(page(client.get("/reports/review?q=测试服务机构")))
        filtered_counts = [s for s in seen if s.lstrip().upper().startswith("SELECT COUNT(*)")]
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert "当前显示第 1 页 共 22 条记录" in opened
    assert opened_counts == []  # the pager's total is the waiting count
    assert "当前显示第 1 页 共 21 条记录" in filtered and len(filtered_counts) == 1
    login(client, people.province.username)
    assert "共 23 条记录" in text_of(page(client.get("/reports/review")))  # every 市州
    assert "共 22 条记录" in text_of(page(client.get("/reports/review?city_code=430100")))


def test_the_province_queue_reads_its_page_in_index_order(client, app, app_ctx, people):  # noqa: F811
    """The province's queue of one state, newest submission first, is read through filing (kind,
    status, submitted_at) in index order (SQLite's plan): no sort of every filing in that state,
    which at 1,168 submitted reports cost 2.5 ms a page."""
    import pytest
    from sqlalchemy import event

    if db.engine.dialect.name != "sqlite":
        pytest.skip("the plan checked is SQLite's")
    submitted(people, people.institution, people.other)
    login(client, people.province.username)
    seen = []

    def note(_conn, _cursor, statement, parameters, *_args):
        if "ORDER BY filing.submitted_at DESC" in statement:
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        page(client.get("/reports/review?status=submitted"))
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    (statement, parameters), *_ = seen
    plan = " ".join(
        row[-1] for row in db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
    )
    assert "ix_filing_kind_status_submitted_at" in plan
    assert "TEMP B-TREE" not in plan  # not even for the tie-break on the id
