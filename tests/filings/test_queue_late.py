"""Review queues at scale (issue 14, items 4 and 7), on every filing kind: the 报送情况 filter
(逾期报送: first submitted after the round's deadline) with its mark, kept by 上一条/下一条, sorting,
paging and 通过所选; the 已选 N 项 / 全选本页 markup; and 导出Excel exporting exactly the queue as
filtered and sorted."""

from datetime import datetime, timedelta, timezone
from io import BytesIO
from types import SimpleNamespace
from urllib.parse import parse_qs, urlparse

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from app.blueprints.applications.models import CoreApplication
from app.blueprints.applications.wizard import wizard as application_wizard
from app.blueprints.auth.models import User
from app.blueprints.awards.wizard import expert_wizard, institution_wizard, product_wizard
from app.blueprints.reports.wizard import wizard as report_wizard
from app.extensions import db
from app.filings import services
from app.filings.models import ReviewEvent
from app.utils import CHINA, local_today, utcnow
from tests.awards.conftest import make_nomination
from tests.factories import make_city_admin, make_institution, make_province_admin, make_round
from tests.helpers import login, page, text_of
from tests.jobs_queue import export_form, queue_export
from tests.reports.conftest import make_report

KINDS = {
    "application": application_wizard,
    "report": report_wizard,
    "institution": institution_wizard,
    "product": product_wizard,
    "expert": expert_wizard,
}


def utc_of(day, hour):
    """A China-time hour of ``day`` as the naive UTC the columns store."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=CHINA).astimezone(timezone.utc).replace(tzinfo=None)


def _filing(kind, owner_id, round_id, *, late):
    """A submitted filing of ``kind``: late ones first submitted the day after the deadline, on-time
    ones first submitted before it (and submitted again since, after the deadline)."""
    if kind == "report":
        return make_report(owner_id, round_id, status="submitted", late=late)
    if kind == "application":
        owner = db.session.get(User, owner_id)
        filing = CoreApplication(
            owner_id=owner_id,
            institution_id=owner.institution.id,
            round_id=round_id,
            city_code=owner.institution.city_code,
            status="submitted",
            steps_done=["basic", "operations"],
        )
        db.session.add(filing)
        db.session.commit()
        return filing.id
    return make_nomination(kind, owner_id, round_id, status="submitted")


@pytest.fixture
def queue(app):
    """For each kind: a round whose deadline was yesterday (China time), two 长沙 institutions'
    filings, one late and one on time; the admins."""
    with app.app_context():
        today = local_today()
        deadline = today - timedelta(days=1)
        late_owner = make_institution(name="甲逾期服务机构", city_code="430100", county_code="430102")
        ontime_owner = make_institution(name="乙按时服务机构", city_code="430100", county_code="430102")
        ids = {}
        for kind in KINDS:
            round_kind = {"application": "application", "report": "report"}.get(kind, "award")
            round = make_round(
                round_kind,
                year=today.year - 1,
                month=today.month if kind == "report" else None,
                opens_on=deadline - timedelta(days=20),
                closes_on=deadline,
                title=f"{kind}测试批次",
            )
            late = _filing(kind, late_owner.id, round.id, late=True)
            ontime = _filing(kind, ontime_owner.id, round.id, late=False)
            if kind != "report":  # the engine derives it from the first submit event
                db.session.add_all(
                    [
                        # first submitted at 00.30 the day after the deadline: late
                        ReviewEvent(
                            filing_id=late,
                            action="submit",
                            from_status="draft",
                            to_status="submitted",
                            created_at=utc_of(today, 0) + timedelta(minutes=30),
                        ),
                        # first submitted at 23.30 on the deadline day, then again after 退回: on time
                        ReviewEvent(
                            filing_id=ontime,
                            action="submit",
                            from_status="draft",
                            to_status="submitted",
                            created_at=utc_of(deadline, 23) + timedelta(minutes=30),
                        ),
                        ReviewEvent(
                            filing_id=ontime,
                            action="submit",
                            from_status="returned",
                            to_status="submitted",
                            created_at=utcnow(),
                        ),
                    ]
                )
                for filing_id in (late, ontime):
                    db.session.get(KINDS[kind].model, filing_id).submitted_at = utcnow()
            db.session.commit()
            ids[kind] = SimpleNamespace(late=late, ontime=ontime, round_id=round.id)
        return SimpleNamespace(
            ids=ids,
            province=make_province_admin().username,
            city=make_city_admin("430100").username,
        )


def queue_url(app, kind, **args):
    with app.test_request_context():
        from flask import url_for

        return url_for(KINDS[kind].endpoints.queue, **args)


def rows_of(soup):
    """(filing id, row text) of each row of the queue, by its 审核 link."""
    rows = []
    for tr in soup.select("table.list.queue tbody tr"):
        link = tr.select_one("td.ops a")
        rows.append((int(urlparse(link["href"]).path.rstrip("/").split("/")[-2]), text_of(tr)))
    return rows


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_late_filter_and_mark_on_every_queue(client, app, queue, kind):
    ids = queue.ids[kind]
    login(client, queue.province)
    everything = page(client.get(queue_url(app, kind, status="submitted", round_id=ids.round_id)))
    rows = dict(rows_of(everything))
    assert set(rows) == {ids.late, ids.ontime}
    assert "逾期报送" in rows[ids.late] and "逾期报送" not in rows[ids.ontime]
    assert [o["value"] for o in everything.select("select[name=late] option")] == ["", "1", "0"]
    late = page(client.get(queue_url(app, kind, status="submitted", round_id=ids.round_id, late="1")))
    assert [i for i, _ in rows_of(late)] == [ids.late]
    assert late.select_one("select[name=late] option[selected]")["value"] == "1"
    ontime = page(client.get(queue_url(app, kind, status="submitted", round_id=ids.round_id, late="0")))
    assert [i for i, _ in rows_of(ontime)] == [ids.ontime]
    # a value that is not a choice filters nothing
    assert len(rows_of(page(client.get(queue_url(app, kind, status="submitted", late="x"))))) == 2


def test_the_derived_lateness_agrees_with_the_recorded_one(app, queue):
    """The engine's rule (first submit event after the deadline day, China time) finds the same
    filings as the monthly report's own record would."""
    with app.app_context():
        for kind, wizard in KINDS.items():
            ids = queue.ids[kind]
            assert services.late_ids(wizard=wizard, ids=[ids.late, ids.ontime]) == {ids.late}, kind
            if kind != "report":
                found = set(
                    db.session.scalars(
                        sa.select(wizard.model.id).where(
                            wizard.model.id.in_([ids.late, ids.ontime]), services.first_submission_late(wizard)
                        )
                    )
                )
                assert found == {ids.late}


