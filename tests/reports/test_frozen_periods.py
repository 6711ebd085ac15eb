"""Records of past 调度期 that never move (issue 14, items 1 and 2).

1. 应报 for a month counts only institutions recognised (and with an account) by its end: a
   recognition or import made later never changes an earlier month.
2. A closed 调度期 is frozen once (snapshot); 报送情况, 导出未报送名单 and 季度通报 read it, so
   later recognitions and approvals change nothing; a 补报 reopens it (audited) and it freezes again.

Dates are fixed relative to last year (every month of it has ended and its periods closed, whatever
day the tests run), and the current month for what must still be open.
"""

import io
import threading
from datetime import date, timedelta

import openpyxl
import pytest
import sqlalchemy as sa

from app.audit import AuditLog
from app.blueprints.applications.models import Recognition
from app.blueprints.applications.services import china_midnight_utc
from app.blueprints.auth.models import User
from app.blueprints.reports import bulletin as bulletins
from app.blueprints.reports import completeness as reports_completeness
from app.blueprints.reports import snapshots
from app.blueprints.reports.models import MonthlyReport, PeriodSnapshot, PeriodSnapshotRow
from app.blueprints.reports.recognitions import recognition_set
from app.blueprints.reports.reopen import reopen_request_create, reopen_request_decide
from app.blueprints.reports.stats import stats_add
from app.extensions import db
from app.filings import workflow
from app.filings.models import Round
from app.reference.models import InstitutionType
from app.utils import local_today
from tests.concurrency import Visitor, at_once
from tests.factories import make_institution, make_province_admin, make_round
from tests.helpers import login, page, text_of
from tests.reports.conftest import make_report

YEAR = local_today().year - 1  # a year whose months have all ended


def _since(user, day):
    """The institution has had its account since ``day`` (as seeded or imported data would)."""
    opened = china_midnight_utc(day)
    user.created_at = opened
    user.institution.created_at = opened
    db.session.commit()


def _recognise(user, effective_on, start=YEAR - 1, end=YEAR + 2):
    db.session.add(
        Recognition(institution_id=user.institution.id, term_start=start, term_end=end, effective_on=effective_on)
    )
    db.session.commit()


def _round(month, closes_on=None, year=YEAR):
    """A past month's 调度期, closed (deadline in the past) unless ``closes_on`` says otherwise."""
    return make_round(
        "report",
        year=year,
        month=month,
        title=f"{year}年{month}月调度",
        opens_on=date(year, month, 1),
        closes_on=closes_on or date(YEAR, 12, 31),
    )


def _approve(report_id):
    """The review decides a report after its period froze (as the engine's approval leaves it)."""
    report = db.session.get(MonthlyReport, report_id)
    report.status, report.counted = workflow.APPROVED, True
    stats_add(report)
    db.session.commit()


def _user(user_id):
    return db.session.get(User, user_id)


def _sql_expected(round_id):
    """An independent count of a period's 应报, written straight in SQL: recognised (term covering
    the year, effective by the month's end, not revoked before it began) with an account by then."""
    round = db.session.get(Round, round_id)
    first = date(round.year, round.month, 1)
    following = date(round.year + (round.month == 12), round.month % 12 + 1, 1)
    return db.session.execute(
        sa.text(
            "SELECT COUNT(*) FROM institution i WHERE i.created_at < :account_by AND EXISTS ("
            " SELECT 1 FROM recognition r WHERE r.institution_id = i.id AND r.term_start <= :year"
            " AND r.term_end >= :year AND r.effective_on <= :last"
            " AND (r.revoked_at IS NULL OR r.revoked_at >= :began))"
        ),
        {
            "account_by": china_midnight_utc(following),
            "year": round.year,
            "last": following - timedelta(days=1),
            "began": china_midnight_utc(first),
        },
    ).scalar()


