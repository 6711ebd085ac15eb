"""调度大数据: aggregates equal hand-computed sums; public page shows aggregates only; admin filters."""

import io
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from docx import Document

from app.blueprints.reports import stats
from app.extensions import db
from app.utils import local_today
from tests.factories import make_institution
from tests.helpers import login, page, text_of
from tests.jobs_queue import start_and_download
from tests.reports.conftest import make_report, recognise, report_round


def _fixture(app, people):
    """Two months of 2025, three institutions, one draft and one submitted (neither counts)."""
    with app.app_context():
        # closed periods, as they are by now (an open month is not compared: see below)
        jan = report_round(2025, 1, opens_on=date(2025, 2, 1), closes_on=date(2025, 2, 10)).id
        feb = report_round(2025, 2, opens_on=date(2025, 3, 1), closes_on=date(2025, 3, 10)).id
        dec = report_round(2024, 12, opens_on=date(2025, 1, 1), closes_on=date(2025, 1, 10)).id
        third = make_institution(name="长沙第三机构", city_code="430100", county_code="430102")
        recognise(third.institution.id, 2023, 2026)
        make_report(
            people.institution.id,
            jan,
            revenue=100,
            service_expense=50,
            profit=10,
            institution_type_id=people.type_id,
            categories={"政策服务": (2, 20, 5), "融资服务": (1, 10, 3)},
        )
        make_report(
            people.institution.id,
            feb,
            revenue=120.5,
            service_expense=60,
            profit=-5,
            categories={"政策服务": (4, 30, 6)},
        )
        make_report(
            people.other.id, jan, revenue=300, service_expense=100, profit=50, categories={"融资服务": (10, 50, 20)}
        )
        make_report(
            third.id,
            feb,
            revenue=80,
            service_expense=40,
            profit=8,
            categories={"政策服务": (6, 12, 9), "法律服务": (3, 3, 3)},
        )
        make_report(third.id, jan, status="submitted", revenue=999, categories={"政策服务": (99, 99, 99)})
        make_report(people.other.id, dec, revenue=200, categories={"融资服务": (8, 8, 8)})
        return third.id


def test_aggregates_equal_hand_computed_sums(app, people):
    _fixture(app, people)
    with app.test_request_context():
        t = stats.totals(stats.Filters(2025))
        assert (t.institutions, t.reports) == (3, 4)
        assert (t.activities, t.participants, t.served) == (
            2 + 1 + 4 + 10 + 6 + 3,
            20 + 10 + 30 + 50 + 12 + 3,
            5 + 3 + 6 + 20 + 9 + 3,
        )
        assert t.revenue == Decimal("600.50") and t.expense == Decimal("250.00") and t.profit == Decimal("63.00")
        months = stats.by_month(stats.Filters(2025, 1, 3))
        assert [(m.label, m.institutions, m.activities, m.served) for m in months] == [
            ("1月", 2, 13, 28),
            ("2月", 2, 13, 18),
            ("3月", 0, 0, 0),
        ]
        cities = {c.key: c for c in stats.by_city(stats.Filters(2025))}
        assert (cities["430100"].institutions, cities["430100"].activities, cities["430100"].revenue) == (
            2,
            16,
            Decimal("300.50"),
        )
        assert (cities["430200"].institutions, cities["430200"].served) == (1, 20)
        assert cities["430300"].activities == 0  # every 市州 is listed
        rows = stats.by_category(stats.Filters(2025))
        categories = {
            c.label: (c.activities, c.participants, c.served)
            for c in rows
            if c.activities or c.participants or c.served
        }
        assert categories == {"政策服务": (12, 62, 20), "融资服务": (11, 60, 23), "法律服务": (3, 3, 3)}
        assert [c.label for c in rows][:3] == [
            "政策服务",
            "融资服务",
            "引才育才服务",
        ]  # the dictionary's order, zeros kept
        changsha = {
            c.label: c.activities for c in stats.by_category(stats.Filters(2025, city_code="430100")) if c.activities
        }
        assert changsha == {"政策服务": 12, "融资服务": 1, "法律服务": 3}
        typed = stats.totals(stats.Filters(2025, institution_type_id=people.type_id))
        assert typed.reports == 1 and typed.activities == 3
        top = stats.top_institutions(stats.Filters(2025), "served")
        assert [(r.label, r.served) for r in top] == [
            ("株洲调度测试机构", 20),
            ("长沙调度测试机构", 14),
            ("长沙第三机构", 12),
        ]
        mom = stats.month_on_month(stats.Filters(2025, 1, 2))
        assert (mom.current.activities, mom.base.activities, mom.pct("activities")) == (13, 13, 0.0)
        jan = stats.month_on_month(stats.Filters(2025, 1, 1))
        assert jan.base_period == "2024年12月" and jan.base.activities == 8 and jan.pct("activities") == 62.5
        assert stats.year_on_year(stats.Filters(2025)).pct("served") == 475.0  # 46 against 2024's 8 (December)
        assert stats.year_on_year(stats.Filters(2025, 1, 2)).pct("served") is None  # nothing in 2024 Jan-Feb


