"""优秀评选 exports: what nominees typed stays text, never a formula (issue 13 item 2)."""

from app.extensions import db
from tests.awards.conftest import make_nomination
from tests.helpers import login
from tests.jobs_queue import queue_export
from tests.spreadsheet_checks import NASTY, cells, formulas_in


def test_the_export_writes_formulas_as_plain_text(client, app, people):
    with app.app_context():
        make_nomination("product", people.institution.id, people.round_id, product_name=NASTY[0], charge_mode="+1+1")
        make_nomination("institution", people.institution.id, people.round_id, intro="=1+1\x0b简介")
        db.session.remove()
    login(client, people.province.username)
    products = queue_export(client, "/awards/products/export.xlsx")
    assert products.status_code == 200 and formulas_in(products.data) == []
    assert cells(products.data)[NASTY[0]] == "s" and cells(products.data)["+1+1"] == "s"
    institutions = queue_export(client, "/awards/institutions/export.xlsx")
    assert institutions.status_code == 200 and formulas_in(institutions.data) == []
    assert cells(institutions.data)["=1+1简介"] == "s"
