"""调度数据导出 honours every filter its page offers (填报年度, 起始/截止月份, 市州, 机构类型, 审核状态;
issue 14, item 7): a filtered export holds exactly the reports an independent SQL query picks."""

import io

import sqlalchemy as sa
from openpyxl import load_workbook

from app.blueprints.auth.models import Institution
from app.blueprints.reports.models import MonthlyReport
from app.extensions import db
from app.jobs import Job
from tests.helpers import login, page
from tests.jobs_queue import job_id_of, start_and_download
from tests.reports.export_data import export_data  # noqa: F401  (the ``data`` fixture)


def _form(client):
    """The 调度数据导出 form as the page offers it: its hidden fields and each select's options."""
    soup = page(client.get("/reports/exports"))
    form = soup.find("form", action="/reports/exports")
    hidden = {tag["name"]: tag.get("value", "") for tag in form.find_all("input", type="hidden")}
    selects = {select["name"]: [o.get("value", "") for o in select.find_all("option")] for select in form("select")}
    return hidden, selects


def _exported(client, fields):
    response = start_and_download(client, "/reports/exports", fields)
    sheet = load_workbook(io.BytesIO(response.data)).active
    header = [c.value for c in sheet[1]]
    return sorted(
        (row[header.index("机构名称")], row[header.index("月份")])
        for row in sheet.iter_rows(min_row=2, values_only=True)
    )


def _expected(*, year, months, city=None, type_id=None, status=None):
    """Independent SQL: (机构名称, 月份) of the reports the filters pick (never a draft)."""
    criteria = [MonthlyReport.status != "draft", MonthlyReport.year == year, MonthlyReport.month.between(*months)]
    if city:
        criteria.append(MonthlyReport.city_code == city)
    if type_id:
        criteria.append(MonthlyReport.institution_type_id == type_id)
    if status:
        criteria.append(MonthlyReport.status == status)
    return sorted(
        db.session.execute(
            sa.select(Institution.name, MonthlyReport.month)
            .join(Institution, Institution.id == MonthlyReport.institution_id)
            .where(*criteria)
        ).all()
    )


def test_the_page_offers_every_filter(client, app, people, data):
    login(client, people.province.username)
    hidden, selects = _form(client)
    assert set(selects) == {"year", "month_from", "month_to", "city_code", "institution_type_id", "status"}
    assert selects["institution_type_id"] == ["", str(data["general"]), str(data["special"])]
    assert "draft" not in selects["status"]
    login(client, people.city.username)
    assert "city_code" not in _form(client)[1]  # a 市州 exports its own


def test_each_filtered_export_has_exactly_the_filtered_rows(client, app, people, data):
    login(client, people.province.username)
    cases = [
        dict(year=2025, months=(1, 12)),
        dict(year=2025, months=(1, 2), type_id=data["special"]),
        dict(year=2025, months=(2, 2), type_id=data["general"]),
        dict(year=2025, months=(1, 3), city="430100", type_id=data["special"]),
        dict(year=2025, months=(1, 2), type_id=data["special"], status="submitted"),
        dict(year=2025, months=(1, 2), city="430200", status="approved"),
    ]
    for case in cases:
        hidden, _ = _form(client)  # a new form each time: its token would land on the first job
        fields = {
            **hidden,
            "year": str(case["year"]),
            "month_from": str(case["months"][0]),
            "month_to": str(case["months"][1]),
            "city_code": case.get("city") or "",
            "institution_type_id": str(case.get("type_id") or ""),
            "status": case.get("status") or "",
        }
        with app.app_context():
            expected = _expected(**case)
        assert expected, case  # every case picks something
        assert _exported(client, fields) == expected, case
    with app.app_context():
        job = db.session.scalars(sa.select(Job).order_by(Job.id.desc())).first()
        assert job.title == "调度数据导出（2025年1-2月，株洲市，已通过）"
        # the first job of each 机构类型, in the order the cases ran (no ORDER BY: PostgreSQL returns
        # updated rows in any order)
        titles = {}
        for job in db.session.scalars(sa.select(Job).order_by(Job.id)):
            titles.setdefault(job.params["institution_type_id"], job.title)
        assert titles[data["special"]].startswith("调度数据导出（2025年1-2月，专业服务机构")


def test_a_city_admin_and_bad_choices(client, app, people, data):
    login(client, people.city.username)
    hidden, _ = _form(client)
    fields = {**hidden, "year": "2025", "city_code": "430200", "institution_type_id": str(data["special"])}
    with app.app_context():
        expected = _expected(year=2025, months=(1, 12), city="430100", type_id=data["special"])
    assert _exported(client, {**fields, "month_from": "1", "month_to": "12"}) == expected
    # an unknown 机构类型 or status, or draft, falls back to all (drafts never leave)
    login(client, people.province.username)
    hidden, _ = _form(client)
    fields = {**hidden, "year": "2025", "institution_type_id": "999999", "status": "draft", "month_from": "x"}
    with app.app_context():
        expected = _expected(year=2025, months=(1, 12))
    assert _exported(client, fields) == expected


def test_a_repeated_post_lands_on_the_same_job(client, app, people, data):
    login(client, people.province.username)
    hidden, _ = _form(client)
    fields = {**hidden, "year": "2025", "institution_type_id": str(data["general"])}
    first = job_id_of(client.post("/reports/exports", data=fields))
    assert job_id_of(client.post("/reports/exports", data=fields)) == first
