"""The engine's split: a declaration (Wizard), the module's Hooks, and services that own the rules the
views used to re-check (editable or not, what the review page offers, a dry run of 撤回)."""

import dataclasses
from types import SimpleNamespace

import pytest

from app.blueprints.applications.wizard import wizard as application_wizard
from app.blueprints.awards.wizard import institution_wizard
from app.filings import services, workflow
from app.filings.hooks import Hooks
from app.filings.views import FilingViews
from app.filings.wizard import Wizard


class PastDeadline(Hooks):
    def locked_message(self, wizard, filing):
        return "已过报送截止时间。"


OWNER = SimpleNamespace(id=1, role="institution", city_code="430100")
CITY = SimpleNamespace(id=7, role="city_admin", city_code="430100")
PROVINCE = SimpleNamespace(id=8, role="province_admin", city_code=None)


def filing(status):
    return SimpleNamespace(status=status, owner_id=1, city_code="430100", events=[])


def test_the_declaration_is_not_a_view_and_hooks_default_to_the_engine():
    assert not isinstance(application_wizard, FilingViews)
    assert not any(name.startswith("view_") for name in dir(Wizard))
    assert type(application_wizard.hooks).__name__ == "ApplicationHooks"
    assert Hooks().extra_checks(application_wizard, filing("draft")) == []
    # the engine's default key: one per owner and round, named by the kind
    user = SimpleNamespace(id=3, institution=SimpleNamespace(id=11))
    assert Hooks().unique_key(application_wizard, user=user, round=SimpleNamespace(id=5)) == "application:11:5"
    # the awards hooks key by the year, so a second 评选年度 in the same year is still a duplicate
    key = institution_wizard.hooks.unique_key(institution_wizard, user=user, round=SimpleNamespace(id=5, year=2026))
    assert key == "institution_nomination:i11:2026"


@pytest.mark.parametrize("status", [workflow.DRAFT, workflow.RETURNED])
def test_drafts_and_returned_filings_are_editable_unless_the_module_locks_them(status):
    services.filing_check_editable(application_wizard, filing(status))  # no error
    locked = dataclasses.replace(application_wizard, hooks=PastDeadline())
    with pytest.raises(services.NotEditable, match="已过报送截止时间") as refused:
        services.filing_check_editable(locked, filing(status))
    assert not refused.value.withdrawable


def test_a_submitted_filing_is_withdrawn_first_unless_locked():
    with pytest.raises(services.NotEditable) as refused:
        services.filing_check_editable(application_wizard, filing(workflow.SUBMITTED))
    assert refused.value.withdrawable
    locked = dataclasses.replace(application_wizard, hooks=PastDeadline())
    with pytest.raises(services.NotEditable) as refused:
        services.filing_check_editable(locked, filing(workflow.SUBMITTED))
    assert not refused.value.withdrawable and str(refused.value) == "已过报送截止时间。"


def test_a_decided_filing_says_its_status():
    with pytest.raises(services.NotEditable, match="该核心服务机构申报当前状态为“已认定”，不能修改") as refused:
        services.filing_check_editable(application_wizard, filing(workflow.APPROVED))
    assert not refused.value.withdrawable


def test_a_dry_run_checks_every_rule_and_changes_nothing():
    submitted = filing(workflow.SUBMITTED)
    transition = services.filing_transition(
        wizard=application_wizard, filing=submitted, action="withdraw", actor=OWNER, dry_run=True
    )
    assert transition.name == "withdraw" and submitted.status == workflow.SUBMITTED
    locked = dataclasses.replace(application_wizard, hooks=PastDeadline())
    with pytest.raises(services.FilingError, match="已过报送截止时间"):
        services.filing_transition(wizard=locked, filing=submitted, action="withdraw", actor=OWNER, dry_run=True)
    stranger = SimpleNamespace(id=2, role="institution", city_code="430100")
    with pytest.raises(services.FilingError):
        services.filing_transition(
            wizard=application_wizard, filing=submitted, action="withdraw", actor=stranger, dry_run=True
        )
    assert submitted.status == workflow.SUBMITTED


def test_the_review_page_offers_only_reviewer_decisions_the_module_does_not_keep():
    waiting = filing(workflow.CITY_APPROVED)
    offered = {t.name for t in services.review_actions(wizard=application_wizard, filing=waiting, user=PROVINCE)}
    assert offered == {"province_approve", "province_return", "province_reject"}
    # 入选 / 未入选 are made by publication only
    offered = {t.name for t in services.review_actions(wizard=institution_wizard, filing=waiting, user=PROVINCE)}
    assert offered == {"province_return"}
    assert services.review_actions(wizard=application_wizard, filing=filing(workflow.SUBMITTED), user=OWNER) == []


@pytest.mark.parametrize("action", ["province_approve", "province_reject", "withdraw", "submit"])
def test_the_review_decision_refuses_what_the_page_does_not_offer(action):
    waiting = filing(workflow.CITY_APPROVED)
    actor = OWNER if action in ("withdraw", "submit") else PROVINCE
    with pytest.raises(services.FilingError, match="当前状态下不能执行该操作"):
        services.filing_review(wizard=institution_wizard, filing=waiting, action=action, actor=actor)
    assert waiting.status == workflow.CITY_APPROVED


def test_a_recorded_action_no_longer_known_is_shown_as_it_is():
    assert application_wizard.event_label(SimpleNamespace(action="city_return")) == "退回"
    assert application_wizard.event_label(SimpleNamespace(action="decide")) == "decide"  # not a 500
