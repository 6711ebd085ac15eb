"""报送情况 and 催报: expected vs received by 市州, the missing list, reminders only to the missing."""

import sqlalchemy as sa

from app.audit import AuditLog
from app.blueprints.applications.models import Recognition
from app.blueprints.auth.models import Institution
from app.blueprints.reports.completeness import completeness
from app.blueprints.reports.models import MonthlyReport
from app.extensions import db
from app.filings.models import Round
from app.inbox import Message
from app.reference.models import DictItem
from app.sms import SmsMessage
from tests.factories import make_institution
from tests.helpers import login, page, text_of
from tests.reports.conftest import make_report, recognise, user


def _setup(app, people):
    """长沙: the people institution (on time), one late, one with a draft only, one missing;
    株洲: people.other missing. The unrecognised stranger is not expected."""
    with app.app_context():
        late = make_institution(name="长沙逾期机构", city_code="430100", county_code="430102")
        draft = make_institution(name="长沙草稿机构", city_code="430100", county_code="430102")
        missing = make_institution(name="长沙未报机构", city_code="430100", county_code="430102", phone="13900001111")
        for u in (late, draft, missing):
            recognise(u.institution.id)
        make_report(people.institution.id, people.round_id, status="submitted")
        make_report(late.id, people.round_id, status="approved", late=True)
        make_report(draft.id, people.round_id, status="draft")
        return {"late": late.id, "draft": draft.id, "missing": missing.id}


def test_counts_by_city_and_overall(app, people):
    ids = _setup(app, people)
    with app.test_request_context():
        province = user(people.province.username)
        rows, overall = completeness(round=db.session.get(Round, people.round_id), user=province)
        changsha = next(r for r in rows if r.code == "430100")
        zhuzhou = next(r for r in rows if r.code == "430200")
        assert (changsha.expected, changsha.received, changsha.late, changsha.on_time, changsha.missing) == (
            4,
            2,
            1,
            1,
            2,
        )
        assert (zhuzhou.expected, zhuzhou.received, zhuzhou.missing) == (1, 0, 1)
        assert (overall.expected, overall.received, overall.late) == (5, 2, 1)
        assert changsha.received_rate == 50.0 and changsha.on_time_rate == 25.0
        city = user(people.city.username)
        rows, overall = completeness(round=db.session.get(Round, people.round_id), user=city)
        assert [r.code for r in rows] == ["430100"] and overall.expected == 4
    assert ids


def test_the_page_lists_only_the_missing_and_a_city_admin_its_own(client, app, people):
    _setup(app, people)
    login(client, people.province.username)
    soup = page(client.get(f"/reports/completeness?round_id={people.round_id}"))
    text = text_of(soup)
    assert "未报送机构（3 家）" in text
    names = [
        row.find_all("td")[1].get_text()
        for row in soup.find(id="missing-title").find_parent("section").select("tbody tr")
    ]
    assert sorted(names) == sorted(["长沙草稿机构", "长沙未报机构", "株洲调度测试机构"])
    assert "草稿未提交" in text
    login(client, people.city.username)
    text = text_of(page(client.get(f"/reports/completeness?round_id={people.round_id}")))
    assert "未报送机构（2 家）" in text and "株洲调度测试机构" not in text


def test_reminders_go_to_the_missing_only(client, app, people):
    ids = _setup(app, people)
    login(client, people.city.username)
    response = client.post("/reports/completeness/remind", data={"round_id": people.round_id}, follow_redirects=True)
    assert "已向 2 家未报送的机构发送提醒" in response.get_data(as_text=True)
    with app.app_context():
        reminded = list(db.session.scalars(sa.select(Message.user_id).where(Message.title.like("请按时填报%"))))
        assert sorted(reminded) == sorted(
            [ids["draft"], ids["missing"]]
        )  # not the reporters, not 株洲, not the unrecognised
        assert db.session.scalar(sa.select(sa.func.count(SmsMessage.id))) == 2
        assert "13900001111" in set(db.session.scalars(sa.select(SmsMessage.phone)))
        audit = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "report.remind"))
        assert audit is not None and "提醒 2 家" in audit.summary


