"""机构详情 (admin.show_institution): one page per institution with its 认定, filings of every kind,
the 12-month grid of its monthly reports, 催报, 企业投诉, account and 操作日志 events.

Months are chosen relative to today (China time) so the tests hold in any month: the grid tests
use a year two years back, where every month is over."""

from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.audit import AuditLog
from app.blueprints.applications.models import CoreApplication, Recognition
from app.blueprints.reports.models import ReportReminder
from app.extensions import db
from app.filings import workflow
from app.utils import local_today, utcnow
from tests.admin.conftest import signed_in
from tests.complaints.conftest import make_complaint
from tests.factories import make_city_admin, make_enterprise, make_institution, make_round
from tests.helpers import page, text_of, with_module
from tests.reports.conftest import make_report


def url(institution_user, **args):
    query = "&".join(f"{key}={value}" for key, value in args.items())
    return f"/admin/institutions/{institution_user.institution.id}" + (f"?{query}" if query else "")


def section(soup, key):
    found = soup.find(id=f"section-{key}")
    assert found is not None, f"no section {key}"
    return found


def grid_cells(soup):
    table = section(soup, "reports").find("table")
    heads = [" ".join(th.get_text(" ").split()) for th in table.find("thead").find_all("th")]
    cells = table.find("tbody").find_all("td")
    return heads, cells


def cell_status(cell):
    return cell.find("span", class_="status").get_text(strip=True)


def cell_links(cell):
    return {a.get_text(strip=True): a["href"] for a in cell.find_all("a")}


@pytest.fixture
def past_year():
    return local_today().year - 2


@pytest.fixture
def reporting(app_ctx, past_year):
    """A 长沙市 institution (its account made the year before) recognised from ``past_year``-01-01
    until its revocation on 07-01, with
    reports for 1月 (已通过), 2月 (待审核), 3月 (已退回, filed late) and 4月 (草稿), none for 5月-7月,
    and two reminders for 5月."""
    inst = make_institution(name="长沙网格测试机构")
    inst.institution.created_at = datetime(past_year - 1, 12, 1)  # the account existed then
    db.session.add(
        Recognition(
            institution_id=inst.institution.id,
            term_start=past_year,
            term_end=past_year + 3,
            effective_on=date(past_year, 1, 1),
            revoked_at=datetime(past_year, 6, 30, 16, 30),  # 07-01 00:30 China time
        )
    )
    db.session.commit()
    rounds = {
        month: make_round(
            "report",
            year=past_year,
            month=month,
            title=f"{past_year}年{month}月调度",
            opens_on=datetime(past_year, month, 28).date(),
            closes_on=datetime(past_year, month, 28).date() + timedelta(days=10),
        )
        for month in range(1, 8)
    }
    reports = {
        1: make_report(inst.id, rounds[1].id, status=workflow.APPROVED),
        2: make_report(inst.id, rounds[2].id, status=workflow.SUBMITTED),
        3: make_report(inst.id, rounds[3].id, status=workflow.RETURNED, late=True),
        4: make_report(inst.id, rounds[4].id, status=workflow.DRAFT),
    }
    db.session.add(
        ReportReminder(
            round_id=rounds[5].id, institution_id=inst.institution.id, sender_level="city", times=2, phone=inst.phone
        )
    )
    db.session.commit()
    return inst, reports, rounds


def test_grid_of_a_chosen_year(province, reporting, past_year):
    inst, reports, rounds = reporting
    soup = page(province.get(url(inst, year=past_year)))
    heads, cells = grid_cells(soup)
    assert heads == [f"{past_year}年 1月", *(f"{m}月" for m in range(2, 13))]
    states = [cell_status(c) for c in cells]
    # 7月: recognised on its first day (revoked at 00:30 China time); 8月 on: revoked before it began
    assert states == ["已通过", "待审核", "已退回", "草稿", "未报送", "未报送", "未报送"] + ["不需报送"] * 5
    # the province admin may decide a one-level report: 审核 on the pending one, 查看 on the others
    assert cell_links(cells[0]) == {"查看": f"/reports/{reports[1]}"}
    assert cell_links(cells[1]) == {"查看": f"/reports/{reports[1 + 1]}", "审核": f"/reports/{reports[2]}/review"}
    assert cell_links(cells[3]) == {}  # a draft is the owner's only
    assert "逾期报送" in cells[2].get_text() and "催报 2 次" in cells[4].get_text()
    reminders = text_of(section(soup, "reminders"))
    assert f"{past_year}年5月调度" in reminders and "市级" in reminders and inst.phone in reminders
    recognitions = text_of(section(soup, "recognitions"))
    assert f"{past_year}-{past_year + 3}" in recognitions and "已撤销" in recognitions


