"""Exports of 申报 carry what institutions typed: a leading "=" stays text, a control character
cannot break the file (issue 13 items 2 and 3)."""

import io

import sqlalchemy as sa
from docx import Document

from app.blueprints.auth.models import Institution
from app.extensions import db
from tests.applications.test_flow import ready_application
from tests.helpers import login
from tests.jobs_queue import queue_export
from tests.spreadsheet_checks import NASTY, cells, formulas_in

FORMULA = NASTY[0]


def _institution_typed(app, user_id, **values):
    with app.app_context():
        institution = db.session.scalar(sa.select(Institution).where(Institution.user_id == user_id))
        for key, value in values.items():
            setattr(institution, key, value)
        db.session.commit()


def test_the_export_writes_formulas_and_control_characters_as_plain_text(client, app, people):
    login(client, people.institution.username)
    filing_id = ready_application(client)
    assert client.post(f"/applications/{filing_id}/submit").status_code == 303
    # as stored before the forms cleaned input (or written by an import)
    _institution_typed(app, people.institution.id, contact=FORMULA, name="长沙\x0b测试服务机构", phone="@SUM(A1)")
    province = app.test_client()
    login(province, people.province.username)
    response = queue_export(province, "/applications/export.xlsx")
    assert response.status_code == 200
    assert formulas_in(response.data) == []
    found = cells(response.data)
    assert found[FORMULA] == "s" and found["@SUM(A1)"] == "s" and found["长沙测试服务机构"] == "s"


def test_templates_carry_the_name_without_breaking(client, app, people):
    login(client, people.institution.username)
    filing_id = ready_application(client)
    _institution_typed(app, people.institution.id, name="=1+1\x0b机构")
    staff = client.get(f"/applications/{filing_id}/templates/staff")
    assert staff.status_code == 200 and formulas_in(staff.data) == []
    assert cells(staff.data)["申报机构（盖章）：=1+1机构"] == "s"
    outline = client.get(f"/applications/{filing_id}/templates/outline")
    assert outline.status_code == 200
    assert "申报机构：=1+1机构" in [p.text for p in Document(io.BytesIO(outline.data)).paragraphs]


def test_a_step_saves_typed_text_without_control_characters(client, app, people):
    from app.blueprints.applications.models import CoreApplication
    from tests.applications.conftest import BASIC
    from tests.applications.test_flow import new_draft

    login(client, people.institution.username)
    filing_id = new_draft(client)
    typed = "本机构\x0b成立于2010年，\r\n专注于为中小企业提供融资、管理咨询等服务。"
    response = client.post(f"/applications/{filing_id}/step/basic", data=dict(BASIC, intro=typed))
    assert response.status_code == 303
    with app.app_context():
        assert (
            db.session.get(CoreApplication, filing_id).intro
            == "本机构成立于2010年，\n专注于为中小企业提供融资、管理咨询等服务。"
        )
    # a NUL byte is refused before any form sees it
    response = client.post(f"/applications/{filing_id}/step/basic", data=dict(BASIC, intro="简介\x00"))
    assert response.status_code == 400 and "请求无效" in response.get_data(as_text=True)