def test_province_reminds_the_whole_province(client, app, people):
    ids = _setup(app, people)
    login(client, people.province.username)
    client.post("/reports/completeness/remind", data={"round_id": people.round_id})
    with app.app_context():
        reminded = set(db.session.scalars(sa.select(Message.user_id)))
        assert reminded == {ids["draft"], ids["missing"], people.other.id}


def test_after_the_deadline_the_reminder_says_so(client, app, people):
    _setup(app, people)
    with app.app_context():
        round = db.session.get(Round, people.round_id)
        round.closes_on = round.opens_on
        db.session.commit()
    login(client, people.province.username)
    client.post("/reports/completeness/remind", data={"round_id": people.round_id, "city_code": "430200"})
    with app.app_context():
        bodies = list(db.session.scalars(sa.select(Message.body)))
        assert len(bodies) == 1 and "已于" in bodies[0] and "申请补报" in bodies[0]


def test_no_period_yet_says_so(client, app, people):
    with app.app_context():
        db.session.execute(sa.delete(Round))
        db.session.commit()
    login(client, people.province.username)
    assert "尚未开启调度期" in text_of(page(client.get("/reports/completeness")))


def test_missing_list_length_matches_sql_on_every_scope(client, app, people):
    """The list's 家 and pager come from 报送情况's own 未报 figures when only the 市州 filters it
    (no count query): they must equal a plain SQL count, over more than one page."""
    _setup(app, people)
    with app.app_context():
        for n in range(33):
            recognise(make_institution(name=f"长沙待报机构{n:02d}", city_code="430100").institution.id)
        kind = db.session.scalar(sa.select(DictItem).where(DictItem.kind == "institution_type"))

    def sql_missing(city=None):
        expected = sa.select(Recognition.institution_id)
        reported = sa.select(MonthlyReport.institution_id).where(
            MonthlyReport.round_id == people.round_id, MonthlyReport.status != "draft"
        )
        query = sa.select(sa.func.count(Institution.id)).where(
            Institution.id.in_(expected), Institution.id.not_in(reported)
        )
        if city:
            query = query.where(Institution.city_code == city)
        with app.app_context():
            return db.session.scalar(query)

    def listed(url):
        soup = page(client.get(url))
        title = soup.find(id="missing-title").get_text()
        rows = soup.find(id="missing-title").find_parent("section").select("tbody tr")
        return int(title.split("（")[1].split(" ")[0]), len(rows), text_of(soup)

    base = f"/reports/completeness?round_id={people.round_id}"
    login(client, people.province.username)
    assert sql_missing() == 36
    total, shown, text = listed(base)
    assert (total, shown) == (36, 30) and "共 36 条记录" in text
    total, shown, text = listed(base + "&page=2")
    assert (total, shown) == (36, 6)
    total, shown, _ = listed(base + "&city_code=430200")
    assert total == shown == sql_missing("430200") == 1
    total, _shown, _ = listed(base + "&city_code=430100")
    assert total == sql_missing("430100") == 35
    total, shown, _ = listed(base + "&state=draft")
    assert total == shown == 1  # filtered beyond the 市州: counted by the list's own query
    total, _shown, _ = listed(base + f"&institution_type_id={kind.id}")
    with app.app_context():
        typed = db.session.scalar(
            sa.select(sa.func.count(Institution.id)).where(
                Institution.institution_type_id == kind.id,
                Institution.id.in_(sa.select(Recognition.institution_id)),
                Institution.id.not_in(
                    sa.select(MonthlyReport.institution_id).where(
                        MonthlyReport.round_id == people.round_id, MonthlyReport.status != "draft"
                    )
                ),
            )
        )
    assert total == typed
    login(client, people.city.username)
    total, shown, text = listed(base)
    assert total == sql_missing("430100") == 35 and shown == 30 and "共 35 条记录" in text
