"""The review queues' 导出Excel as a job (issue 15 item 1): the request only starts it (303 to the
job's page, no workbook written in it), the job writes the workbook the synchronous download
wrote (same cells, same order), in the requester's scope; a repeat lands on the same job; only the
requester opens its file."""

import io
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from app.blueprints.applications.models import CoreApplication
from app.blueprints.applications.wizard import wizard as application_wizard
from app.blueprints.auth.models import User
from app.blueprints.reports import export as report_export
from app.blueprints.reports.models import MonthlyReport
from app.blueprints.reports.wizard import wizard as report_wizard
from app.extensions import db
from app.filings import export as engine_export
from app.filings import services as engine
from app.jobs import DONE, QUEUED, Job
from app.spreadsheets import xlsx_workbook
from tests.factories import make_city_admin, make_institution, make_province_admin, make_round
from tests.helpers import login, page, text_of
from tests.jobs_queue import export_form, job_id_of, queue_export
from tests.reports.conftest import make_report, report_round


@pytest.fixture
def filings(app):
    """Reports of two months and 核心服务机构申报 of 长沙 and 株洲 institutions in several states; the admins."""
    with app.app_context():
        people = [
            make_institution(name="长沙甲机构", city_code="430100", county_code="430102"),
            make_institution(name="长沙乙机构", city_code="430100", county_code="430103"),
            make_institution(name="株洲丙机构", city_code="430200", county_code="430202"),
        ]
        feb, mar = report_round(2025, 2).id, report_round(2025, 3).id
        states = {0: ("approved", "submitted"), 1: ("returned", "approved"), 2: ("approved", "approved")}
        for n, owner in enumerate(people):
            for round_id, status in zip((feb, mar), states[n]):
                make_report(
                    owner.id, round_id, status=status, late=n == 1, revenue=100 + n, categories={"政策服务": (n, 2, 3)}
                )
        round_id = make_round("application", title="2025年核心服务机构申报").id
        for owner, status in zip(people, ("submitted", "city_approved", "submitted")):
            db.session.add(
                CoreApplication(
                    owner_id=owner.id,
                    institution_id=owner.institution.id,
                    round_id=round_id,
                    city_code=owner.institution.city_code,
                    status=status,
                    steps_done=["basic", "operations"],
                    total_assets=1000 + len(owner.institution.name),
                )
            )
        db.session.commit()
        return SimpleNamespace(
            feb=feb,
            province=make_province_admin().username,
            other_province=make_province_admin().username,
            city=make_city_admin("430100").username,
            zhuzhou=make_city_admin("430200").username,
            other_city=make_city_admin("430100").username,
        )


def _cells(data):
    return [list(row) for row in load_workbook(io.BytesIO(data), read_only=True).active.iter_rows(values_only=True)]


def _synchronous(app, username, write):
    """What the download in the request wrote (the views before the job): ``write(out, user)``."""
    out = io.BytesIO()
    with app.test_request_context():
        write(out, db.session.scalar(sa.select(User).where(User.username == username)))
        db.session.remove()
    return _cells(out.getvalue())


def _report_queue(out, user, *, round_id=None, period=None, **filters):
    """调度数据审核's former export_view: the queue select's ids, in the 调度数据导出 columns."""
    filters = dict(round_id=round_id, city_code=None, status=None, keyword=None, type_id=None, late=None) | filters
    shown = engine.queue_select(wizard=report_wizard, user=user, columns=[MonthlyReport.id], **filters).order_by(None)
    report_export.export_write(out, user=user, ids=shown, **(period or dict(year=None, month_from=1, month_to=12)))


def test_the_report_queue_job_writes_what_the_request_wrote(client, app, filings):
    login(client, filings.province)
    # 调度数据审核 filtered: 长沙, 已通过, 按时报送, by name
    soup = page(client.get("/reports/review?status=approved&city_code=430100&late=0&sort=name&dir=asc"))
    response = queue_export(client, soup=soup)
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    got = _cells(response.data)
    want = _synchronous(
        app,
        filings.province,
        lambda out, user: _report_queue(
            out, user, city_code="430100", status="approved", late=False, sort="name", descending=False
        ),
    )
    assert got == want
    assert [row[3] for row in got[1:]] == ["长沙甲机构"]  # 乙's approved March report was late
    assert "政策服务活动数(场次)" in got[0] and got[0][-7:] == list(report_export.TAIL_COLUMNS)
    # one 调度期 and 全部 审核状态 (the case that took 20 s in the request at province scale)
    got = _cells(queue_export(client, f"/reports/export.xlsx?round_id={filings.feb}&status=").data)
    want = _synchronous(
        app,
        filings.province,
        lambda out, user: _report_queue(
            out, user, round_id=filings.feb, period=dict(year=2025, month_from=2, month_to=2)
        ),
    )
    assert got == want and len(got) == 1 + 3


def test_the_application_queue_job_writes_what_the_request_wrote(client, app, filings):
    login(client, filings.province)
    got = _cells(queue_export(client, soup=page(client.get("/applications/review?status=&sort=name&dir=desc"))).data)

    def write(out, user):
        filters = dict(round_id=None, city_code=None, status=None, keyword=None, type_id=None, late=None)
        engine_export.export_filings(
            out, wizard=application_wizard, user=user, filters={**filters, "sort": "name", "descending": True}
        )

    assert got == _synchronous(app, filings.province, write)
    assert sorted(row[2] for row in got[1:]) == sorted(["株洲丙机构", "长沙乙机构", "长沙甲机构"])
    assets = {row[2]: row[got[0].index("总资产(万元)")] for row in got[1:]}
    assert assets["长沙甲机构"] == 1005