def test_grid_defaults_to_the_twelve_months_ending_now(province, reporting):
    inst, _, _ = reporting
    today = local_today()
    for query in ({}, {"year": "abc"}, {"year": "99999999999"}, {"year": "1900"}):
        soup = page(province.get(url(inst, **query)))
        heads, cells = grid_cells(soup)
        assert len(cells) == 12
        assert heads[-1].endswith(f"{today.month}月") and f"{today.year}年" in " ".join(heads)
        assert cell_status(cells[-1]) == "未到报送期"  # the month is not over: its 调度期 has not opened
        selected = soup.find("select", id="grid-year").find("option", selected=True)
        assert selected.get_text() == "最近12个月"


def test_city_admin_sees_its_own_institutions_only(app, app_ctx, reporting, past_year):
    inst, reports, _ = reporting
    elsewhere = make_institution(name="株洲机构", city_code="430200", county_code="430202")
    city = signed_in(app.test_client(), make_city_admin("430100"))
    soup = page(city.get(url(inst, year=past_year)))
    assert soup.find(id="section-audit") is None  # the 操作日志 stays the province's
    _, cells = grid_cells(soup)
    assert cell_links(cells[1]) == {"查看": f"/reports/{reports[2]}", "审核": f"/reports/{reports[2]}/review"}
    assert city.get(url(elsewhere)).status_code == 404
    assert city.get("/admin/institutions/987654").status_code == 404
    other_city = signed_in(app.test_client(), make_city_admin("430200"))
    assert other_city.get(url(inst)).status_code == 404
    assert page(other_city.get(url(elsewhere)))


def test_applications_and_nominations_with_their_links(app, app_ctx, province):
    from tests.awards.conftest import make_nomination

    inst = make_institution(name="申报测试机构")
    application_round = make_round("application", title="2026年核心服务机构申报")
    award_round = make_round("award", title="2026年度优秀评选")
    submitted = CoreApplication(
        owner_id=inst.id,
        institution_id=inst.institution.id,
        round_id=application_round.id,
        city_code="430100",
        status=workflow.SUBMITTED,
        submitted_at=utcnow(),
    )
    db.session.add(submitted)
    db.session.commit()
    product = make_nomination("product", inst.id, award_round.id, product_name="融资对接服务包")
    draft = make_nomination("institution", inst.id, award_round.id, status=workflow.DRAFT)
    city = signed_in(app.test_client(), make_city_admin("430100"))

    applications = section(page(city.get(url(inst))), "applications")
    assert "2026年核心服务机构申报" in text_of(applications) and "待初审" in text_of(applications)
    links = {a.get_text(strip=True): a["href"] for a in applications.find_all("a")}
    assert links == {"查看": f"/applications/{submitted.id}", "审核": f"/applications/{submitted.id}/review"}
    # the province acts after the 市州: 查看 only while it waits for 初审
    applications = section(page(province.get(url(inst))), "applications")
    assert [a.get_text(strip=True) for a in applications.find_all("a")] == ["查看"]

    awards = section(page(province.get(url(inst))), "awards")
    rows = awards.find("tbody").find_all("tr")
    assert len(rows) == 2
    texts = [text_of(row) for row in rows]
    product_row = next(r for r, t in zip(rows, texts) if "融资对接服务包" in t)
    draft_row = next(r for r, t in zip(rows, texts) if "草稿" in t)
    assert "优秀服务产品" in text_of(product_row) and "资格审查通过" in text_of(product_row)
    assert {a.get_text(strip=True) for a in product_row.find_all("a")} == {"查看", "审核"}
    assert f"/awards/products/{product}/review" in str(product_row)
    assert draft_row.find("a") is None and "草稿仅机构可见" in text_of(draft_row)
    assert str(draft) not in "".join(a["href"] for a in awards.find_all("a"))


def test_complaints_against_the_institution(app, app_ctx, province):
    inst = make_institution(name="被投诉的服务中心")
    routed = make_complaint(respondent_name="被投诉的服务中心", assigned_city_code="430100", status="transferred")
    kept = make_complaint(respondent_name="被投诉的服务中心", company_name="省里处理的投诉企业")
    make_complaint(respondent_name="另一家服务中心", company_name="无关企业")
    complaints = section(page(province.get(url(inst))), "complaints")
    text = text_of(complaints)
    assert routed.ticket_no in text and kept.ticket_no in text and "无关企业" not in text
    assert "已转办" in text and "待受理" in text
    assert f"/complaints/admin/{kept.id}" in str(complaints)
    # a city admin sees what its 投诉列表 shows: the complaints transferred to its 市州
    city = signed_in(app.test_client(), make_city_admin("430100"))
    text = text_of(section(page(city.get(url(inst))), "complaints"))
    assert routed.ticket_no in text and kept.ticket_no not in text


