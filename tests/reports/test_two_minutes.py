"""A monthly report in two minutes (issue 18, item 4): the earliest open unfiled month by default,
a month's 调度期 opens when it ends, standing figures carried over with a "沿用上月" note, the
institution's own categories first, and 申请补报 on a locked report's row."""

from datetime import date, datetime, timedelta

import time_machine

from app.blueprints.auth.models import Institution
from app.blueprints.reports.models import MonthlyReport
from app.blueprints.reports.services import default_opening
from app.extensions import db
from app.reference.models import ServiceCategory
from app.utils import CHINA, local_today
from tests.helpers import login, page, text_of
from tests.reports.conftest import make_report, report_round
from tests.reports.test_flow import new_report


def test_the_default_is_the_earliest_open_month_not_yet_filed(client, app, people):
    # 11月 and 12月 both open (say), 12月 filed: 基础数据填报 starts 11月, and the list says so
    with app.app_context():
        report_round(people.year - 1, 11)
        make_report(people.institution.id, people.round_id, status="submitted")
    login(client, people.institution.username)
    soup = page(client.get("/reports/"))
    assert f"{people.year - 1}年11月调度" in text_of(soup.select_one(".panel-title + p"))
    options = [o["value"] for o in soup.select("select[name=round_id] option")]
    assert str(people.round_id) not in options  # filed: not offered again
    report_id = new_report(client)  # the button, no round chosen
    with app.app_context():
        report = db.session.get(MonthlyReport, report_id)
        assert (report.year, report.month) == (people.year - 1, 11)
    # every open month has a report now: the button says why it is off, not "该月份已填报过", and
    # the month whose report is only a draft is named, with 编辑 on its row
    soup = page(client.get("/reports/"))
    reason = text_of(soup.select_one("#closed-reason"))
    assert "均已建立填报" in reason and f"其中 {people.year - 1}年11月 的调度数据尚未提交" in reason
    assert "均已填报并提交" not in reason
    edits = [
        a["href"] for a in soup.select("section[aria-labelledby=periods-title] td.ops a") if a.get_text() == "编辑"
    ]
    assert edits == [f"/reports/{report_id}/step/basic"]  # the submitted 12月 offers 查看 only
    with app.app_context():
        db.session.get(MonthlyReport, report_id).status = "submitted"
        db.session.commit()
    soup = page(client.get("/reports/"))
    assert "均已填报并提交" in text_of(soup.select_one("#closed-reason"))
    assert not [a for a in soup.select("section[aria-labelledby=periods-title] td.ops a") if a.get_text() == "编辑"]


def test_the_only_open_month_as_a_draft_is_named_alone(client, app, people):
    login(client, people.institution.username)
    report_id = new_report(client)
    soup = page(client.get("/reports/"))
    reason = text_of(soup.select_one("#closed-reason"))
    assert reason.startswith(f"{people.year}年") and "的调度数据已建立，尚未提交" in reason, reason
    assert "均已" not in reason
    edits = [
        a["href"] for a in soup.select("section[aria-labelledby=periods-title] td.ops a") if a.get_text() == "编辑"
    ]
    assert edits == [f"/reports/{report_id}/step/basic"]


def test_several_unfiled_months_are_offered_earliest_first(client, app, people):
    with app.app_context():
        earlier = report_round(people.year - 1, 12).id
    login(client, people.institution.username)
    options = [o["value"] for o in page(client.get("/reports/")).select("select[name=round_id] option")]
    assert options == [str(earlier), str(people.round_id)]


def test_a_month_opens_when_it_ends(client, app, people):
    assert default_opening(2026, 12) == date(2027, 1, 1) and default_opening(2026, 6) == date(2026, 7, 1)
    with time_machine.travel(datetime(2030, 12, 1, 9, tzinfo=CHINA), tick=False):
        login(client, people.province.username)
        soup = page(client.get("/reports/periods"))
        # on 2030-12-01 the month to open is November (December has not happened yet)
        assert soup.select_one("#year")["value"] == "2030"
        assert soup.select_one("#month option[selected]")["value"] == "11"
        assert client.post("/reports/periods", data={"year": "2030", "month": "12"}).status_code == 303
        text = text_of(page(client.get("/reports/periods")))
        assert "2031-01-01" in text and "2031-01-10" in text and "未开始" in text