def test_statements_kept_per_process_answer_for_their_own_filters(app, people):
    """The dashboards' statements are built once per filters and kept: asked one after another, in
    either order, each set of filters still gets its own figures (and the top lists their own path:
    the rollup for the whole year, the reports for a part of it)."""
    _fixture(app, people)
    with app.test_request_context():
        expected = {"430100": 16, "430200": 10, None: 26}
        for codes in (("430100", "430200", None), (None, "430200", "430100")):
            for code in codes:
                f = stats.Filters(2025, city_code=code)
                assert stats.totals(f).activities == expected[code]
                assert sum(row.activities for row in stats.by_city(f)) == expected[code]
                assert sum(row.activities for row in stats.by_category(f)) == expected[code]
        for _ in range(2):
            assert [r.served for r in stats.top_institutions(stats.Filters(2025), "served")] == [20, 14, 12]
            assert [r.served for r in stats.top_institutions(stats.Filters(2025, 1, 1), "served")] == [20, 8]


def test_the_cache_follows_approvals(app, people):
    _fixture(app, people)
    with app.test_request_context():
        before = stats.public_summary(2025).totals.activities
        from app.blueprints.reports.models import MonthlyReport
        from app.blueprints.reports.services import report_on_transition
        from app.filings.workflow import find

        report = db.session.query(MonthlyReport).filter_by(status="submitted").one()
        report.status = "approved"
        report_on_transition(report, find(("city",), "approve"), None)
        db.session.commit()
        assert stats.public_summary(2025).totals.activities == before + 99


def test_public_page_shows_aggregates_but_no_single_institution(client, app, people):
    _fixture(app, people)
    soup = page(client.get("/big-data?year=2025"))
    text = text_of(soup)
    assert "统计期：2025年1-2月" in text
    assert (
        "报送机构数（家）" in text and "服务活动数（场次）" in text and "600.50" in text
    )  # 3 institutions: revenue public
    assert soup.find("svg") is not None and soup.find("script", src=False, string=True) is None
    assert "各服务类别情况" in text and "政策服务" in text and "长沙市" in text
    assert "长沙调度测试机构" not in text and "株洲调度测试机构" not in text  # no institution names
    assert "营业收入(万元)" not in text  # no per-市州 or per-month money columns
    assert len(client.get("/big-data?year=2025").data) < 60_000


def test_revenue_is_hidden_with_fewer_than_three_institutions(client, app, people):
    with app.app_context():
        make_report(people.institution.id, people.round_id, revenue=123.45, categories={"政策服务": (1, 1, 1)})
    text = text_of(page(client.get("/big-data")))
    assert "123.45" not in text and "报送机构少于 3 家时不公布营业收入合计" in text


def test_public_page_is_honest_when_empty(client, people):
    text = text_of(page(client.get("/big-data")))
    assert "暂无" in text and "调度数据" in text


def test_admin_dashboard_with_filters(client, app, people):
    _fixture(app, people)
    login(client, people.province.username)
    soup = page(client.get("/reports/stats?year=2025&month_from=1&month_to=2"))
    text = text_of(soup)
    assert "统计期：2025年1-2月" in text and "600.50" in text and "环比" in text and "同比" in text
    assert "株洲调度测试机构" in text  # top institutions are for admins
    text = text_of(page(client.get("/reports/stats?year=2025&city_code=430200")))
    assert "300.00" in text and "长沙调度测试机构" not in text
    # a city admin sees its own 市州 whatever it asks for
    login(client, people.city.username)
    text = text_of(page(client.get("/reports/stats?year=2025&city_code=430200")))
    assert "株洲调度测试机构" not in text and "长沙调度测试机构" in text