def test_audit_events_newest_first_and_paged(province, app_ctx, app, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 3)
    inst = make_institution(name="日志测试机构")
    other = make_institution(name="别的机构")
    start = utcnow() - timedelta(hours=10)
    for n in range(5):
        db.session.add(
            AuditLog(
                actor_name="sheng",
                action="user.disable",
                target_type="User",
                target_id=str(inst.id),
                target_name=f"第{n}条",
                institution_id=inst.institution.id,
                summary=f"摘要{n}",
                created_at=start + timedelta(hours=n),
            )
        )
    db.session.add(
        AuditLog(actor_name="sheng", action="user.disable", institution_id=other.institution.id, summary="别人的")
    )
    db.session.commit()
    first = section(page(province.get(url(inst))), "audit")
    assert [td.get_text(strip=True) for td in first.select("tbody td:nth-of-type(6)")] == ["摘要4", "摘要3", "摘要2"]
    assert "当前显示第 1 页 共 5 条记录" in text_of(first)
    second = section(page(province.get(url(inst, page=2, year=local_today().year))), "audit")
    assert [td.get_text(strip=True) for td in second.select("tbody td:nth-of-type(6)")] == ["摘要1", "摘要0"]
    assert "别人的" not in text_of(second)
    prev = second.find("a", rel="prev")["href"]
    assert prev.startswith(f"/admin/institutions/{inst.institution.id}?") and f"year={local_today().year}" in prev
    assert "停用帐户" in text_of(first)  # the action's label, not its code


def test_account_and_basic_data(province, app_ctx):
    inst = make_institution(name="资料测试机构", email="info@example.com")
    soup = page(province.get(url(inst)))
    basic = text_of(section(soup, "basic"))
    assert "资料测试机构" in basic and inst.institution.uscc in basic and "info@example.com" in basic
    account = section(soup, "account")
    assert inst.username in text_of(account)
    assert account.find("a", string="帐户详情")["href"] == f"/admin/users/{inst.id}"


def test_other_roles_are_refused(app, app_ctx):
    inst = make_institution()
    for user in (inst, make_enterprise()):
        client = signed_in(app.test_client(), user)
        assert client.get(url(inst)).status_code == 403
    assert "/auth/login" in app.test_client().get(url(inst)).headers["Location"]


def test_a_module_adds_its_section_through_its_declaration(province, app_ctx, app, monkeypatch):
    from app.modules import AdminSection

    seen = []

    def provider(institution, *, viewer, args):
        seen.append((institution.id, viewer.role, args.get("year")))
        context = {"rows": [], "empty": "来自测试模块的内容"}
        return [AdminSection("extra", "测试模块", "filings/_partials/_institution_filings.html", context)]

    with_module(app, monkeypatch, admin_institution_sections=(provider,))
    inst = make_institution()
    soup = page(province.get(url(inst, year=2025)))
    assert seen == [(inst.institution.id, "province_admin", "2025")]
    assert "来自测试模块的内容" in text_of(section(soup, "extra"))
    # in the modules' order, after those of the app's own modules; listed in the page's contents
    keys = [s["id"] for s in soup.find_all("section", id=True)]
    assert keys.index("section-extra") == keys.index("section-awards") + 1
    assert soup.find("nav", class_="section-nav").find("a", href="#section-extra").get_text() == "测试模块"