@pytest.fixture
def october(app, app_ctx):
    """Four institutions recognised since last September, all reported for last October (one
    late); the period is closed. The province admin."""
    admin = make_province_admin()
    round = _round(10)
    reporters = []
    for n in range(4):
        user = make_institution(name=f"十月机构{n}", city_code="430100" if n < 3 else "430200")
        _since(user, date(YEAR, 9, 1))
        _recognise(user, date(YEAR, 9, 1))
        make_report(user.id, round.id, status="approved", late=n == 3)
        reporters.append(user.id)
    return round.id, admin.id, reporters


# ---- 1. effective dates ------------------------------------------------------------------------


def test_a_later_recognition_or_import_never_changes_an_earlier_month(app, app_ctx, october):
    round_id, admin_id, _ = october
    round = db.session.get(Round, round_id)
    admin = _user(admin_id)
    # counted live (snapshot=None), so the rule itself is what is tested, not the freeze
    rows, overall = reports_completeness.completeness(round=round, user=admin, snapshot=None)
    assert (overall.expected, overall.received, overall.received_rate) == (4, 4, 100.0)
    assert _sql_expected(round_id) == 4

    # recognised today (直接认定), an old account; and a new account with its recognition (名单导入)
    old = make_institution(name="后来认定机构")
    _since(old, date(YEAR - 1, 1, 1))
    added, _skipped = recognition_set(
        institution_ids=[old.institution.id], term_start=YEAR - 1, term_end=YEAR + 2, note="", actor=admin
    )
    assert added == ["后来认定机构"]
    assert db.session.scalar(
        sa.select(Recognition.effective_on).where(Recognition.institution_id == old.institution.id)
    ) == (local_today())
    imported = make_institution(name="后来导入机构")
    db.session.add(
        Recognition(institution_id=imported.institution.id, term_start=YEAR - 1, term_end=YEAR + 2)
    )  # the default effective date is the day it is recorded
    db.session.commit()

    rows, overall = reports_completeness.completeness(round=round, user=admin, snapshot=None)
    assert (overall.expected, overall.received, overall.received_rate) == (4, 4, 100.0)
    assert _sql_expected(round_id) == 4
    missing = reports_completeness.missing_institutions(round=round, user=admin, snapshot=None)
    assert missing.total == 0


def test_an_account_opened_after_the_month_or_a_recognition_revoked_before_it_is_not_expected(app, app_ctx, october):
    round_id, admin_id, _ = october
    round = db.session.get(Round, round_id)
    late_account = make_institution(name="十一月开户机构")
    _since(late_account, date(YEAR, 11, 2))
    _recognise(late_account, date(YEAR, 9, 1))  # effective earlier, but no account in October
    revoked = make_institution(name="九月撤销机构")
    _since(revoked, date(YEAR, 1, 1))
    _recognise(revoked, date(YEAR, 1, 1))
    recognition = db.session.scalar(sa.select(Recognition).where(Recognition.institution_id == revoked.institution.id))
    recognition.revoked_at = china_midnight_utc(date(YEAR, 9, 30))
    db.session.commit()
    revoked_during = make_institution(name="十月撤销机构")
    _since(revoked_during, date(YEAR, 1, 1))
    _recognise(revoked_during, date(YEAR, 1, 1))
    recognition = db.session.scalar(
        sa.select(Recognition).where(Recognition.institution_id == revoked_during.institution.id)
    )
    recognition.revoked_at = china_midnight_utc(date(YEAR, 10, 15))  # still 应报 for October
    db.session.commit()
    _rows, overall = reports_completeness.completeness(round=round, user=_user(admin_id), snapshot=None)
    assert overall.expected == 5 == _sql_expected(round_id)
    names = [
        r.institution.name
        for r in reports_completeness.missing_institutions(round=round, user=_user(admin_id), snapshot=None).items
    ]
    assert names == ["十月撤销机构"]


