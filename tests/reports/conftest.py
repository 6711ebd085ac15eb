from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from app.blueprints.applications.models import Recognition
from app.blueprints.auth.models import User
from app.extensions import db
from app.reference.models import InstitutionType, ServiceCategory
from app.utils import local_today
from tests.factories import make_city_admin, make_institution, make_province_admin, make_round


def _who(user):
    return SimpleNamespace(
        id=user.id, username=user.username, institution_id=user.institution.id if user.institution else None
    )


def recognise(institution_id, start=None, end=None):
    year = local_today().year
    db.session.add(Recognition(institution_id=institution_id, term_start=start or year - 1, term_end=end or year + 2))
    db.session.commit()


def report_round(year, month, opens_on=None, closes_on=None):
    today = local_today()
    return make_round(
        "report",
        year=year,
        month=month,
        title=f"{year}年{month}月调度",
        opens_on=opens_on or today - timedelta(days=1),
        closes_on=closes_on or today + timedelta(days=10),
    )


def basic_data(type_id, **overrides):
    """A valid 基本信息 post; categories left blank unless given as cat<ID>_... keys."""
    data = {
        "institution_type_id": str(type_id),
        "floor_area": "500",
        "service_assets": "300.50",
        "site_type": "自有",
        "staff_count": "20",
        "bachelor_count": "12",
        "intermediate_count": "5",
        "revenue": "150.25",
        "service_expense": "80",
        "profit": "-10.5",
        "anomaly_note": "",
    }
    data.update(overrides)
    return data


def category_id(name):
    return db.session.scalar(sa.select(ServiceCategory.id).where(ServiceCategory.name == name))


@pytest.fixture
def people(app):
    """A recognised institution in 长沙市, an unrecognised one, one in 株洲市 (recognised), the admins,
    and the current month's open 调度期."""
    with app.app_context():
        today = local_today()
        round = report_round(today.year, today.month)
        inst = make_institution(name="长沙调度测试机构", city_code="430100", county_code="430102")
        other = make_institution(name="株洲调度测试机构", city_code="430200", county_code="430202")
        stranger = make_institution(name="未认定机构", city_code="430100", county_code="430102")
        recognise(inst.institution.id)
        recognise(other.institution.id)
        type_id = db.session.scalar(sa.select(InstitutionType.id).where(InstitutionType.name == "综合服务机构"))
        cats = dict(db.session.execute(sa.select(ServiceCategory.name, ServiceCategory.id)).all())
        return SimpleNamespace(
            round_id=round.id,
            year=today.year,
            month=today.month,
            type_id=type_id,
            cat=cats,
            data=lambda **overrides: basic_data(type_id, **overrides),
            institution=_who(inst),
            other=_who(other),
            stranger=_who(stranger),
            city=_who(make_city_admin("430100")),
            other_city=_who(make_city_admin("430200")),
            province=_who(make_province_admin()),
        )


def user(username):
    return db.session.scalar(sa.select(User).where(User.username == username))


def make_report(owner_id, round_id, *, status="approved", late=False, categories=None, **figures):
    """A report written straight to the database (as the engine would leave it), for stats tests.

    ``categories`` is {name: (activities, participants, served)}; other active categories get zeros.
    """
    from app.blueprints.reports.models import MonthlyReport, ReportActivity
    from app.filings.models import Round
    from app.reference.services import dict_items
    from app.utils import utcnow

    owner = db.session.get(User, owner_id)
    round = db.session.get(Round, round_id)
    categories = categories or {}
    values = dict(
        floor_area=100,
        service_assets=50,
        site_type="自有",
        staff_count=10,
        bachelor_count=5,
        intermediate_count=2,
        revenue=100,
        service_expense=60,
        profit=10,
    )
    values.update(figures)
    counted = status == "approved"
    report = MonthlyReport(
        owner_id=owner.id,
        institution_id=owner.institution.id,
        round_id=round.id,
        city_code=owner.institution.city_code,
        status=status,
        steps_done=["basic"],
        unique_key=f"report:{owner.institution.id}:{round.id}",
        year=round.year,
        month=round.month,
        submitted_at=utcnow(),
        first_submitted_at=utcnow() if status != "draft" else None,
        late=late,
        counted=counted,
        approved_at=utcnow() if counted else None,
        stats_city_code=owner.institution.city_code,
        stats_institution_id=owner.institution.id,
        **values,
    )
    for item in dict_items("service_category"):
        a, p, s = categories.get(item.name, (0, 0, 0))
        report.activities.append(
            ReportActivity(
                category_id=item.id,
                category_name=item.name,
                sort_order=item.sort_order,
                activities=a,
                participants=p,
                served=s,
            )
        )
    report.activities_total = sum(v[0] for v in categories.values())
    report.participants_total = sum(v[1] for v in categories.values())
    report.served_total = sum(v[2] for v in categories.values())
    db.session.add(report)
    db.session.flush()
    if counted:
        from app.blueprints.reports.stats import stats_add

        stats_add(report)  # as the approval does
    db.session.commit()
    return report.id