def test_the_late_filter_is_kept_by_sorting_paging_neighbours_and_batch_approval(client, app, queue):
    ids = queue.ids["application"]
    login(client, queue.city)
    url = queue_url(app, "application", status="submitted", late="1")
    soup = page(client.get(url))
    # sorting keeps it
    sort_links = [a["href"] for a in soup.select("th a.sort")]
    assert sort_links and all(parse_qs(urlparse(h).query).get("late") == ["1"] for h in sort_links)
    # the filter form keeps it with the page size
    assert soup.select_one("form.filters select[name=late] option[selected]")["value"] == "1"
    # 上一条/下一条 inside a review follow the filtered queue: the only late one has no neighbours
    review = [a["href"] for a in soup.select("td.ops a") if a.get_text(strip=True) == "审核"]
    assert len(review) == 1 and "late%3D1" in review[0]
    one = page(client.get(review[0]))
    assert one.select_one("a[rel=next]") is None and one.select_one("a[rel=prev]") is None
    # while the unfiltered queue steps from one to the other
    both = page(client.get(queue_url(app, "application", status="submitted", sort="name", dir="asc")))
    first = [a["href"] for a in both.select("td.ops a") if a.get_text(strip=True) == "审核"][0]
    assert page(client.get(first)).select_one("a[rel=next]") is not None
    # 通过所选 goes back to the queue with the filter
    back = soup.select_one("form.batch input[name=back]")["value"]
    assert "late=1" in back
    response = client.post("/applications/review/approve", data={"ids": [str(ids.late)], "back": back})
    assert response.status_code == 303 and "late=1" in response.headers["Location"]
    after = page(client.get(response.headers["Location"]))
    assert "已通过 1 项核心服务机构申报" in text_of(after)


def test_the_selection_count_and_select_all_are_progressive(client, app, queue):
    login(client, queue.province)
    soup = page(client.get(queue_url(app, "report", status="submitted")))
    form = soup.select_one("form.batch")
    assert form["data-select-scope"] == "ids"
    count = form.select_one("[data-selected-count]")
    select_all = form.select_one("label.select-all")
    # without JavaScript both stay hidden (app.js shows them); the button alone works
    assert count.has_attr("hidden") and select_all.has_attr("hidden")
    assert select_all.select_one("input[data-select-all]") is not None and "全选本页" in select_all.get_text()
    assert len(form.select("input[name=ids]")) == 2
    with app.open_resource("static/app.js") as script:
        source = script.read().decode()
    assert "data-select-scope" in source and '"已选 " + n + " 项"' in source


