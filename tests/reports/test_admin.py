"""调度期管理, 核心服务机构认定, 管理首页 counts, seed-demo, the pages each admin can open."""

from datetime import date, datetime

import pytest
import sqlalchemy as sa
import time_machine

from app.audit import AuditLog
from app.blueprints.applications.models import Recognition
from app.blueprints.applications.services import recognition_current
from app.extensions import db
from app.filings.models import Round
from app.utils import CHINA, local_today
from tests.factories import make_institution
from tests.helpers import login, page, text_of
from tests.reports.conftest import make_report


def test_open_a_period_with_the_default_deadline(client, app, people):
    login(client, people.province.username)
    response = client.post("/reports/periods", data={"year": "2025", "month": "6"})
    assert response.status_code == 303
    with app.app_context():
        round = db.session.scalar(sa.select(Round).where(Round.kind == "report", Round.year == 2025, Round.month == 6))
        assert (
            # June's 调度期 opens when June has ended, by default
            str(round.opens_on) == "2025-07-01"
            and str(round.closes_on) == "2025-07-10"
            and round.title == "2025年6月调度"
        )
        assert db.session.scalar(sa.select(AuditLog.id).where(AuditLog.action == "round.create")) is not None
    soup = page(client.post("/reports/periods", data={"year": "2025", "month": "6"}), status=422)
    assert "调度期已经开启" in text_of(soup)
    soup = page(
        client.post(
            "/reports/periods", data={"year": "2025", "month": "7", "opens_on": "2025-07-05", "closes_on": "2025-07-01"}
        ),
        status=422,
    )
    assert "截止日期不能早于开始日期" in text_of(soup)
    text = text_of(page(client.get("/reports/periods")))
    assert "2025年6月" in text and "2025-07-10" in text


