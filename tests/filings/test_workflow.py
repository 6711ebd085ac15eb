"""The status machine: transitions, guards and who may act."""

from types import SimpleNamespace

import pytest

from app.filings import workflow

TWO = ("city", "province")
ONE = ("city",)


def filing(status, city="430100", owner=1):
    return SimpleNamespace(status=status, city_code=city, owner_id=owner)


def user(role, id=9, city=None):
    return SimpleNamespace(role=role, id=id, city_code=city)


OWNER = user("institution", id=1)
CITY = user("city_admin", city="430100")
OTHER_CITY = user("city_admin", city="430200")
PROVINCE = user("province_admin")


def names(f, u, levels=TWO):
    return {t.name for t in workflow.available(f, u, levels)}


def test_owner_submits_drafts_and_returned_filings_and_withdraws_untouched_ones():
    assert names(filing("draft"), OWNER) == {"submit"}
    assert names(filing("returned"), OWNER) == {"submit"}
    assert names(filing("submitted"), OWNER) == {"withdraw"}
    assert names(filing("city_approved"), OWNER) == set()
    assert names(filing("approved"), OWNER) == set()
    assert names(filing("draft"), user("institution", id=2)) == set()


def test_city_level_acts_only_on_its_own_city_and_only_once():
    assert names(filing("submitted"), CITY) == {"city_approve", "city_return"}
    assert names(filing("submitted"), OTHER_CITY) == set()
    assert names(filing("city_approved"), CITY) == set()
    assert names(filing("submitted"), PROVINCE) == set()  # two levels: the province waits for the city


def test_province_decides_after_the_city():
    assert names(filing("city_approved"), PROVINCE) == {"province_approve", "province_return", "province_reject"}
    assert names(filing("approved"), PROVINCE) == set()
    assert names(filing("rejected"), PROVINCE) == set()


def test_one_level_makes_the_city_final_and_lets_the_province_act():
    assert names(filing("submitted"), CITY, ONE) == {"approve", "return"}
    assert names(filing("submitted"), PROVINCE, ONE) == {"approve", "return"}
    approve = workflow.find(ONE, "approve")
    assert approve.target == workflow.APPROVED


def test_returns_and_rejections_need_a_comment():
    for name in ("city_return", "province_return", "province_reject"):
        assert workflow.find(TWO, name).needs_comment
    assert not workflow.find(TWO, "city_approve").needs_comment
    with pytest.raises(workflow.TransitionError):
        workflow.find(TWO, "approve")