def test_the_recognition_list_shows_the_effective_date(client, app, app_ctx, october):
    _round_id, admin_id, _ = october
    login(client, _user(admin_id))
    text = text_of(page(client.get(f"/reports/recognitions?year={YEAR}")))
    assert "生效日期" in text and f"{YEAR}-09-01" in text


# ---- 2. frozen periods ------------------------------------------------------------------------


def test_a_closed_period_freezes_on_first_read_and_later_changes_do_not_move_it(client, app, app_ctx, october):
    round_id, admin_id, reporters = october
    missing = make_institution(name="十月未报机构", city_code="430200")
    _since(missing, date(YEAR, 9, 1))
    _recognise(missing, date(YEAR, 9, 1))
    pending = make_institution(name="十月待审机构")
    _since(pending, date(YEAR, 9, 1))
    _recognise(pending, date(YEAR, 9, 1))
    pending_report = make_report(pending.id, round_id, status="submitted")
    db.session.rollback()

    login(client, _user(admin_id))
    soup = page(client.get(f"/reports/completeness?round_id={round_id}"))
    text = text_of(soup)
    assert "报送情况已于" in text and "冻结" in text
    assert "未报送机构（1 家）" in text and "十月未报机构" in text
    db.session.rollback()
    snapshot = db.session.scalar(sa.select(PeriodSnapshot).where(PeriodSnapshot.round_id == round_id))
    assert (snapshot.seq, snapshot.expected, snapshot.received, snapshot.late) == (1, 6, 5, 1)
    assert (snapshot.reports, snapshot.pending_review) == (4, 1)
    before = text_of(soup.find("table", class_="stats-table"))

    # afterwards: the pending report is approved, the missing one files a draft, a new recognition
    _approve(pending_report)
    extra = make_institution(name="十二月认定机构")
    _since(extra, date(YEAR - 1, 1, 1))
    _recognise(extra, date(YEAR, 9, 1))  # even one dated back: the frozen period does not move
    make_report(missing.id, round_id, status="submitted")
    db.session.rollback()
    soup = page(client.get(f"/reports/completeness?round_id={round_id}"))
    assert text_of(soup.find("table", class_="stats-table")) == before
    assert "未报送机构（1 家）" in text_of(soup) and "十二月认定机构" not in text_of(soup)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(PeriodSnapshot.id))) == 1
    assert (
        db.session.scalar(sa.select(sa.func.count(AuditLog.id)).where(AuditLog.action == "report.period_freeze")) == 1
    )
    # the live rule would now say otherwise: the snapshot is what holds
    live = reports_completeness.completeness(
        round=db.session.get(Round, round_id), user=_user(admin_id), snapshot=None
    )[1]
    assert (live.expected, live.received) == (7, 6)


def _export(client, query):
    response = client.get(f"/reports/completeness/missing.xlsx?{query}")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    return response, [row[2] for row in sheet.iter_rows(min_row=2, values_only=True)]


def test_the_missing_list_and_its_export_honour_the_filters(client, app, app_ctx, october):
    round_id, admin_id, _ = october
    types = dict(db.session.execute(sa.select(InstitutionType.name, InstitutionType.id)).all())
    made = {}
    for name, city, type_name, draft in (
        ("长沙综合未报", "430100", "综合服务机构", False),
        ("长沙专业草稿", "430100", "专业服务机构", True),
        ("株洲综合草稿", "430200", "综合服务机构", True),
    ):
        user = make_institution(name=name, city_code=city, county_code=None)
        user.institution.institution_type_id = types[type_name]
        _since(user, date(YEAR, 9, 1))
        _recognise(user, date(YEAR, 9, 1))
        if draft:
            make_report(user.id, round_id, status="draft")
        made[name] = user.id
    db.session.rollback()
    login(client, _user(admin_id))
    _response, names = _export(client, f"round_id={round_id}")
    assert sorted(names) == sorted(made)
    response, names = _export(client, f"round_id={round_id}&city_code=430100&state=draft")
    assert names == ["长沙专业草稿"]
    assert (
        "长沙市_草稿未提交" in response.headers["Content-Disposition"]
        or "%E8%8D%89%E7%A8%BF" in (response.headers["Content-Disposition"])
    )
    _response, names = _export(client, f"round_id={round_id}&institution_type_id={types['综合服务机构']}")
    assert sorted(names) == ["株洲综合草稿", "长沙综合未报"]
    text = text_of(page(client.get(f"/reports/completeness?round_id={round_id}&state=none")))
    assert "未报送机构（1 家）" in text and "长沙综合未报" in text
    # the page's export link carries the same filters
    soup = page(client.get(f"/reports/completeness?round_id={round_id}&state=draft&city_code=430200"))
    link = soup.find("a", string="导出未报送名单")["href"]
    assert "state=draft" in link and "city_code=430200" in link