def test_standing_figures_carry_over_with_a_visible_note(client, app, people):
    with app.app_context():
        year, month = (people.year, people.month - 1) if people.month > 1 else (people.year - 1, 12)
        old = report_round(year, month, opens_on=local_today() - timedelta(days=40))
        make_report(
            people.institution.id, old.id, floor_area=777, service_assets=123.45, staff_count=33, site_type="租用"
        )
    login(client, people.institution.username)
    report_id = new_report(client, people.round_id)
    soup = page(client.get(f"/reports/{report_id}/step/basic"))
    note = soup.select_one("#carried-note")
    assert note is not None and "沿用上月" in text_of(note) and f"{year}年{month}月" in text_of(note)
    assert soup.find("input", {"name": "floor_area"})["value"] == "777.00"
    # once the figures are changed the note no longer claims they are last month's
    client.post(f"/reports/{report_id}/step/basic", data=people.data(floor_area="800"))
    assert page(client.get(f"/reports/{report_id}/step/basic")).select_one("#carried-note") is None


def test_no_note_without_a_previous_report(client, people):
    login(client, people.institution.username)
    report_id = new_report(client, people.round_id)
    assert page(client.get(f"/reports/{report_id}/step/basic")).select_one("#carried-note") is None


def test_the_institutions_categories_first_and_the_others_folded(client, app, people):
    with app.app_context():
        institution = db.session.get(Institution, people.institution.institution_id)
        mine = [db.session.get(ServiceCategory, people.cat[name]) for name in ("融资服务", "法律服务", "政策服务")]
        institution.service_categories = mine
        db.session.commit()
        total = len(people.cat)
    login(client, people.institution.username)
    report_id = new_report(client, people.round_id)
    soup = page(client.get(f"/reports/{report_id}/step/basic"))
    folded = soup.select_one("details.more-categories")
    assert folded is not None and not folded.has_attr("open")
    outside = [el["name"] for el in soup.select("input[name$=_activities]") if not el.find_parent("details")]
    assert sorted(outside) == sorted(f"cat{people.cat[n]}_activities" for n in ("融资服务", "法律服务", "政策服务"))
    assert len(folded.select("input[name$=_activities]")) == total - 3
    assert f"{total - 3} 项" in text_of(folded.summary)
    # a folded category with an error opens, so the error is seen
    other = people.cat["创业服务"]
    soup = page(
        client.post(f"/reports/{report_id}/step/basic", data=people.data(**{f"cat{other}_activities": "-1"})), 422
    )
    assert soup.select_one("details.more-categories").has_attr("open")


def test_every_category_open_when_the_institution_chose_none(client, people):
    login(client, people.institution.username)
    report_id = new_report(client, people.round_id)
    assert page(client.get(f"/reports/{report_id}/step/basic")).select_one("details.more-categories") is None


def test_the_periods_table_offers_edit_by_the_engine_rule(client, app, people):
    """编辑 on a 调度期 row follows filing_check_editable: a returned report stays editable after the
    deadline (the reviewer asked for the change); a draft past it is locked (申请补报 instead)."""
    with app.app_context():
        today = local_today()
        past = dict(opens_on=today - timedelta(days=40), closes_on=today - timedelta(days=20))
        returned = make_report(people.institution.id, report_round(people.year - 1, 1, **past).id, status="returned")
        locked = make_report(people.institution.id, report_round(people.year - 1, 2, **past).id, status="draft")
    login(client, people.institution.username)
    soup = page(client.get("/reports/"))
    rows = soup.select("section[aria-labelledby=periods-title] tbody tr")
    links = {tr.find("td").get_text(): {a.get_text(): a["href"] for a in tr.find_all("a")} for tr in rows}
    assert links[f"{people.year - 1}年1月"]["编辑"] == f"/reports/{returned}/step/basic"
    assert "编辑" not in links[f"{people.year - 1}年2月"] and "申请补报" in links[f"{people.year - 1}年2月"]
    assert client.get(f"/reports/{returned}/step/basic").status_code == 200
    assert client.get(f"/reports/{locked}/step/basic").status_code != 200


def test_a_locked_report_offers_reopen_instead_of_edit(client, app, people):
    with app.app_context():
        today = local_today()
        old = report_round(2020, 3, opens_on=today - timedelta(days=60), closes_on=today - timedelta(days=20))
        report_id = make_report(people.institution.id, old.id, status="draft")
        old_id = old.id
    login(client, people.institution.username)
    soup = page(client.get("/reports/?year=2020"))
    row = next(tr for tr in soup.select("table.list tbody tr") if tr.find("a", href=f"/reports/{report_id}"))
    links = {a.get_text(): a["href"] for a in row.find_all("a")}
    assert "编辑" not in links
    assert links["申请补报"] == f"/reports/periods/{old_id}/reopen"