def test_quarterly_bulletin_page_and_docx(client, app, people):
    _fixture(app, people)
    login(client, people.province.username)
    text = text_of(page(client.get("/reports/bulletin?year=2025&quarter=1")))
    assert "2025年第一季度全省中小微企业核心服务机构运营情况通报" in text
    assert "共开展服务活动 26 场次" in text and "一、数据报送情况" in text and "六、下一步工作" in text
    response = start_and_download(client, "/reports/bulletin/docx", {"year": 2025, "quarter": 1})
    assert response.status_code == 200
    document = Document(io.BytesIO(response.data))
    body = "\n".join(p.text for p in document.paragraphs)
    assert "2025年第一季度全省中小微企业核心服务机构运营情况通报" in body and "26 场次" in body
    assert client.get("/reports/bulletin?year=2025&quarter=5").status_code == 404
    login(client, people.city.username)
    assert client.get("/reports/bulletin").status_code == 403


def test_rebuild_gives_the_same_rollups_and_fills_missing_copies(app, people):
    _fixture(app, people)
    with app.test_request_context():
        from app.blueprints.reports.models import MonthlyReport, ReportCategoryStat, ReportMonthStat

        def snapshot():
            months = sorted(
                tuple(str(v) for v in r) for r in db.session.execute(sa.select(*ReportMonthStat.__table__.c))
            )
            categories = sorted(tuple(r) for r in db.session.execute(sa.select(*ReportCategoryStat.__table__.c)))
            return months, categories

        before = snapshot()
        # data loaded straight into the tables: no copies, no rollups
        db.session.execute(sa.update(MonthlyReport.__table__).values(stats_city_code=None, stats_institution_id=None))
        db.session.execute(sa.delete(ReportMonthStat))
        db.session.commit()
        stats.stats_rebuild()
        assert snapshot() == before
        assert stats.totals(stats.Filters(2025)).institutions == 3


def test_rebuild_command(app, people):
    _fixture(app, people)
    result = app.test_cli_runner().invoke(args=["reports", "rebuild-stats"])
    assert result.exit_code == 0 and "重新计算" in result.output


def test_an_open_month_is_not_compared(app, people):
    """A month still open for reporting would show a fall that is only missing reports: 环比 and
    同比 say it is not closed yet instead of a percentage."""
    _fixture(app, people)
    with app.app_context():
        march = report_round(2025, 3)  # closes in ten days
        db.session.commit()
        assert march.closes_on > local_today()
    with app.test_request_context():
        mom = stats.month_on_month(stats.Filters(2025, 1, 3))
        assert mom.pending == "2025年3月尚未截止" and mom.pct("activities") is None
        yoy = stats.year_on_year(stats.Filters(2025, 1, 3))
        assert yoy.pending == "2025年3月尚未截止"
        assert stats.month_on_month(stats.Filters(2025, 1, 2)).pending is None


def _who_reported(year):
    """{(city, type, institution): (months bitmask, 服务企业数, 服务活动数)} computed here from the
    approved reports."""
    from app.blueprints.reports.models import MonthlyReport

    found = {}
    for r in db.session.scalars(sa.select(MonthlyReport).where(MonthlyReport.counted.is_(True))):
        if r.year == year:
            key = (r.stats_city_code or "", r.institution_type_id or 0, r.stats_institution_id)
            months, served, activities = found.get(key, (0, 0, 0))
            found[key] = (months | (1 << (r.month - 1)), served + r.served_total, activities + r.activities_total)
    return found


def _stored(year):
    from app.blueprints.reports.models import ReportInstitutionStat as Stat

    rows = db.session.execute(
        sa.select(
            Stat.city_code, Stat.institution_type_id, Stat.institution_id, Stat.months, Stat.served, Stat.activities
        ).where(Stat.year == year)
    )
    return {(city, type_id, institution): tuple(figures) for city, type_id, institution, *figures in rows}


def _tops_from_reports(year, month_from, month_to, city_code=None, limit=10):
    """The two 排行 computed here from the approved reports: [(name, 服务企业数, 服务活动数)]."""
    from app.blueprints.auth.models import Institution
    from app.blueprints.reports.models import MonthlyReport

    sums = {}
    for r in db.session.scalars(sa.select(MonthlyReport).where(MonthlyReport.counted.is_(True))):
        if r.year == year and month_from <= r.month <= month_to and city_code in (None, r.stats_city_code):
            served, activities = sums.get(r.stats_institution_id, (0, 0))
            sums[r.stats_institution_id] = (served + r.served_total, activities + r.activities_total)
    names = dict(db.session.execute(sa.select(Institution.id, Institution.name)).all())
    rows = [(names[i], served, activities, i) for i, (served, activities) in sums.items()]
    by_served = sorted(rows, key=lambda r: (-r[1], -r[2], r[3]))[:limit]
    by_activities = sorted(rows, key=lambda r: (-r[2], -r[1], r[3]))[:limit]
    return [r[:3] for r in by_served], [r[:3] for r in by_activities]