def test_a_grant_reopens_a_frozen_period_keeps_the_snapshot_and_refreezes_after_the_window(app, app_ctx, october):
    round_id, admin_id, _ = october
    latecomer = make_institution(name="补报机构")
    _since(latecomer, date(YEAR, 9, 1))
    _recognise(latecomer, date(YEAR, 9, 1))
    round = db.session.get(Round, round_id)
    first = snapshots.snapshot_for(round)
    assert first.seq == 1 and first.received == 4 and first.expected == 5
    request = reopen_request_create(user=_user(latecomer.id), round_id=round_id, reason="系统故障未能按时填报")
    reopen_request_decide(request=request, grant=True, until=local_today(), actor=_user(admin_id))
    db.session.refresh(first)
    assert first.superseded_at is not None and "补报机构" in first.superseded_reason
    assert (
        db.session.scalar(sa.select(sa.func.count(AuditLog.id)).where(AuditLog.action == "report.period_reopen")) == 1
    )
    assert snapshots.snapshot_for(round) is None  # open while the window runs: read live
    assert "补报尚未结束" in snapshots.period_closure(round).open_reason
    make_report(latecomer.id, round_id, status="submitted", late=True)
    tomorrow = local_today() + timedelta(days=1)
    second = snapshots.snapshot_for(round, today=tomorrow)
    assert (second.seq, second.received, second.late) == (2, 5, 2)
    kept = db.session.scalars(sa.select(PeriodSnapshot).order_by(PeriodSnapshot.seq)).all()
    assert [(s.seq, s.superseded_at is None) for s in kept] == [(1, False), (2, True)]
    # the first snapshot still holds what it said
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(PeriodSnapshotRow.snapshot_id == first.id, PeriodSnapshotRow.received)
        )
        == 4
    )


def test_freezing_happens_once_however_many_threads_see_the_close(app, october):
    round_id, _admin_id, _ = october
    db.session.remove()
    errors = []

    def freeze():
        try:
            with app.app_context():
                round = db.session.get(Round, round_id)
                snapshot = snapshots.snapshot_for(round)
                assert snapshot is not None and snapshot.round_id == round_id
                db.session.remove()
        except Exception as error:  # re-raised below with the others
            errors.append(error)

    barrier = threading.Barrier(6)

    def run():
        barrier.wait(timeout=30)
        freeze()

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(PeriodSnapshot.id))) == 1
        assert (
            db.session.scalar(sa.select(sa.func.count(AuditLog.id)).where(AuditLog.action == "report.period_freeze"))
            == 1
        )


def test_parallel_page_views_of_a_closed_period_freeze_it_once(client, app, app_ctx, october, live_server):
    round_id, admin_id, _ = october
    admin = _user(admin_id).username
    db.session.rollback()
    visitors = [Visitor(live_server).log_in(admin) for _ in range(5)]
    responses = at_once(*(lambda v=v: v.get(f"/reports/completeness?round_id={round_id}") for v in visitors))
    assert [r.status_code for r in responses] == [200] * 5
    assert all("未报送机构（0 家）" in r.text for r in responses)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(PeriodSnapshot.id))) == 1


