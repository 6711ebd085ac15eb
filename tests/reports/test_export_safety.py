"""调度数据 exports (the XlsxWriter .xlsx, 工作总结 and 季度通报 .docx) carry what institutions typed:
a leading "=" stays text and a control character cannot break the file (issue 13 items 2 and 3)."""

import io

import sqlalchemy as sa
from docx import Document

from app.blueprints.auth.models import Institution
from app.blueprints.reports.models import MonthlyReport
from app.extensions import db
from tests.helpers import login
from tests.jobs_queue import queue_export, start_and_download
from tests.reports.conftest import make_report, report_round
from tests.reports.test_flow import new_report
from tests.reports.test_stats import _fixture
from tests.spreadsheet_checks import NASTY, cells, formulas_in


def _rename(app, user_id, name):
    with app.app_context():
        db.session.scalar(sa.select(Institution).where(Institution.user_id == user_id)).name = name
        db.session.commit()


def test_the_export_writes_formulas_and_control_characters_as_plain_text(client, app, people):
    with app.app_context():
        feb = report_round(2025, 2).id
        make_report(people.institution.id, feb, anomaly_note="-1+1\x0b人员变动", site_type="=2+3")
    _rename(app, people.institution.id, NASTY[0])
    login(client, people.province.username)
    response = queue_export(client, "/reports/export.xlsx?year=2025")
    assert response.status_code == 200
    assert formulas_in(response.data) == []
    found = cells(response.data)
    assert found[NASTY[0]] == "s" and found["=2+3"] == "s" and found["-1+1人员变动"] == "s"
    assert found[100] == "n"  # 营业收入 stays a number


def test_work_summary_and_bulletin_survive_control_characters(client, app, people):
    _fixture(app, people)
    _rename(app, people.institution.id, "长沙\x0b调度测试\x01机构")
    login(client, people.province.username)
    response = start_and_download(client, "/reports/bulletin/docx", {"year": 2025, "quarter": 1})
    assert response.status_code == 200
    document = Document(io.BytesIO(response.data))
    assert "长沙调度测试机构" in [cell.text for table in document.tables for row in table.rows for cell in row.cells]

    login(client, people.institution.username)
    report_id = new_report(client)
    with app.app_context():
        assert db.session.get(MonthlyReport, report_id) is not None
    response = client.get(f"/reports/{report_id}/work-summary.docx")
    assert response.status_code == 200
    assert "机构名称：长沙调度测试机构" in [p.text for p in Document(io.BytesIO(response.data)).paragraphs]
