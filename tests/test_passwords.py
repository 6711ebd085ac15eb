"""The password policy (app/passwords.py): rules, and the 100,000-entry common-password list."""

import pytest

from app.passwords import COMMON_LISTS, common_passwords, password_problem

COMMON = "该密码过于常见，容易被猜中，请换一个。"


def _big_list():
    return COMMON_LISTS[0].read_text(encoding="utf-8").splitlines()


def test_the_list_has_at_least_100000_entries():
    assert len(_big_list()) >= 100_000


def test_a_password_from_deep_in_the_list_is_refused():
    entries = _big_list()
    # entry 89,998 of the list (most common first); it has letters and digits, so only the list refuses it
    assert entries[89_997] == "angel234"
    assert password_problem("angel234") == COMMON


@pytest.mark.parametrize("password", ["ANGEL234", "Aryan123", "1Q2W3E4R5T", "a5201314"])
def test_lookups_ignore_case(password):
    assert password_problem(password) == COMMON


def test_the_local_list_still_counts():
    assert "5201314a" in common_passwords()


def test_a_strong_password_is_accepted():
    assert password_problem("Hn7-qJx2#Lw9") is None


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("ab1", "密码至少 8 位。"),
        ("a1" * 33, "密码不能超过 64 位。"),
        ("abcdefghij", "密码须同时包含字母和数字。"),
        ("1234567890", "密码须同时包含字母和数字。"),
    ],
)
def test_the_other_rules_hold(password, problem):
    assert password_problem(password) == problem


def test_a_password_containing_the_username_is_refused():
    assert password_problem("zhangsan-Hn7q", username="ZhangSan") == "密码不能包含帐户名称。"


def test_the_set_is_built_once_and_holds_only_what_the_rules_let_through():
    assert common_passwords() is common_passwords()
    assert "123456" not in common_passwords()  # refused by the length rule before the list is read
    assert all(8 <= len(entry) <= 64 for entry in common_passwords())