def test_one_current_snapshot_per_period_is_held_by_the_database(app, app_ctx, october):
    round_id, _admin_id, _ = october
    snapshots.snapshot_for(db.session.get(Round, round_id))
    db.session.add(PeriodSnapshot(round_id=round_id, seq=2, year=YEAR, month=10, closes_on=date(YEAR, 12, 31)))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


# ---- 季度通报 ---------------------------------------------------------------------------------


def _docx_text(data):
    from docx import Document

    document = Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += ["|".join(c.text for c in row.cells) for row in table.rows]
    return "\n".join(parts)


def test_a_closed_quarter_bulletin_is_the_same_after_later_recognitions_and_approvals(app, app_ctx, october):
    round_id, admin_id, reporters = october
    admin = _user(admin_id)
    for month in (11, 12):
        other = _round(month)
        for user_id in reporters[:2]:
            make_report(user_id, other.id, status="approved", categories={"融资服务": (3, 4, 5)})
    late_review = make_report(reporters[2], _round_id_of(11), status="submitted")
    first = bulletins.bulletin(year=YEAR, quarter=4, user=admin)
    assert first.complete and "均已截止" in first.status_line and "1 份调度数据待审核" in first.status_line
    first_text = _docx_text(bulletins.bulletin_docx(first))
    assert first.overall.expected == 12 and first.overall.received == 9

    # later: the pending report is approved, a new recognition back-dated into the quarter, an import
    _approve(late_review)
    newcomer = make_institution(name="季度后认定机构")
    _since(newcomer, date(YEAR - 1, 1, 1))
    _recognise(newcomer, date(YEAR, 10, 1))
    db.session.commit()
    again = bulletins.bulletin(year=YEAR, quarter=4, user=admin)
    assert _docx_text(bulletins.bulletin_docx(again)).replace(
        f"{local_today():%Y年%m月%d日}", ""
    ) == first_text.replace(f"{local_today():%Y年%m月%d日}", "")
    assert (again.overall.expected, again.overall.received) == (12, 9)
    assert again.dashboard.totals == first.dashboard.totals


def _round_id_of(month):
    return db.session.scalar(
        sa.select(Round.id).where(Round.kind == "report", Round.year == YEAR, Round.month == month)
    )


def test_a_quarter_with_an_open_month_is_labelled_unfinished_with_the_month_named(client, app, app_ctx):
    today = local_today()
    quarter = (today.month - 1) // 3 + 1
    make_round(
        "report",
        year=today.year,
        month=today.month,
        title="本月调度",
        opens_on=today,
        closes_on=today + timedelta(days=3),
    )
    admin = make_province_admin()
    b = bulletins.bulletin(year=today.year, quarter=quarter, user=admin)
    assert not b.complete
    assert f"本季度尚未完结：{today.year}年{today.month}月调度期尚未截止" in b.status_line
    login(client, admin)
    text = text_of(page(client.get(f"/reports/bulletin?year={today.year}&quarter={quarter}")))
    assert "未完结" in text and f"{today.year}年{today.month}月调度期尚未截止" in text
    docx = _docx_text(bulletins.bulletin_docx(b))
    assert "（未完结）" in docx and "暂不与上季度、上年同期比较" in docx and "下降" not in docx


def test_the_daily_schedule_freezes_the_closed_periods_once(app, app_ctx, october):
    round_id, _admin_id, _ = october
    open_round = make_round(
        "report", year=local_today().year, month=local_today().month, title="本月", closes_on=local_today()
    )
    result = snapshots.freeze_due(params={}, today=local_today())
    db.session.commit()
    assert "冻结了 1 个" in result
    assert db.session.scalar(sa.select(PeriodSnapshot.round_id)) == round_id
    assert snapshots.freeze_due(params={}, today=local_today()) == "今天没有需要冻结的调度期"
    assert open_round.id != round_id
