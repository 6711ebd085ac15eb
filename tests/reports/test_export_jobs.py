"""调度数据导出 and 季度通报 as jobs, through the pages: start → progress → download, without
JavaScript (a refreshing page with a 刷新 link) and with htmx (a fragment polled every 2 s);
a double click lands on the same job; only the requester and admins of the same scope see it."""

import io
import re

from openpyxl import load_workbook

from app.extensions import db
from app.jobs import Job
from tests.concurrency import Visitor, at_once
from tests.factories import make_city_admin, make_province_admin
from tests.helpers import login, page, text_of
from tests.jobs_queue import job_id_of
from tests.reports.test_stats import _fixture

HX = {"HX-Request": "true"}


def _form(client):
    soup = page(client.get("/reports/exports"))
    form = soup.find("form", action="/reports/exports")
    assert form is not None and form["method"] == "post"
    return {tag["name"]: tag.get("value", "") for tag in form.find_all("input", type="hidden")}


def test_an_export_job_from_start_to_download_without_javascript(client, app, people, held):
    _fixture(app, people)
    login(client, people.province.username)
    data = {**_form(client), "year": "2025", "month_from": "1", "month_to": "12", "city_code": "", "status": ""}
    job_id = job_id_of(client.post("/reports/exports", data=data))

    soup = page(client.get(f"/jobs/{job_id}"))  # queued: the page refreshes itself, and says so
    text = text_of(soup)
    assert "排队中" in text and "刷新" in text and f"/jobs/{job_id}/download" not in str(soup)
    assert soup.find("noscript").find("meta", attrs={"http-equiv": "refresh"})["content"] == "2"
    assert soup.find("a", string="刷新")["href"] == f"/jobs/{job_id}"
    fragment = page(client.get(f"/jobs/{job_id}", headers=HX), fragment=True)
    polled = fragment.find(id="job-progress")
    assert polled["hx-trigger"] == "every 2s" and polled["hx-get"] == f"/jobs/{job_id}"
    assert client.get(f"/jobs/{job_id}/download").status_code == 404  # not ready yet

    assert held() == 1
    soup = page(client.get(f"/jobs/{job_id}"))
    assert "已完成" in text_of(soup) and soup.find("noscript") is None
    link = soup.find("a", href=f"/jobs/{job_id}/download")
    assert link is not None and "核心服务机构调度数据_2025年1-12月" in link.text
    assert "hx-trigger" not in str(page(client.get(f"/jobs/{job_id}", headers=HX), fragment=True))

    response = client.get(link["href"])
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet.max_row == 1 + 5  # the header and the five reports of 2025 past draft
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert (job.done, job.total, job.attempts) == (5, 5, 1)
    assert "调度数据导出（2025年1-12月）" in text_of(page(client.get("/reports/exports")))  # 最近的导出


def test_a_double_click_lands_on_the_same_job(client, app, people, held):
    _fixture(app, people)
    login(client, people.province.username)
    data = {**_form(client), "year": "2025", "month_from": "1", "month_to": "6"}
    first = job_id_of(client.post("/reports/exports", data=data))
    assert job_id_of(client.post("/reports/exports", data=data)) == first  # the same form again
    again = {**_form(client), "year": "2025", "month_from": "1", "month_to": "6"}
    assert job_id_of(client.post("/reports/exports", data=again)) == first  # a second tab, while it runs
    held()
    assert job_id_of(client.post("/reports/exports", data=data)) == first  # the form once more, done
    fresh = job_id_of(client.post("/reports/exports", data={**_form(client), "year": "2025", "month_to": "6"}))
    assert fresh != first  # a new form after the job finished: a new export
    with app.app_context():
        assert db.session.query(Job).count() == 2


def test_two_posts_at_once_start_one_job(app, people, held, live_server):
    _fixture(app, people)
    visitor = Visitor(live_server).log_in(people.province.username)
    data = {"year": "2025", "month_from": "1", "month_to": "12"}
    responses = at_once(*(lambda: visitor.post("/reports/exports", data) for _ in range(3)))
    assert {r.status_code for r in responses} == {303}
    assert len({r.headers["Location"] for r in responses}) == 1
    with app.app_context():
        assert db.session.query(Job).count() == 1


def test_who_may_see_a_job_and_its_file(client, app, people):
    _fixture(app, people)
    login(client, people.city.username)  # 长沙's admin exports its own 市州
    job_id = job_id_of(client.post("/reports/exports", data={"year": "2025"}))
    assert client.get(f"/jobs/{job_id}/download").status_code == 200
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert job.scope == "city:430100" and job.params["city_code"] == "430100"
        colleague = make_city_admin("430100").username
        other_city = make_city_admin("430200").username
        province = make_province_admin().username
    for username, status in ((colleague, 200), (other_city, 404), (province, 404), (people.institution.username, 403)):
        login(client, username)
        assert client.get(f"/jobs/{job_id}").status_code == status, username
        assert client.get(f"/jobs/{job_id}/download").status_code == status, username
    login(client, other_city)
    assert f"/jobs/{job_id}" not in client.get("/jobs/").get_data(as_text=True)


def test_the_bulletin_job_gives_the_docx(client, app, people):
    _fixture(app, people)
    login(client, people.province.username)
    soup = page(client.get("/reports/bulletin?year=2025&quarter=1"))
    form = soup.find("form", action="/reports/bulletin/docx")
    data = {tag["name"]: tag["value"] for tag in form.find_all("input", type="hidden")}
    job_id = job_id_of(client.post("/reports/bulletin/docx", data=data))
    soup = page(client.get(f"/jobs/{job_id}"))
    assert "通报已生成" in text_of(soup)
    response = client.get(f"/jobs/{job_id}/download")
    assert response.status_code == 200 and re.search(r"\.docx$", response.headers["Content-Disposition"])
    assert client.post("/reports/bulletin/docx", data={"year": "2025", "quarter": "5"}).status_code == 404
