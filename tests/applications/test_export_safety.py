"""Exports of 申报 carry what institutions typed: a leading "=" stays text, a control character
cannot break the file (issue 13 items 2 and 3)."""
import io

import sqlalchemy as sa
from docx import Document

from app.blueprints.auth.models import Institution
from app.extensions import db
from tests.applications.test_flow import ready_application
from tests.helpers import login
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
    response = province.get("/applications/export.xlsx")
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
