from types import SimpleNamespace

import pytest

from tests.factories import make_city_admin, make_institution, make_province_admin, make_round

BASIC = {
    "registered_capital": "500.00",
    "total_assets": "1200.50",
    "facilities_value": "300",
    "equipment_count": "25",
    "floor_area": "800",
    "equipment_ratio": "12.5",
    "own_area_ratio": "60",
    "site_nature": "自有",
    "intro": "本机构成立于2010年，专注于为中小企业提供融资、管理咨询等服务。",
}
OPERATIONS = {"served_prev2": "120", "served_prev1": "150", "activities_prev2": "30", "activities_prev1": "36"}


def _who(user):
    return SimpleNamespace(id=user.id, username=user.username)


@pytest.fixture
def people(app):
    """An institution in 长沙市, one in 株洲市, their city admins and a province admin; an open 申报批次."""
    with app.app_context():
        round = make_round("application", year=2026)
        return SimpleNamespace(
            round_id=round.id,
            institution=_who(make_institution(name="长沙测试服务机构", city_code="430100", county_code="430102")),
            other_institution=_who(make_institution(name="株洲测试服务机构", city_code="430200", county_code="430202")),
            city=_who(make_city_admin("430100")),
            other_city=_who(make_city_admin("430200")),
            province=_who(make_province_admin()),
        )