def test_query_count_is_bounded_and_does_not_grow(province, app_ctx, reporting, past_year):
    """At most 10 statements (the session, the menu's unread count and the cache tokens included;
    SQLite's BEGIN is not a query), however many filings, complaints, reminders and log lines."""
    from tests.awards.conftest import make_nomination

    inst, _, rounds = reporting
    path = url(inst, year=past_year)
    name, institution_id = inst.institution.name, inst.institution.id
    statements = []

    def counter(_conn, _cursor, statement, *args):
        if not statement.lstrip().upper().startswith("BEGIN"):
            statements.append(statement)

    def queries():
        db.session.commit()  # the requests share the test's session: start each from the same state
        statements.clear()
        page(province.get(path))
        return len(statements)

    queries()  # warm caches (region names, reference data)
    sa.event.listen(db.engine, "before_cursor_execute", counter)
    try:
        few = queries()
        award_round = make_round("award", title="评选")
        application_round = make_round("application", title="申报")
        for n in range(3):
            make_nomination("product", inst.id, award_round.id, product_name=f"产品{n}")
            make_complaint(respondent_name=name)
            db.session.add(AuditLog(actor_name="sheng", action="user.enable", institution_id=institution_id))
        db.session.add(
            CoreApplication(
                owner_id=inst.id,
                institution_id=institution_id,
                round_id=application_round.id,
                city_code="430100",
                status=workflow.SUBMITTED,
            )
        )
        for month in (6, 7):
            db.session.add(
                ReportReminder(round_id=rounds[month].id, institution_id=institution_id, sender_level="province")
            )
        db.session.add(Recognition(institution_id=institution_id, term_start=past_year + 1, term_end=past_year + 4))
        db.session.commit()
        for month in (5, 6):
            make_report(inst.id, rounds[month].id, status=workflow.APPROVED)
        many = queries()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", counter)
    assert many == few, statements
    assert few <= 10, statements


def test_months_before_the_recognition_took_effect_need_no_report(province, app_ctx, past_year):
    inst = make_institution(name="年中认定机构")
    inst.institution.created_at = datetime(past_year - 1, 1, 1)
    db.session.add(
        Recognition(
            institution_id=inst.institution.id,
            term_start=past_year,
            term_end=past_year + 3,
            effective_on=date(past_year, 6, 15),
        )
    )
    db.session.commit()
    _, cells = grid_cells(page(province.get(url(inst, year=past_year))))
    assert [cell_status(c) for c in cells] == ["不需报送"] * 5 + ["未报送"] * 7
    recognitions = text_of(section(page(province.get(url(inst))), "recognitions"))
    assert f"{past_year}-06-15" in recognitions and "直接认定或名单导入" in recognitions


def test_linked_from_the_pages_that_name_the_institution(app, app_ctx, province, province_admin):
    from app.audit import audit
    from app.blueprints.reports.models import ReportReopenRequest

    inst = make_institution(name="链接测试机构")
    target = f"/admin/institutions/{inst.institution.id}"
    hrefs = lambda soup: {a["href"] for a in soup.find_all("a", href=True)}  # noqa: E731
    assert target in hrefs(page(province.get(f"/admin/users/{inst.id}")))  # 帐户详情
    assert target in hrefs(page(province.get("/admin/users?role=institution")))  # 用户管理
    audit("user.disable", summary="停用", target=inst, actor=province_admin)
    db.session.commit()
    assert target in hrefs(page(province.get("/admin/audit")))  # 操作日志's 机构 column
    report_round = make_round("report", year=local_today().year - 1, month=3, title="补报测试调度期")
    db.session.add(
        ReportReopenRequest(
            institution_id=inst.institution.id,
            round_id=report_round.id,
            city_code="430100",
            reason="系统故障",
            requested_by_id=inst.id,
        )
    )
    application = CoreApplication(
        owner_id=inst.id,
        institution_id=inst.institution.id,
        round_id=make_round("application").id,
        city_code="430100",
        status=workflow.SUBMITTED,
        submitted_at=utcnow(),
    )
    db.session.add(application)
    db.session.commit()
    assert target in hrefs(page(province.get("/reports/reopen-requests?status=all")))  # 补报申请
    assert target in hrefs(page(province.get(f"/applications/{application.id}")))  # 查看 of a filing
    city = signed_in(app.test_client(), make_city_admin("430100"))
    assert target in hrefs(page(city.get("/applications/review")))  # a review queue's 机构名称
    owner = signed_in(app.test_client(), inst)
    assert target not in hrefs(page(owner.get(f"/applications/{application.id}")))  # not for the owner


def test_a_complaint_links_to_the_institution_it_names(app, app_ctx, province):
    inst = make_institution(name="投诉链接机构")
    named = make_complaint(respondent_name="投诉链接机构", assigned_city_code="430200", status="transferred")
    unknown = make_complaint(respondent_name="名单外的单位")
    target = f"/admin/institutions/{inst.institution.id}"
    soup = page(province.get(f"/complaints/admin/{named.id}"))
    assert soup.find("a", href=target, string="机构详情")
    assert page(province.get(f"/complaints/admin/{unknown.id}")).find("a", string="机构详情") is None
    # the 株洲市 admin handles it, but the institution is 长沙市's: no link to a page it cannot open
    zhuzhou = signed_in(app.test_client(), make_city_admin("430200"))
    assert page(zhuzhou.get(f"/complaints/admin/{named.id}")).find("a", href=target) is None