@pytest.mark.parametrize("kind", ["application", "institution", "product", "expert"])
def test_the_export_holds_exactly_the_queue_as_filtered_and_sorted(client, app, queue, kind):
    ids = queue.ids[kind]
    login(client, queue.province)
    soup = page(client.get(queue_url(app, kind, status="submitted", late="1")))
    link = export_form(soup)[0]
    assert parse_qs(urlparse(link).query)["late"] == ["1"]
    shown = [i for i, _ in rows_of(soup)]
    assert shown == [ids.late]

    def exported(url):
        response = queue_export(client, url)
        assert response.status_code == 200
        sheet = load_workbook(BytesIO(response.data)).active
        rows = list(sheet.iter_rows(values_only=True))
        header, body = rows[0], rows[1:]
        return [dict(zip(header, row)) for row in body]

    late_rows = exported(link)
    assert [r["机构名称"] for r in late_rows] == ["甲逾期服务机构"]
    assert late_rows[0]["报送情况"] == "逾期报送"
    # on time, sorted by name descending: the export follows the same order
    soup = page(client.get(queue_url(app, kind, status="", sort="name", dir="desc")))
    link = export_form(soup)[0]
    names = [r["机构名称"] for r in exported(link)]
    on_screen = [next(n for n in ("甲逾期服务机构", "乙按时服务机构") if n in text) for _, text in rows_of(soup)]
    assert names == on_screen and len(names) == 2
    soup = page(client.get(queue_url(app, kind, status="", sort="name", dir="asc")))
    link = export_form(soup)[0]
    assert [r["机构名称"] for r in exported(link)] == names[::-1]
    # the default queue (status left to what waits for this reviewer) exports what it shows
    soup = page(client.get(queue_url(app, kind)))
    link = export_form(soup)[0]
    assert len(exported(link)) == len(rows_of(soup)) == 0  # a province admin waits for 市级初审通过
    # without filters, as before: every filing in scope
    with app.test_request_context():
        from flask import url_for

        plain = url_for(KINDS[kind].endpoints.export)
    assert {r["机构名称"] for r in exported(plain)} == {"甲逾期服务机构", "乙按时服务机构"}


def test_the_export_of_a_keyword_and_city_filter(client, app, queue):
    login(client, queue.province)
    url = queue_url(app, "application", status="", q="乙按时", city_code="430100")
    soup = page(client.get(url))
    link = export_form(soup)[0]
    response = queue_export(client, link)
    rows = list(load_workbook(BytesIO(response.data)).active.iter_rows(values_only=True))
    assert [row[2] for row in rows[1:]] == ["乙按时服务机构"]
    elsewhere = queue_url(app, "application", status="", city_code="430200")
    link = export_form(page(client.get(elsewhere)))[0]
    assert len(list(load_workbook(BytesIO(queue_export(client, link).data)).active.iter_rows(values_only=True))) == 1


def test_paging_keeps_the_late_filter(client, app, queue):
    ids = queue.ids["application"]
    with app.app_context():
        late = db.session.get(CoreApplication, ids.late)
        for _ in range(21):  # submitted now, long after the deadline, with no earlier submission
            db.session.add(
                CoreApplication(
                    owner_id=late.owner_id,
                    institution_id=late.institution_id,
                    round_id=ids.round_id,
                    city_code=late.city_code,
                    status="submitted",
                    steps_done=["basic", "operations"],
                    submitted_at=utcnow(),
                )
            )
        db.session.commit()
    login(client, queue.city)
    first = page(client.get(queue_url(app, "application", status="submitted", late="1")))
    assert len(rows_of(first)) == 20
    following = first.select_one(".pager a[rel=next]")["href"]
    assert parse_qs(urlparse(following).query).get("late") == ["1"]
    second = page(client.get(following))
    assert len(rows_of(second)) == 2 and ids.ontime not in [i for i, _ in rows_of(second)]
    assert "共 22 条记录" in text_of(second)


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_reviewer_sees_its_own_scope_one_after_another(client, app, queue, kind):
    """A queue's statements are kept per process by role, 市州 and filters: reviewers of two 市州
    and the province, one after the other on the same URL, each see (and count) their own."""
    ids = queue.ids[kind]
    with app.app_context():
        owner = make_institution(name="丙株洲服务机构", city_code="430200", county_code="430202")
        other = _filing(kind, owner.id, ids.round_id, late=False)
        zhuzhou = make_city_admin("430200").username
    url = queue_url(app, kind, status="submitted", round_id=ids.round_id)
    expected = {queue.city: {ids.late, ids.ontime}, zhuzhou: {other}, queue.province: {ids.late, ids.ontime, other}}
    for _ in range(2):
        for username, filings in expected.items():
            client.post("/auth/logout")
            login(client, username)
            shown = page(client.get(url))
            assert {i for i, _ in rows_of(shown)} == filings, username
            badge = shown.select_one("h1 .badge")
            if username != queue.province or kind in ("report",):  # what waits for this reviewer
                assert badge is not None and int(badge.text) == len(filings), username
