"""Reports of both 机构类型 in two 市州 over 2025 for the export tests (the ``data`` fixture)."""

from datetime import date

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.reference.models import InstitutionType
from tests.factories import make_institution
from tests.reports.conftest import make_report, recognise, report_round
from tests.spreadsheet_checks import NASTY

NASTY_NAME = NASTY[0]  # =HYPERLINK(...): an institution's name is what it typed


def _type(name):
    return db.session.scalar(sa.select(InstitutionType.id).where(InstitutionType.name == name))


@pytest.fixture(name="data")
def export_data(app, people):
    """2025 January to March (closed) and December 2024: four institutions of both 机构类型 in two 市州;
    one submitted and one draft report that do not count."""
    with app.app_context():
        general, special = _type("综合服务机构"), _type("专业服务机构")
        jan = report_round(2025, 1, opens_on=date(2025, 2, 1), closes_on=date(2025, 2, 10)).id
        feb = report_round(2025, 2, opens_on=date(2025, 3, 1), closes_on=date(2025, 3, 10)).id
        mar = report_round(2025, 3, opens_on=date(2025, 4, 1), closes_on=date(2025, 4, 10)).id
        dec = report_round(2024, 12, opens_on=date(2025, 1, 1), closes_on=date(2025, 1, 10)).id
        third = make_institution(name=NASTY_NAME, city_code="430100", county_code="430102")
        fourth = make_institution(name="株洲第二机构", city_code="430200", county_code="430202")
        for user in (third, fourth):
            recognise(user.institution.id, 2023, 2026)
        a, b, c, d = people.institution.id, people.other.id, third.id, fourth.id
        make_report(a, jan, institution_type_id=general, revenue=100, categories={"政策服务": (2, 20, 5)})
        make_report(a, feb, institution_type_id=general, revenue=120.5, categories={"政策服务": (4, 30, 6)})
        make_report(b, jan, institution_type_id=special, revenue=300, categories={"融资服务": (10, 50, 20)})
        make_report(b, feb, institution_type_id=special, status="submitted", categories={"融资服务": (99, 99, 99)})
        make_report(c, jan, institution_type_id=special, revenue=80.25, categories={"法律服务": (3, 3, 3)})
        make_report(c, feb, institution_type_id=special, revenue=1234.5, categories={"政策服务": (6, 12, 9)})
        make_report(c, mar, institution_type_id=special, status="draft", categories={"政策服务": (7, 7, 7)})
        make_report(d, feb, institution_type_id=general, revenue=55, categories={"法律服务": (1, 2, 1)})
        make_report(b, dec, institution_type_id=special, revenue=200, categories={"融资服务": (8, 8, 8)})
        return {"general": general, "special": special}