def test_the_request_starts_the_job_and_writes_no_workbook(client, app, filings, held, monkeypatch):
    written = []

    def recording(out, **options):
        written.append(out)
        return xlsx_workbook(out, **options)

    monkeypatch.setattr(engine_export, "xlsx_workbook", recording)
    monkeypatch.setattr(report_export, "xlsx_workbook", recording)
    login(client, filings.province)
    for queue in ("/reports/review?status=", "/applications/review?status="):
        action, data = export_form(page(client.get(queue)))
        response = client.post(action, data=data)
        job_id = job_id_of(response)  # 303 to /jobs/<id>
        assert written == []  # nothing written in the request: the job waits for a worker
        with app.app_context():
            job = db.session.get(Job, job_id)
            assert (job.kind, job.status, job.requester_id) == ("filings.export", QUEUED, _id(filings.province))
            assert job.params["filters"]["status"] is None  # 全部, carried to the job
        soup = page(client.get(f"/jobs/{job_id}"))
        assert "排队中" in text_of(soup) and f"/jobs/{job_id}/download" not in str(soup)
        assert held() == 1 and len(written) == 1
        written.clear()
        soup = page(client.get(f"/jobs/{job_id}"))
        assert "已完成" in text_of(soup) and soup.find("a", href=f"/jobs/{job_id}/download") is not None
        assert soup.find("a", string="返回")["href"].startswith(queue.split("?")[0])


def test_the_get_link_asks_first_and_works_without_javascript(client, app, filings):
    login(client, filings.province)
    soup = page(client.get("/applications/export.xlsx?status=submitted&city_code=430200"))
    assert "导出Excel" in text_of(soup) and "待初审" in text_of(soup) and "株洲市" in text_of(soup)
    action, data = export_form(soup)
    assert action == "/applications/export.xlsx?status=submitted&city_code=430200" and data["token"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Job.id))) == 0  # a GET starts nothing
    assert client.post(action, data={}).status_code == 303  # (CSRF is off in tests; the form carries it)
    rows = _cells(queue_export(client, "/applications/export.xlsx?status=submitted&city_code=430200").data)
    assert [row[2] for row in rows[1:]] == ["株洲丙机构"]


def test_a_city_admins_job_holds_only_its_city(client, app, filings):
    login(client, filings.city)
    # even asked for another 市州 in the query: the job's select is the requester's scope
    rows = _cells(queue_export(client, "/reports/export.xlsx?status=&city_code=430200").data)
    assert len(rows) == 1 + 4 and {row[5] for row in rows[1:]} == {"长沙市"}
    rows = _cells(queue_export(client, "/applications/export.xlsx?status=").data)
    assert sorted(row[2] for row in rows[1:]) == ["长沙乙机构", "长沙甲机构"]
    assert {row[4] for row in rows[1:]} == {"长沙市"}


def _id(username):
    return db.session.scalar(sa.select(User.id).where(User.username == username))


def test_only_the_requester_opens_the_job_and_its_file(client, app, filings):
    login(client, filings.city)
    response = queue_export(client, "/reports/export.xlsx?status=")
    assert response.status_code == 200
    with app.app_context():
        job_id = db.session.scalar(sa.select(Job.id).where(Job.kind == "filings.export"))
        assert db.session.get(Job, job_id).status == DONE
    for other in (filings.province, filings.other_province, filings.zhuzhou, filings.other_city):
        visitor = app.test_client()
        login(visitor, other)
        assert visitor.get(f"/jobs/{job_id}").status_code == 404
        assert visitor.get(f"/jobs/{job_id}/download").status_code == 404
        assert f'/jobs/{job_id}"' not in visitor.get("/jobs/").get_data(as_text=True)  # not in 后台任务 either
    assert f'/jobs/{job_id}"' in client.get("/jobs/").get_data(as_text=True)
    # moved to another 市州 since: the file (长沙's rows) is no longer its to open
    with app.app_context():
        db.session.get(User, _id(filings.city)).city_code = "430200"
        db.session.commit()
    assert client.get(f"/jobs/{job_id}/download").status_code == 404


def test_a_repeated_request_lands_on_the_same_job(client, app, filings, held):
    login(client, filings.province)
    action, data = export_form(page(client.get("/reports/review?status=approved")))
    first = job_id_of(client.post(action, data=data))
    assert job_id_of(client.post(action, data=data)) == first  # a double click: the same form again
    again = export_form(page(client.get("/reports/review?status=approved")))  # a second tab, while it runs
    assert again[1]["token"] != data["token"] and job_id_of(client.post(again[0], data=again[1])) == first
    confirm = export_form(page(client.get(action)))  # the GET link's page, while it runs
    assert job_id_of(client.post(confirm[0], data=confirm[1])) == first
    other = export_form(page(client.get("/reports/review?status=returned")))  # other filters: another job
    assert job_id_of(client.post(other[0], data=other[1])) != first
    assert held() == 2
    assert job_id_of(client.post(action, data=data)) == first  # a retry of the first form, done
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Job.id))) == 2
        assert db.session.get(Job, first).status == DONE