def test_direct_recognition_search_add_skip_and_revoke(client, app, people):
    with app.app_context():
        new = make_institution(name="长沙名单机构", city_code="430100", county_code="430103")
        new_id = new.institution.id
    login(client, people.province.username)
    soup = page(client.get("/reports/recognitions?q=长沙"))
    text = text_of(soup)
    assert "长沙名单机构" in text and "已认定" in text  # 长沙调度测试机构 is recognised already
    assert soup.find("input", {"name": "institution_id", "value": str(new_id)}) is not None
    assert soup.find("input", {"name": "institution_id", "value": str(people.institution.institution_id)}) is None
    response = client.post(
        "/reports/recognitions",
        data={
            "institution_id": [str(new_id)],
            "term_start": "2023",
            "term_end": "2026",
            "note": "湘工信〔2023〕名单",
            "q": "长沙",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        assert recognition_current(institution_id=new_id, year=2024) is not None
        assert recognition_current(institution_id=new_id, year=2027) is None
        assert db.session.scalar(sa.select(AuditLog.summary).where(AuditLog.action == "recognition.set")).startswith(
            "直接认定核心服务机构 长沙名单机构"
        )
    # again: skipped, not doubled
    client.post(
        "/reports/recognitions",
        data={"institution_id": [str(new_id)], "term_start": "2024", "term_end": "2026", "note": "x"},
    )
    with app.app_context():
        assert (
            db.session.scalar(sa.select(sa.func.count(Recognition.id)).where(Recognition.institution_id == new_id)) == 1
        )
    soup = page(
        client.post(
            "/reports/recognitions",
            data={"institution_id": [str(new_id)], "term_start": "2026", "term_end": "2023", "note": "x", "q": "长沙"},
        ),
        status=422,
    )
    assert "截止年度不能早于起始年度" in text_of(soup)
    with app.app_context():
        recognition_id = db.session.scalar(sa.select(Recognition.id).where(Recognition.institution_id == new_id))
    assert client.post(f"/reports/recognitions/{recognition_id}/revoke").status_code == 303
    with app.app_context():
        assert recognition_current(institution_id=new_id, year=local_today().year) is None
    login(client, people.city.username)
    assert client.get("/reports/recognitions").status_code == 403


def test_admin_home_counts_reports_and_reopen_requests(client, app, people):
    with app.app_context():
        make_report(people.institution.id, people.round_id, status="submitted")
        make_report(people.other.id, people.round_id, status="submitted")
    login(client, people.city.username)
    text = text_of(page(client.get("/admin/")))
    assert "待审核调度数据" in text and "待处理补报申请" in text
    with app.test_request_context():
        from app.blueprints.admin.services import home_counts
        from tests.reports.conftest import user

        counts = {c.label: c.value for c in home_counts(user(people.city.username))}
        assert counts["待审核调度数据"] == 1
        counts = {c.label: c.value for c in home_counts(user(people.province.username))}
        assert counts["待审核调度数据"] == 2 and counts["待处理补报申请"] == 0


def _china(*args):
    """A moment in China time, for time_machine (tick=False: the clock stands still)."""
    return time_machine.travel(datetime(*args, tzinfo=CHINA), tick=False)


@pytest.mark.parametrize(
    "moment, existing, term",
    [
        ((2026, 6, 15, 10), None, "2023-2026"),  # the reference list, while it lasts
        ((2027, 1, 2, 10), None, "2027-2030"),  # after it: three years from this year
        ((2027, 1, 2, 10), (2025, 2028), "2025-2028"),  # the list in force in the database
        ((2027, 1, 1, 0, 30), None, "2027-2030"),  # 00:30 in China is still 2026 in UTC
    ],
)
def test_seed_demo_opens_last_month_and_recognises_the_demo_institution(app, moment, existing, term):
    from app.blueprints.auth.models import User
    from app.demo import seed_demo_data

    with _china(*moment), app.test_request_context():
        if existing:
            recognised = make_institution(name="已在名单的机构", city_code="430100", county_code="430103")
            db.session.add(
                Recognition(institution_id=recognised.institution.id, term_start=existing[0], term_end=existing[1])
            )
            db.session.commit()
        seed_demo_data()
        seed_demo_data()  # idempotent
        rounds = db.session.scalars(sa.select(Round).where(Round.kind == "report").order_by(Round.opens_on)).all()
        # the month that has ended: its 调度期 is open now (the current month's opens when it ends);
        # the twelve before it are closed, with the demo province's approved reports (app/demo_province.py)
        year, month = moment[:2]
        assert (rounds[-1].year, rounds[-1].month) == ((year - 1, 12) if month == 1 else (year, month - 1))
        assert rounds[-1].opens_on <= date(*moment[:3]) <= rounds[-1].closes_on
        assert len(rounds) == 13 and all(r.closes_on < date(*moment[:3]) for r in rounds[:-1])
        institution = db.session.scalar(sa.select(User).where(User.username == "jigou@example.com")).institution
        assert (
            db.session.scalar(
                sa.select(sa.func.count(Recognition.id)).where(Recognition.institution_id == institution.id)
            )
            == 1
        )
        assert recognition_current(institution_id=institution.id, year=moment[0]).term_label == term


@pytest.mark.parametrize(
    "moment, terms, offered",
    [
        ((2026, 12, 31, 23, 30), [], ("2023", "2026")),
        ((2027, 1, 2, 10), [], ("2027", "2030")),
        ((2027, 1, 2, 10), [(2023, 2026), (2024, 2027), (2026, 2029)], ("2026", "2029")),  # the newest list in force
        ((2027, 1, 2, 10), [(2027, 2030, "revoked")], ("2027", "2030")),
        ((2026, 3, 1, 10), [(2028, 2031)], ("2023", "2026")),  # a future term is not in force yet
    ],
)
def test_direct_recognition_offers_the_current_term(client, app, people, moment, terms, offered):
    from app.utils import utcnow

    with _china(*moment):
        with app.app_context():
            db.session.execute(sa.delete(Recognition))
            for n, term in enumerate(terms):
                holder = make_institution(name=f"名单机构{n}", city_code="430100", county_code="430103")
                db.session.add(
                    Recognition(
                        institution_id=holder.institution.id,
                        term_start=term[0],
                        term_end=term[1],
                        revoked_at=utcnow() if len(term) > 2 else None,
                    )
                )
            db.session.commit()
        login(client, people.province.username)
        soup = page(client.get("/reports/recognitions?q=长沙调度"))  # an institution to add: the form shows
        assert (
            soup.find("input", {"name": "term_start"})["value"],
            soup.find("input", {"name": "term_end"})["value"],
        ) == offered


def test_admin_pages_open_for_both_admins(client, app, people):
    with app.app_context():
        make_report(people.institution.id, people.round_id, categories={"政策服务": (1, 2, 3)})
    for who in (people.province, people.city):
        login(client, who.username)
        for path in (
            "/reports/completeness",
            "/reports/stats",
            "/reports/exports",
            "/reports/reopen-requests",
            "/reports/review",
        ):
            page(client.get(path))
    login(client, people.province.username)
    for path in ("/reports/bulletin", "/reports/periods", "/reports/recognitions"):
        page(client.get(path))
    text = text_of(page(client.get("/admin/")))
    for label in (
        "报送情况",
        "调度大数据",
        "季度通报",
        "调度数据导出",
        "调度期管理",
        "核心服务机构认定",
        "调度数据审核",
        "补报申请",
    ):
        assert label in text, label


def test_entry_button_leads_to_the_reports(client, people):
    login(client, people.institution.username)
    assert client.get("/entry/report").headers["Location"].endswith("/reports/")
    login(client, people.city.username)
    assert client.get("/entry/report").headers["Location"].endswith("/reports/review")