def test_the_top_lists_from_the_rollup_equal_those_from_the_reports(app, people):
    """A range holding every month of the year with data (2025: January-February) is read from the
    institution rollup, any other from its reports; both give what the reports give."""
    _fixture(app, people)
    with app.test_request_context():
        moved = make_institution(name="迁址机构", city_code="430100", county_code="430102")
        make_report(moved.id, stats_round(2025, 1), categories={"政策服务": (7, 1, 4)})
        moved.institution.city_code = "430200"
        make_report(moved.id, stats_round(2025, 2), categories={"融资服务": (2, 1, 30)})
        db.session.commit()
        for args, city in (((2025,), None), ((2025, 1, 2), None), ((2025, 1, 6), "430100"), ((2025, 2, 2), None)):
            f = stats.Filters(*args, city_code=city)
            tops = stats.top_lists(f)
            shown = tuple(
                [(r.label, r.served, r.activities) for r in tops[measure]] for measure in ("served", "activities")
            )
            assert shown == _tops_from_reports(2025, f.month_from, f.month_to, city), (args, city)
        assert stats.top_lists(stats.Filters(2025))["served"][0].label == "迁址机构"  # 4 + 30 in two 市州


def test_distinct_institutions_come_from_one_row_per_institution_a_year(app, people):
    """The approvals keep one bit per month per institution; an institution that moved 市州 between
    two months counts once for the province and once in each 市州."""
    _fixture(app, people)
    with app.test_request_context():
        moved = make_institution(name="迁址机构", city_code="430100", county_code="430102")
        jan, feb = (stats_round(2025, m) for m in (1, 2))
        make_report(moved.id, jan, categories={"政策服务": (1, 1, 1)})
        moved.institution.city_code = "430200"
        make_report(moved.id, feb, categories={"政策服务": (1, 1, 1)})
        db.session.commit()

        assert _stored(2025) == _who_reported(2025) and len(_stored(2025)) == 6  # 长沙调度测试机构: two 机构类型
        assert stats.totals(stats.Filters(2025)).institutions == 4
        cities = {c.key: c.institutions for c in stats.by_city(stats.Filters(2025))}
        assert (cities["430100"], cities["430200"]) == (3, 2)
        assert stats.totals(stats.Filters(2025, 1, 2, city_code="430200")).institutions == 2
        assert stats.totals(stats.Filters(2025, 3, 12)).institutions == 0  # no bit of March-December
        feb_on = {c.key: c.institutions for c in stats.by_city(stats.Filters(2025, 2, 3))}
        assert (feb_on["430100"], feb_on["430200"]) == (2, 1)

        before = _stored(2025)
        from app.blueprints.reports.models import ReportInstitutionStat

        db.session.execute(sa.delete(ReportInstitutionStat))
        db.session.commit()
        stats.stats_rebuild()
        assert _stored(2025) == before


def stats_round(year, month):
    from app.filings.models import Round

    return db.session.scalar(
        sa.select(Round.id).where(Round.kind == "report", Round.year == year, Round.month == month)
    )


def test_the_dashboard_reads_the_months_once_and_shows_what_each_query_would(app, people):
    """The admin 调度大数据 takes its totals, months, 环比 and 同比 from one read of the month rollup
    (``MonthSums``); each equals what the figure's own query gives."""
    _fixture(app, people)
    kept = app.config.get("REPORT_STATS_CACHE_SECONDS")
    app.config["REPORT_STATS_CACHE_SECONDS"] = 0  # computed, not taken from the cache
    try:
        with app.test_request_context():
            for f in (
                stats.Filters(2025),
                stats.Filters(2025, 1, 1),
                stats.Filters(2025, 2, 2, city_code="430100"),
                stats.Filters(2025, 1, 2, institution_type_id=people.type_id),
            ):
                d = stats.dashboard(f)
                assert d.totals == stats.totals(f)
                assert d.months == stats.by_month(f)
                assert d.mom == stats.month_on_month(f) and d.yoy == stats.year_on_year(f)
            jan = stats.dashboard(stats.Filters(2025, 1, 1))
            assert jan.mom.base.activities == 8  # December 2024, read with the year before
    finally:
        if kept is None:
            app.config.pop("REPORT_STATS_CACHE_SECONDS")
        else:
            app.config["REPORT_STATS_CACHE_SECONDS"] = kept
