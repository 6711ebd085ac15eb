"""The status machine's button labels (the manual's words), level filtering and unknown actions
(mutation testing found these unchecked)."""

from types import SimpleNamespace

import pytest

from app.filings import workflow

TWO = ("city", "province")
ONE = ("city",)


def test_every_transition_carries_the_manuals_button_label():
    assert {t.name: t.label for t in workflow.transitions(ONE)} == {
        "submit": "提交",
        "withdraw": "撤回修改",
        "approve": "审核通过",
        "return": "退回",
    }
    assert {t.name: t.label for t in workflow.transitions(TWO)} == {
        "submit": "提交",
        "withdraw": "撤回修改",
        "city_approve": "初审通过",
        "city_return": "退回",
        "province_approve": "通过",
        "province_return": "退回",
        "province_reject": "不予通过",
    }


def test_only_the_transitions_of_the_asked_level_are_offered():
    filing = SimpleNamespace(status=workflow.SUBMITTED, city_code="430100", owner_id=1)
    owner_and_province = SimpleNamespace(
        role="province_admin", id=1, city_code=None
    )  # owns it and may act for the city
    assert {t.name for t in workflow.available(filing, owner_and_province, ONE)} == {"withdraw", "approve", "return"}
    assert {t.name for t in workflow.available(filing, owner_and_province, ONE, level="city")} == {"approve", "return"}
    assert {t.name for t in workflow.available(filing, owner_and_province, ONE, level="owner")} == {"withdraw"}


def test_an_unknown_level_or_action_is_nobodys():
    filing = SimpleNamespace(status=workflow.SUBMITTED, city_code="430100", owner_id=1)
    for role in ("institution", "city_admin", "province_admin"):
        assert workflow.may_act("panel", filing, SimpleNamespace(role=role, id=1, city_code="430100"), TWO) is False
    with pytest.raises(workflow.TransitionError) as error:
        workflow.find(TWO, "approve")  # a one-level action asked of a two-level module
    assert str(error.value) == "未知的操作。"
    assert workflow.find(ONE, "approve").target == workflow.APPROVED


def test_the_status_machine_is_the_one_in_design_md():
    """(name, from, to, level, needs a comment) for one and for two review levels."""
    D, S, C, A, R, X = (
        workflow.DRAFT,
        workflow.SUBMITTED,
        workflow.CITY_APPROVED,
        workflow.APPROVED,
        workflow.RETURNED,
        workflow.REJECTED,
    )

    def table(levels):
        return {(t.name, t.sources, t.target, t.level, t.needs_comment) for t in workflow.transitions(levels)}

    owner = {("submit", (D, R), S, "owner", False), ("withdraw", (S,), D, "owner", False)}
    assert table(ONE) == owner | {("approve", (S,), A, "city", False), ("return", (S,), R, "city", True)}
    assert table(TWO) == owner | {
        ("city_approve", (S,), C, "city", False),
        ("city_return", (S,), R, "city", True),
        ("province_approve", (C,), A, "province", False),
        ("province_return", (C,), R, "province", True),
        ("province_reject", (C,), X, "province", True),
    }
